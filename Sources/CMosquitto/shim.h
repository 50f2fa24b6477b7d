// libmosquitto has no variadic functions: the headers are imported as they are.
#ifndef EMNIFY_EDGE_CMOSQUITTO_SHIM_H
#define EMNIFY_EDGE_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
