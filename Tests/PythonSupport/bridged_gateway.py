"""A bridged gateway with the real parts, for the Python test drivers (Tests/Chaos/bridged.py, the
fleet benchmark): its own mosquitto (own port, own persistence directory) bridged to the fleet
cluster for its own SIM with the shipped template (firmware-config/mosquitto/emnify-bridge.conf.in)
through a `cellular_link.Link` that can be cut, a persistent QoS 1 subscriber recording what
arrives, and optionally an emnify-edge agent with `[agent] events = "bridge"`.

    gateway = Gateway("gw1", sim, workdir, cluster.mqtt_hosts())   # sim: an /_emulator/sims entry
    gateway.start_subscriber(); gateway.start_agent(binary, emulator_url, ca, token)
    gateway.link.cut(); gateway.link.restore(); gateway.stop()

Needs paho-mqtt (Debian's python3-paho-mqtt 1.6 or paho 2.x)."""

import json
import os
import re
import signal
import subprocess
import threading
import time

from cellular_link import Link
from waiting import die_with_parent, free_port, wait_for

import paho.mqtt.client as mqtt

REPOSITORY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TEMPLATE = os.path.join(REPOSITORY, "firmware-config", "mosquitto", "emnify-bridge.conf.in")


def mqtt_client(client_id, clean_session):
    """A paho 3.1.1 client under 1.x and 2.x alike (2.x wants the callback API version)."""
    if hasattr(mqtt, "CallbackAPIVersion"):
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=client_id, clean_session=clean_session,
                           protocol=mqtt.MQTTv311)
    return mqtt.Client(client_id=client_id, clean_session=clean_session, protocol=mqtt.MQTTv311)


def bridge_config(addresses, iccid, prefix="emnify", credentials="", restart_timeout=None):
    """The template with its @...@ fields filled in as `emnify-edge bridge-config` would, but without
    TLS (the cluster listens on loopback here). `restart_timeout` replaces the shipped "10 300" (a
    test cannot wait up to 5 minutes for the bridge's backoff after a cut)."""
    text = open(TEMPLATE).read()
    for field, value in (("@ADDRESSES@", " ".join(f"{h}:{p}" for h, p in addresses)), ("@ICCID@", iccid),
                         ("@PREFIX@", prefix), ("@CREDENTIALS@", credentials), ("@TLS@", "")):
        text = text.replace(field, value)
    if restart_timeout is not None:
        text, replaced = re.subn(r"(?m)^restart_timeout .*$", f"restart_timeout {restart_timeout}", text)
        if replaced != 1:
            raise RuntimeError("the bridge template has no restart_timeout line to replace")
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise RuntimeError(f"bridge template fields not filled in: {left}")
    return text


def wipe_cluster_session(hosts, iccid, timeout=30):
    """What the cluster does when the bridge's session expires: a clean-session connect under the
    bridge's client id drops the session (its subscriptions and queued messages), and the
    disconnect leaves none behind. Checked on both sides with a persistent connect's CONNACK
    (each followed by a clean one, which drops what the check left): the answer is whether a
    session was there before and after, `(True, False)` when the wipe worked. Only while the
    bridge is away: a second connection under its id would take its place."""
    client_id = f"emnify-gw-{iccid}"
    before = _connect_once(hosts, client_id, clean_session=False, timeout=timeout)
    _connect_once(hosts, client_id, clean_session=True, timeout=timeout)
    after = _connect_once(hosts, client_id, clean_session=False, timeout=timeout)
    _connect_once(hosts, client_id, clean_session=True, timeout=timeout)
    return before, after


def _connect_once(hosts, client_id, clean_session, timeout):
    """Connects, disconnects; whether the CONNACK said a session was present."""
    client = mqtt_client(client_id, clean_session=clean_session)
    answer = {}
    connected = threading.Event()

    def on_connect(c, userdata, flags, rc):
        if rc == 0:
            answer["present"] = bool(flags.get("session present"))
            connected.set()
    client.on_connect = on_connect
    host, port = hosts[0]
    client.connect(host, port, keepalive=10)
    client.loop_start()
    try:
        wait_for(connected.is_set, timeout, f"a connect as {client_id} (clean session {clean_session})")
    finally:
        client.disconnect()
        client.loop_stop()
    return answer["present"]


