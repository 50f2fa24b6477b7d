"""The real parts a benchmark run starts: emulators, a mosquitto broker, a subscriber, peers."""

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import paho.mqtt.client as mqtt

from relay import CountingRelay

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "PythonSupport"))
from waiting import free_port, wait_for  # noqa: E402
from emulator_control import control, serve  # noqa: E402
from mosquitto import Broker as _Broker  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
APPLICATION_TOKEN = "benchmark-application-token"


class Emulator:
    """`emnify-emulator serve` over HTTPS with its throwaway CA, and a counting relay in front."""

    def __init__(self, binary: str, workdir: str, history: int, token_lifetime: int = 4 * 3600, idle_timeout=None,
                 history_span=None, event_rate=None, http2=False, cdn_headers=False):
        self.ca_file = os.path.join(workdir, f"ca-{free_port()}.pem")
        args = ["--ca-file", self.ca_file, "--token", APPLICATION_TOKEN,
                "--history", str(history), "--token-lifetime", str(token_lifetime), "--seed", "7"]
        if history_span is not None:
            args += ["--history-span", str(history_span)]
        if event_rate is not None:  # new events per minute while running
            args += ["--event-rate", str(event_rate)]
        args += ["--http2"] if http2 else []
        args += ["--cdn-headers"] if cdn_headers else []
        self.process, fields = serve(binary, args)
        self.url = fields["url"]
        self.port = int(self.url.rsplit(":", 1)[1])
        self.iccid = fields["iccid"]
        self.endpoint_id = int(fields["endpoint_id"])
        self.context = ssl.create_default_context(cafile=self.ca_file)
        # Idle connections are closed by the relay: the server side of the client's connection.
        self.relay = CountingRelay(self.port, idle_timeout).start()
        self.relay_url = f"https://127.0.0.1:{self.relay.port}"

    def control(self, method: str, path: str, body=None):
        return control(self.url, self.context, method, path, body, timeout=120)

    def counters(self) -> dict:
        return self.control("GET", "/_emulator/counters")

    @property
    def event_path(self) -> str:
        return f"/api/v1/endpoint/{self.endpoint_id}/event"

    def polls(self) -> int:
        """Polls made so far: every peer fetches the endpoint's event feed once a poll."""
        return self.counters()["requests_per_path"].get(self.event_path, 0)

    def stop(self) -> None:
        self.relay.stop()
        self.process.terminate()
        self.process.wait(10)


class Broker(_Broker):
    """The benchmark's broker: a backfill's subscriber may fall a whole backfill behind."""

    def __init__(self, workdir: str):
        super().__init__(workdir, max_queued_messages=1_000_000, start_timeout=10)


