#!/usr/bin/env python3
"""Chaos test of the fleet relay, with the real parts: a three-node NATS JetStream cluster (MQTT
listener), two relays (emnify-edge-relay processes) behind a round-robin TCP balancer, and the
emulator streaming (its Data Streamer stand-in) and serving the org feed for hundreds of SIMs.
Relays and a cluster node are SIGKILLed and restarted, the stream fails, duplicates, reorders,
is deleted and recreated (what it missed only polling can bring), and the API answers 5xx and
429 now and then. A subscriber on the cluster (persistent session, QoS 1, moving to another node
when its own dies) records every event.

Pass: every event the emulator produced reached its SIM's topic (or emnify/org/event/...) at
least once, and nothing else did. Prints produced / received / lost / duplicated / kills.

    Tests/Chaos/run [--duration 90] [--sims 300] [--keep]
"""

import argparse
import json
import os
import random
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "PythonSupport"))

import emulator_control as emulator  # noqa: E402
import nats_cluster  # noqa: E402
from lb import RoundRobin  # noqa: E402
from teardown import stop_and_clean  # noqa: E402
from waiting import die_with_parent, free_port, wait_for  # noqa: E402

import paho.mqtt.client as mqtt  # noqa: E402

WEBHOOK_SECRET = "chaos-webhook-secret-0123456789"