class Subscriber:
    """A persistent QoS 1 subscriber on a gateway's broker: every event on any SIM's topic (so that
    another SIM's would show), the bridge's notifications and the agent's health."""

    def __init__(self, port, iccid, prefix, client_id):
        self.iccid = iccid
        self.prefix = prefix
        self.lock = threading.Lock()
        self.received = {}  # event id -> times received
        self.first_arrival = {}  # event id -> time.time() of the first arrival
        self.wrong = []  # (topic, event id): not this SIM's
        self.bridge = []  # (time.time(), "1" | "0")
        self.health = None  # the agent's last health JSON
        self.client = mqtt_client(client_id, clean_session=False)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 2)
        self.connected = threading.Event()
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        wait_for(self.connected.is_set, 30, f"the subscriber on the gateway broker of {iccid}")

    def _on_connect(self, client, userdata, flags, rc):
        if rc == 0:
            client.subscribe([(f"{self.prefix}/+/event/+", 1), (f"{self.prefix}/{self.iccid}/bridge", 1),
                              (f"{self.prefix}/{self.iccid}/health", 0)])
            self.connected.set()

    def _on_message(self, client, userdata, message):
        now = time.time()
        topic = message.topic
        if topic.endswith("/bridge"):
            with self.lock:
                self.bridge.append((now, message.payload.decode(errors="replace")))
            return
        if topic.endswith("/health"):
            try:
                self.health = json.loads(message.payload)
            except ValueError:
                pass
            return
        try:
            event = json.loads(message.payload)
            event_id = event["id"]
        except (ValueError, KeyError, TypeError):
            with self.lock:
                self.wrong.append((topic, "not an event"))
            return
        iccid = (event.get("sim") or {}).get("iccid")
        with self.lock:
            if topic.split("/")[-3] != self.iccid or iccid != self.iccid:
                self.wrong.append((topic, event_id))
            self.received[event_id] = self.received.get(event_id, 0) + 1
            self.first_arrival.setdefault(event_id, now)

    def snapshot(self):
        with self.lock:
            return dict(self.received)

    def arrivals(self):
        with self.lock:
            return dict(self.first_arrival)

    def bridge_state(self):
        with self.lock:
            return self.bridge[-1][1] if self.bridge else None

    def stop(self):
        self.client.loop_stop()
        self.client.disconnect()


class Gateway:
    def __init__(self, name, sim, workdir, cluster_hosts, prefix="emnify", restart_timeout=None,
                 log_types=("error", "warning", "notice")):
        self.name = name
        self.sim = sim
        self.iccid = sim["iccid"]  # the topic form: 19 digits, as emnify's `iccid` field
        self.prefix = prefix
        self.directory = os.path.join(workdir, name)
        os.makedirs(os.path.join(self.directory, "mosquitto"), exist_ok=True)
        self.link = Link(cluster_hosts)
        self.port = free_port()
        self.config = os.path.join(self.directory, "mosquitto.conf")
        with open(self.config, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                    f"persistence true\npersistence_location {self.directory}/mosquitto/\n"
                    f"max_queued_messages 100000\nlog_dest file {self.directory}/mosquitto.log\n"
                    + "".join(f"log_type {t}\n" for t in log_types) + "\n"
                    + bridge_config([("127.0.0.1", self.link.port)], self.iccid, prefix,
                                    restart_timeout=restart_timeout))
        self.broker = None
        self.subscriber = None
        self.agent = None
        self.agent_log = None
        self.start_broker()

    def start_broker(self):
        self.broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", self.config], stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       preexec_fn=die_with_parent)
        wait_for(self._accepts, 30, f"{self.name}'s mosquitto to listen")

    def _accepts(self):
        import socket
        if self.broker.poll() is not None:
            raise RuntimeError(f"{self.name}'s mosquitto exited ({self.broker.returncode}); see "
                               f"{self.directory}/mosquitto.log")
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            return True
        except OSError:
            return False

    def start_subscriber(self):
        self.subscriber = Subscriber(self.port, self.iccid, self.prefix, f"recorder-{self.name}")

    def start_agent(self, binary, api_url, ca_file, token, poll_interval="3s", quiet_limit="10m",
                    log_level="info"):
        state = os.path.join(self.directory, "agent-state")
        os.makedirs(state, mode=0o700, exist_ok=True)
        config = os.path.join(self.directory, "emnify-edge.toml")
        with open(config, "w") as f:
            f.write(f"""[api]
url = "{api_url}"
ca_file = "{ca_file}"

[modem]
source = "static"
iccid = "{self.sim['iccid_with_luhn']}"

[agent]
state_dir = "{state}"
poll_interval = "{poll_interval}"
backfill = "1h"
events = "bridge"
quiet_limit = "{quiet_limit}"

[mqtt]
host = "127.0.0.1"
port = {self.port}
client_id = "emnify-edge-{self.name}"
topic_prefix = "{self.prefix}"

[log]
level = "{log_level}"
""")
        self.agent_log = open(os.path.join(self.directory, "agent.log"), "a")
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "EMNIFY_APPLICATION_TOKEN": token}
        self.agent = subprocess.Popen([binary, "run", "--config", config], env=env, stdin=subprocess.DEVNULL,
                                      stdout=self.agent_log, stderr=self.agent_log, preexec_fn=die_with_parent)

    def processes(self):
        return [p for p in (self.broker, self.agent) if p is not None]

    def stop_agent(self):
        if self.agent and self.agent.poll() is None:
            self.agent.send_signal(signal.SIGTERM)
            try:
                self.agent.wait(20)
            except subprocess.TimeoutExpired:
                self.agent.kill()
                self.agent.wait(10)

    def stop(self):
        self.stop_agent()
        if self.subscriber:
            self.subscriber.stop()
        if self.broker and self.broker.poll() is None:
            self.broker.terminate()
            try:
                self.broker.wait(15)
            except subprocess.TimeoutExpired:
                self.broker.kill()
                self.broker.wait(10)
        self.link.close()
        if self.agent_log:
            self.agent_log.close()