class Subscriber:
    """Subscribes to everything; remembers, per first topic level, when each event id arrived."""

    def __init__(self, port: int):
        self.arrivals = {}  # first topic level -> {event id: monotonic time}
        self.bodies = {}  # first topic level -> {event id: payload}
        self.health = {}  # first topic level -> health messages received (the agent: one a poll)
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{os.getpid()}")
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("#", qos=1)
        self.client.loop_start()

    def _message(self, _client, _userdata, message) -> None:
        levels = message.topic.split("/")
        if levels[-1] == "health":
            with self._lock:
                self.health[levels[0]] = self.health.get(levels[0], 0) + 1
            return
        if not (levels[-1] == "events" or "event" in levels[:-1]):
            return  # the agent's state, identity and status topics
        try:
            event_id = json.loads(message.payload)["id"]
        except (ValueError, KeyError, TypeError):
            return
        with self._lock:
            self.arrivals.setdefault(levels[0], {}).setdefault(event_id, time.monotonic())
            self.bodies.setdefault(levels[0], {}).setdefault(event_id, message.payload)

    def count(self, prefix: str) -> int:
        with self._lock:
            return len(self.arrivals.get(prefix, {}))

    def forget(self, prefix: str) -> None:
        """Drops what arrived under `prefix` so far: a phase that counts from zero (ids repeat
        across phases, whose emulators share a seed)."""
        with self._lock:
            self.arrivals.pop(prefix, None)
            self.bodies.pop(prefix, None)

    def health_messages(self, prefix: str) -> int:
        with self._lock:
            return self.health.get(prefix, 0)

    def ids(self, prefix: str) -> list:
        with self._lock:
            return list(self.arrivals.get(prefix, {}))

    def payloads(self, prefix: str, ids) -> list:
        """The events with these ids as published, parsed, in id order."""
        with self._lock:
            bodies = self.bodies.get(prefix, {})
            return [json.loads(bodies[i]) for i in sorted(ids) if i in bodies]

    def arrival(self, prefix: str, event_id: int):
        with self._lock:
            return self.arrivals.get(prefix, {}).get(event_id)

    def pause(self) -> None:
        """Stops receiving (a second QoS 1 consumer, parsing JSON under the GIL that the relay
        thread needs, would slow down a backfill and the relay on the agent's path most)."""
        self.client.unsubscribe("#")
        time.sleep(0.5)

    def resume(self) -> None:
        self.client.subscribe("#", qos=1)
        time.sleep(0.5)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Peer:
    """One of the three pollers under test, started against `emulator` through its relay."""

    def __init__(self, kind: str, binaries: dict, emulator: Emulator, broker: Broker, interval: float,
                 workdir: str, wrapper=(), polls=None):
        self.kind = kind
        self.prefix = kind
        self.emulator = emulator
        env = {"PATH": "/usr/bin:/bin", "EMNIFY_APPLICATION_TOKEN": APPLICATION_TOKEN, "LANG": "C.UTF-8"}
        if kind == "edge":
            command = [binaries["edge"], "run", "--config", self._edge_config(emulator, broker, interval, workdir)]
        elif kind == "sdk":
            env.update(EMNIFY_SDK_API_ENDPOINT_URL=emulator.relay_url + "/api", REQUESTS_CA_BUNDLE=emulator.ca_file)
            command = [binaries["python"], os.path.join(HERE, "peer_sdk.py")]
        else:
            env.update(API_URL=emulator.relay_url, CA_FILE=emulator.ca_file)
            command = ["/bin/bash", os.path.join(HERE, "peer_curl.sh")]
        env.update(ENDPOINT_ID=str(emulator.endpoint_id), BROKER_PORT=str(broker.port), TOPIC=f"{kind}/events",
                   INTERVAL=str(interval), POLLS=str(polls or ""))
        self.log = open(os.path.join(workdir, f"{kind}-{emulator.port}.log"), "w")
        self.process = subprocess.Popen(list(wrapper) + command, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.process.pid

    @staticmethod
    def _edge_config(emulator: Emulator, broker: Broker, interval: float, workdir: str) -> str:
        state = tempfile.mkdtemp(prefix="edge-state-", dir=workdir)
        path = os.path.join(state, "emnify-edge.toml")
        with open(path, "w") as f:
            f.write(f"""[api]
url = "{emulator.relay_url}"
ca_file = "{emulator.ca_file}"

[modem]
source = "static"
iccid = "{emulator.iccid}"

[agent]
state_dir = "{state}"
poll_interval = "{round(interval * 1000)}ms"
backfill = "2d"

[mqtt]
host = "127.0.0.1"
port = {broker.port}
topic_prefix = "edge"

[log]
level = "warning"
""")
        return path

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def installed_kib(packages) -> int:
    """Installed-Size of Debian packages, as dpkg records it (KiB)."""
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Installed-Size}\n", *packages],
                         capture_output=True, text=True).stdout
    return sum(int(x) for x in out.split() if x.isdigit())


def directory_kib(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                total += os.path.getsize(full)
    return total // 1024


def which(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise RuntimeError(f"{tool} is missing")
    return found
