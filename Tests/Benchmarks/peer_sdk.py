"""Peer 2: a Python loop on emnify's official SDK (emnify-sdk) and paho-mqtt.

The SDK is used as its documentation shows: `devices.get_device_events_list(endpoint)` each
poll (it pages through the endpoint's whole event list; the SDK has no `since` filter),
events newer than the last one published go out at QoS 1 in id order. The SDK re-authenticates
on 401 and opens a new HTTPS connection per request (it calls `requests.get` without a session).
Environment: EMNIFY_SDK_API_ENDPOINT_URL REQUESTS_CA_BUNDLE EMNIFY_APPLICATION_TOKEN
ENDPOINT_ID BROKER_PORT TOPIC INTERVAL [POLLS]
"""

import os
import time

import paho.mqtt.client as mqtt
from emnify import EMnify


def main() -> None:
    emnify = EMnify(app_token=os.environ["EMNIFY_APPLICATION_TOKEN"])
    endpoint = int(os.environ["ENDPOINT_ID"])
    topic = os.environ["TOPIC"]
    interval = float(os.environ["INTERVAL"])
    polls = int(os.environ.get("POLLS") or 0)

    broker = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"sdk-peer-{os.getpid()}")
    broker.connect("127.0.0.1", int(os.environ["BROKER_PORT"]))
    broker.loop_start()

    last_id = 0
    done = 0
    while not polls or done < polls:
        try:
            fresh = sorted(
                (e for e in emnify.devices.get_device_events_list(endpoint) if e.id > last_id), key=lambda e: e.id
            )
            for event in fresh:
                broker.publish(topic, event.json(), qos=1).wait_for_publish()
                last_id = event.id
        except Exception as error:  # a loop like this logs and tries again next time
            print(f"poll failed: {error}", flush=True)
        done += 1
        time.sleep(interval)
    broker.loop_stop()


if __name__ == "__main__":
    main()