class Emulator:
    def __init__(self, bin_dir, workdir, sims):
        self.ca = os.path.join(workdir, "emulator-ca.pem")
        self.process, fields = emulator.serve(
            os.path.join(bin_dir, "emnify-emulator"),
            ["--tls", "self-signed", "--ca-file", self.ca, "--history", "0", "--sims", str(sims)],
            preexec_fn=die_with_parent)
        self.url, self.token = fields["url"], fields["token"]
        self.context = ssl.create_default_context(cafile=self.ca)

    def control(self, method, path, body=None):
        return emulator.control(self.url, self.context, method, path, body)

    def api_events(self):
        """Every event of the organisation, from the org feed (what the relays had to deliver)."""
        request = urllib.request.Request(
            self.url + "/api/v1/authenticate", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"application_token": self.token}).encode())
        with urllib.request.urlopen(request, context=self.context, timeout=60) as response:
            jwt = json.loads(response.read())["auth_token"]
        events, page = {}, 1
        while True:
            request = urllib.request.Request(
                f"{self.url}/api/v1/event?page={page}&per_page=1000&sort=id",
                headers={"Authorization": f"Bearer {jwt}"})
            with urllib.request.urlopen(request, context=self.context, timeout=60) as response:
                batch = json.loads(response.read())
            new = [e for e in batch if e["id"] not in events]
            for event in batch:
                events[event["id"]] = event
            if len(batch) < 1000 or not new:
                return events
            page += 1

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class RelayProcess:
    def __init__(self, name, bin_dir, workdir, emulator, hosts, poll_interval, look_back):
        self.name = name
        self.binary = os.path.join(bin_dir, "emnify-edge-relay")
        self.directory = os.path.join(workdir, name)
        os.makedirs(os.path.join(self.directory, "state"), mode=0o700, exist_ok=True)
        self.port = free_port()
        token_file = os.path.join(self.directory, "application-token")
        webhook_file = os.path.join(self.directory, "webhook-token")
        for path, text in ((token_file, emulator.token), (webhook_file, WEBHOOK_SECRET)):
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o600)
        self.config = os.path.join(self.directory, "relay.toml")
        with open(self.config, "w") as f:
            f.write(f"""[api]
url = "{emulator.url}"
token_file = "{token_file}"
ca_file = "{emulator.ca}"
timeout = "10s"
[mqtt]
hosts = [{", ".join(f'"{h}:{p}"' for h, p in hosts)}]
protocol = "3.1.1"
keepalive = "5s"
[relay]
listen = "127.0.0.1:{self.port}"
webhook_token_file = "{webhook_file}"
state_dir = "{os.path.join(self.directory, "state")}"
poll_interval = "{poll_interval}s"
look_back = "{look_back}s"
backfill = "1h"
ack_timeout = "8s"
relay_id = "{name}"
[log]
level = "notice"
""")
        self.log = open(os.path.join(self.directory, "relay.log"), "a")
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen([self.binary, "--config", self.config], stdin=subprocess.DEVNULL,
                                        stdout=self.log, stderr=self.log, preexec_fn=die_with_parent)

    def kill(self):
        self.process.kill()
        self.process.wait()

    def healthy(self):
        """Whether its webhook answers (`/healthz`)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Recorder:
    """A persistent QoS 1 subscriber on one node; when that node goes away it moves to the next."""

    def __init__(self, hosts):
        self.hosts = list(hosts)
        self.index = len(self.hosts) - 1  # the last node: not the relays' first choice
        self.lock = threading.Lock()
        self.received = {}  # id -> count
        self.wrong_topic = []
        self.health = {}  # relay -> its last health JSON
        self.repeats_at = []  # when each repeat arrived (to show they cluster around the faults)
        self.client = mqtt.Client(client_id="chaos-recorder", clean_session=False, protocol=mqtt.MQTTv311)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.client.reconnect_delay_set(1, 2)
        self.connected = threading.Event()
        self.stopping = False
        self._connect()
        self.client.loop_start()
        wait_for(self.connected.is_set, 60, "the recorder's connection")

    def _connect(self):
        while not self.stopping:
            host, port = self.hosts[self.index]
            try:
                self.client.connect(host, port, keepalive=5)
                return
            except OSError:
                self.index = (self.index + 1) % len(self.hosts)
                time.sleep(0.5)

    def _on_connect(self, client, userdata, flags, rc):
        if rc == 0:
            client.subscribe([("emnify/+/event/+", 1), ("emnify/relay/+/health", 0)])
            self.connected.set()

    def _on_disconnect(self, client, userdata, rc):
        self.connected.clear()
        if self.stopping:
            return
        # Another node when this one does not come back quickly (paho retries the same host).
        def move():
            time.sleep(3)
            if not self.connected.is_set() and not self.stopping:
                self.index = (self.index + 1) % len(self.hosts)
                host, port = self.hosts[self.index]
                try:
                    client.connect_async(host, port, keepalive=5)
                except OSError:
                    pass
        threading.Thread(target=move, daemon=True).start()

    def _on_message(self, client, userdata, message):
        if message.topic.startswith("emnify/relay/"):
            try:
                self.health[message.topic.split("/")[2]] = json.loads(message.payload)
            except ValueError:
                pass
            return
        try:
            event = json.loads(message.payload)
        except ValueError:
            self.wrong_topic.append((message.topic, "not JSON"))
            return
        iccid = (event.get("sim") or {}).get("iccid")
        level = message.topic.split("/")[1]
        if level != (iccid or "org"):
            self.wrong_topic.append((message.topic, event.get("id")))
        with self.lock:
            self.received[event["id"]] = self.received.get(event["id"], 0) + 1
            if self.received[event["id"]] > 1:
                self.repeats_at.append(time.monotonic())

    def snapshot(self):
        with self.lock:
            return dict(self.received)

    def stop(self):
        self.stopping = True
        self.client.loop_stop()
        self.client.disconnect()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--duration", type=float, default=90, help="seconds of events and faults")
    parser.add_argument("--sims", type=int, default=300)
    parser.add_argument("--rate", type=float, default=8, help="events per second, over random SIMs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    arguments = parser.parse_args()
    random.seed(arguments.seed)
    workdir = tempfile.mkdtemp(prefix="emnify-chaos-")
    started = time.monotonic()
    wall_start = time.time()

    def say(text):
        print(f"[{time.monotonic() - started:6.1f}s] {text}", flush=True)

    parts = []
    kills = {"relay": 0, "node": 0}
    ok = False
    try:
        cluster = nats_cluster.Cluster(os.path.join(workdir, "nats"), nodes=3)
        parts.append(cluster.stop_all)
        hosts = cluster.mqtt_hosts()
        say(f"NATS cluster up: MQTT on {[p for _, p in hosts]}")
        # Subscribed before anything is published: what it misses would count as lost.
        recorder = Recorder(hosts)
        parts.append(recorder.stop)
        emu = Emulator(arguments.bin_dir, workdir, arguments.sims)
        parts.append(emu.stop)
        # Events before the stream exists: only the relays' backfill (polling) can bring them.
        emulator.generate_events(emu.url, emu.context, count=40)
        look_back, poll_interval = 20, 4
        relays = [
            RelayProcess("relay-a", arguments.bin_dir, workdir, emu, hosts, poll_interval, look_back),
            RelayProcess("relay-b", arguments.bin_dir, workdir, emu, list(reversed(hosts)), poll_interval, look_back),
        ]
        for relay in relays:
            parts.append(relay.stop)
        balancer = RoundRobin([("127.0.0.1", r.port) for r in relays])
        parts.append(balancer.close)

        wait_for(lambda: all(r.healthy() for r in relays), 120, "both relays' webhooks")
        say("relays up")
        stream_args = dict(url=f"http://127.0.0.1:{balancer.port}/emnify/events",
                           headers=[f"Authorization:Bearer {WEBHOOK_SECRET}"], size=50, interval_ms=200,
                           timeout_ms=5000, retry_initial_ms=500, retry_max_ms=3000, duplicate_rate=0.1,
                           reorder=True)
        stream = emulator.create_stream(emu.url, emu.context, **stream_args)
        say(f"stream {stream['id']} delivering to the balancer")
        emulator.control(emu.url, emu.context, "POST", "/_emulator/events/generate",
                         {"count": int(arguments.rate * arguments.duration), "sims": "random",
                          "rate": arguments.rate})
        user_events = 0

        # The fault schedule, spread over the duration.
        d = arguments.duration
        schedule = [
            (0.10 * d, "kill relay-a", lambda: (relays[0].kill(), kills.__setitem__("relay", kills["relay"] + 1))),
            (0.18 * d, "restart relay-a", lambda: relays[0].start()),
            (0.25 * d, "kill NATS node 1", lambda: (cluster.kill(0), kills.__setitem__("node", kills["node"] + 1))),
            (0.30 * d, "API: 503 on the org feed x5", lambda: emu.control(
                "POST", "/_emulator/faults", {"kind": "503", "path": "/api/v1/event", "count": 5})),
            (0.40 * d, "restart NATS node 1", lambda: cluster.restart(0)),
            (0.45 * d, "stream paused", lambda: emulator.pause_stream(emu.url, emu.context, stream["id"])),
            (0.52 * d, "stream restarted (backlog)", lambda: emulator.restart_stream(emu.url, emu.context, stream["id"])),
            (0.55 * d, "kill relay-b", lambda: (relays[1].kill(), kills.__setitem__("relay", kills["relay"] + 1))),
            (0.60 * d, "API: 429 with Retry-After x3", lambda: emu.control(
                "POST", "/_emulator/faults", {"kind": "429", "path": "/api/v1/event", "count": 3, "retry_after": 1})),
            (0.62 * d, "restart relay-b", lambda: relays[1].start()),
            (0.66 * d, "stream deleted: what it misses, polling must bring", lambda: emulator.delete_stream(
                emu.url, emu.context, stream["id"])),
            (0.74 * d, "stream created again (no backlog)", None),
            (0.80 * d, "kill relay-a and NATS node 2", lambda: (
                relays[0].kill(), cluster.kill(1), kills.__setitem__("relay", kills["relay"] + 1),
                kills.__setitem__("node", kills["node"] + 1))),
            (0.88 * d, "restart relay-a and NATS node 2", lambda: (relays[0].start(), cluster.restart(1))),
        ]
        begin = time.monotonic()
        for at, what, action in schedule:
            time.sleep(max(0, begin + at - time.monotonic()))
            say(what)
            if action is None:
                stream = emulator.create_stream(emu.url, emu.context, **stream_args)
            else:
                action()
            if random.random() < 0.5:
                emulator.inject_event(emu.url, emu.context, "user_verified")
                user_events += 1
        time.sleep(max(0, begin + d - time.monotonic()))
        wait_for(lambda: all(r.healthy() for r in relays), 180, "both relays back")
        say("faults over; waiting for the stream to drain and the reconciliation to settle")
        # Everything generated is in the feed once generation ends (rate × duration events).
        time.sleep(3)
        produced = emu.api_events()

        def missing():
            received = recorder.snapshot()
            return [i for i in produced if i not in received]

        deadline = look_back + 6 * poll_interval + 90
        try:
            wait_for(lambda: not missing(), deadline, "every produced event at the subscriber", step=1)
        except TimeoutError:
            pass
        received = recorder.snapshot()
        lost = missing()

        # Exactly one relay polls once the faults are over (both online): the other must have learnt
        # the first's status again, or the organisation's API cost doubles for good.
        def pollers():
            return sorted(name for name, health in recorder.health.items() if health.get("polling"))
        try:
            wait_for(lambda: len(pollers()) == 1, 60, "exactly one relay polling", step=1)
        except TimeoutError:
            pass
        polling = pollers()
        duplicated = sum(c - 1 for i, c in received.items() if i in produced)
        invented = [i for i in received if i not in produced]
        print(f"produced {len(produced)}  received {len(set(received) & set(produced))}  lost {len(lost)}  "
              f"duplicated {duplicated}  invented {len(invented)}  wrong topic {len(recorder.wrong_topic)}  "
              f"kills: relays {kills['relay']}, NATS nodes {kills['node']}  "
              f"(stream deliveries and poll publications: see the relays' health topics)")
        # Repeats by the fault they followed: they must cluster there, not spread over the run.
        fault_times = [(begin + at, what) for at, what, _ in schedule]
        by_fault = {}
        for moment in recorder.repeats_at:
            before = [what for at, what in fault_times if at <= moment]
            key = before[-1] if before else "before any fault"
            by_fault[key] = by_fault.get(key, 0) + 1
        for what, count in by_fault.items():
            print(f"  repeats after '{what}': {count}")
        for name, health in sorted(recorder.health.items()):
            counters = health.get("counters", {})
            print(f"  {name}: from stream {counters.get('published_from_stream')}, from polling "
                  f"{counters.get('published_from_poll')}, repeats skipped {counters.get('duplicates_skipped')}, "
                  f"webhook requests {counters.get('webhook_requests')}, polls {counters.get('polls')}")
        if lost:
            print(f"LOST (first 10): {[(i, produced[i]['timestamp'], (produced[i].get('sim') or {}).get('iccid')) for i in lost[:10]]}")
            print(f"  (run started at {time.strftime('%H:%M:%S', time.gmtime(wall_start))} UTC)")
        print(f"  polling at the end: {polling or 'nobody'}")
        ok = not lost and not invented and not recorder.wrong_topic and len(produced) > 0 and len(polling) == 1
        print("chaos: PASS" if ok else "chaos: FAIL")
    finally:
        stop_and_clean(parts, workdir, ok, arguments.keep)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
