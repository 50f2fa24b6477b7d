#!/usr/bin/env python3
"""Bridged gateways with the real parts: a three-node NATS JetStream cluster (MQTT listener), one
relay fed by the emulator's Data Streamer stand-in, the emulator with an organisation of 20 SIMs,
and 4 gateways, each its own mosquitto (own port, own persistence directory) bridged to the
cluster for its own ICCID with the shipped template (firmware-config/mosquitto/emnify-bridge.conf.in)
through a TCP link that can be cut, an emnify-edge agent with `[agent] events = "bridge"` and a
persistent QoS 1 subscriber recording what arrives.

Scenario: events for every SIM all along; gateway 1's link is cut, its session on the cluster
wiped meanwhile (a clean-session connect under the bridge's client id: what the cluster does when
the session expires, so what was published meanwhile is gone from the cluster), events injected
for its SIM, the link restored.

Pass: every event of a SIM reached its gateway's subscriber (lost 0), no event of another SIM ever
reached a gateway, and the agents read their SIM's event feeds (`/api/v1/sim/{id}/event`,
`/api/v1/endpoint/{id}/event`, counted by the emulator per path) only at start and, for gateway 1,
after the reconnect: nothing while the bridge delivers, nothing during the cut (shorter than
`quiet_limit`). Prints a summary as chaos.py does; bounded (about 3 minutes), stops every process.

    Tests/Chaos/run-bridged [--sims 20] [--gateways 4] [--cut 25] [--keep] [--without-agents]
"""

import argparse
import os
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "PythonSupport"))

import emulator_control as emulator  # noqa: E402
import nats_cluster  # noqa: E402
from bridged_gateway import Gateway, wipe_cluster_session  # noqa: E402
from chaos import WEBHOOK_SECRET, Emulator, RelayProcess  # noqa: E402
from teardown import stop_and_clean  # noqa: E402
from waiting import wait_for  # noqa: E402

POLL_INTERVAL = 3  # seconds: an agent that polls shows within a few seconds of any phase
QUIET_LIMIT = "10m"  # longer than the whole run: no quiet-limit reconciliation, no fallback polling


def feed_paths(sim):
    return (f"/api/v1/sim/{sim['sim_id']}/event", f"/api/v1/endpoint/{sim['endpoint_id']}/event")


class RequestTimeline:
    """The emulator's per-path request counters, sampled every second: when each gateway's agent
    read its feeds."""

    def __init__(self, emu, gateways):
        self.emu = emu
        self.paths = {g.name: feed_paths(g.sim) for g in gateways}
        self.samples = []  # (time.monotonic(), {gateway: feed requests so far})
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def sample(self):
        counts = emulator.control(self.emu.url, self.emu.context, "GET", "/_emulator/counters")["requests_per_path"]
        return time.monotonic(), {name: sum(counts.get(p, 0) for p in paths) for name, paths in self.paths.items()}

    def _run(self):
        while not self.stopping.is_set():
            try:
                self.samples.append(self.sample())
            except OSError:
                pass
            self.stopping.wait(1)

    def now(self, name):
        return self.sample()[1][name]

    def between(self, name, start, end):
        """Feed requests of `name`'s agent counted between two moments (the samples nearest inside)."""
        inside = [counts[name] for at, counts in self.samples if start <= at <= end]
        return inside[-1] - inside[0] if len(inside) >= 2 else 0

    def stop(self):
        self.stopping.set()
        self.thread.join(5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True, help="emnify-edge, emnify-edge-relay, emnify-emulator")
    parser.add_argument("--sims", type=int, default=20)
    parser.add_argument("--gateways", type=int, default=4)
    parser.add_argument("--rate", type=float, default=2, help="steady events per second, over all SIMs")
    parser.add_argument("--steady", type=float, default=20, help="seconds of steady events before the cut")
    parser.add_argument("--cut", type=float, default=25, help="seconds gateway 1's link stays cut")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    parser.add_argument("--without-agents", action="store_true",
                        help="a check of the test itself: no agents, so it must FAIL with gateway 1's events of "
                             "the cut lost (the wipe took them) and no other gateway's")
    arguments = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="emnify-bridged-")
    started = time.monotonic()

    def say(text):
        print(f"[{time.monotonic() - started:6.1f}s] {text}", flush=True)

    parts = []
    ok = False
    try:
        cluster = nats_cluster.Cluster(os.path.join(workdir, "nats"), nodes=3)
        parts.append(cluster.stop_all)
        hosts = cluster.mqtt_hosts()
        say(f"NATS cluster up: MQTT on {[p for _, p in hosts]}")
        emu = Emulator(arguments.bin_dir, workdir, arguments.sims)
        parts.append(emu.stop)
        sims = emulator.all_sims(emu.url, emu.context)
        relay = RelayProcess("relay-a", arguments.bin_dir, workdir, emu, hosts, poll_interval=10, look_back=30)
        parts.append(relay.stop)
        wait_for(relay.healthy, 120, "the relay's webhook")
        stream = emulator.create_stream(emu.url, emu.context, url=f"http://127.0.0.1:{relay.port}/emnify/events",
                                        headers=[f"Authorization:Bearer {WEBHOOK_SECRET}"], size=20,
                                        interval_ms=200, timeout_ms=5000)
        say(f"relay up, stream {stream['id']} delivering to its webhook")

        gateways = []
        for index in range(arguments.gateways):
            # Spread over the fleet: neighbours' ICCIDs differ in the last digits only.
            sim = sims[index * max(1, len(sims) // arguments.gateways)]
            gateway = Gateway(f"gw{index + 1}", sim, workdir, hosts, restart_timeout="1 3")
            parts.append(gateway.stop)
            gateways.append(gateway)
            gateway.start_subscriber()
        wait_for(lambda: all(g.subscriber.bridge_state() == "1" for g in gateways), 60, "every bridge connected")
        say(f"{len(gateways)} gateway brokers bridged: {[g.iccid for g in gateways]}")

        timeline = RequestTimeline(emu, gateways)
        parts.append(timeline.stop)
        agents_started = time.monotonic()
        for gateway in [] if arguments.without_agents else gateways:
            gateway.start_agent(os.path.join(arguments.bin_dir, "emnify-edge"), emu.url, emu.ca, emu.token,
                                poll_interval=f"{POLL_INTERVAL}s", quiet_limit=QUIET_LIMIT)
        total = arguments.steady + arguments.cut + 30
        emulator.generate_events(emu.url, emu.context, count=int(arguments.rate * total), sims="random",
                                 rate=arguments.rate)
        say(f"agents started (bridge mode); {int(arguments.rate * total)} events at {arguments.rate}/s for random SIMs")

        # The start: each agent reads its feeds once (the start reconciliation), then is quiet.
        def started_and_quiet():
            now = time.monotonic()
            if now - agents_started < 3 * POLL_INTERVAL:
                return False
            return all(timeline.between(g.name, agents_started, now) > 0 and
                       timeline.between(g.name, now - 3 * POLL_INTERVAL, now) == 0 for g in gateways)
        try:
            if arguments.without_agents:
                raise TimeoutError
            wait_for(started_and_quiet, 60, "every agent's start reconciliation, then no feed request", step=1)
            say("every agent reconciled at start and stopped reading its feeds")
        except TimeoutError:
            say("no agents" if arguments.without_agents else
                "agents keep reading their feeds (polling): the assertion below will fail")
        steady_from = time.monotonic()
        time.sleep(arguments.steady)

        first = gateways[0]
        cut_at = time.monotonic()
        first.link.cut()
        wait_for(lambda: first.subscriber.bridge_state() == "0", 30, "gateway 1's bridge notification 0")
        say(f"{first.name}'s link cut (bridge notification 0)")
        session_before, session_after = wipe_cluster_session(hosts, first.iccid)
        say(f"{first.name}'s session on the cluster wiped (clean-session connect as emnify-gw-{first.iccid}): "
            f"session present before {session_before}, after {session_after}")
        injected = emulator.inject_event(emu.url, emu.context, "update_location", count=5, sim_id=first.sim["sim_id"])
        say(f"{len(injected)} events injected for {first.name}'s SIM during the cut")
        time.sleep(max(0, cut_at + arguments.cut - time.monotonic()))
        restored_at = time.monotonic()
        first.link.restore()
        wait_for(lambda: first.subscriber.bridge_state() == "1", 60, "gateway 1's bridge notification 1")
        say(f"{first.name}'s link restored (bridge notification 1)")

        # Everything generated is in the feeds once the generator is done.
        generated = int(arguments.rate * total)
        produced = wait_for(lambda: (lambda events: events if len(events) >= generated + len(injected) else None)(
            emu.api_events()), total + 60, "the generator's last event in the org feed", step=2)
        expected = {g.name: {i for i, e in produced.items() if (e.get("sim") or {}).get("iccid") == g.iccid}
                    for g in gateways}

        def missing():
            return {g.name: expected[g.name] - set(g.subscriber.snapshot()) for g in gateways}
        try:
            wait_for(lambda: not any(missing().values()), 90, "every event at its gateway's subscriber", step=1)
        except TimeoutError:
            pass
        # A little longer: an agent that polls (or reconciles again) shows in the counters.
        time.sleep(3 * POLL_INTERVAL)
        ended = time.monotonic()
        lost = missing()
        # A short cut of another gateway's link, its cluster session kept: the relay's retained state
        # of its SIM, delivered again on the resubscription, names an event its agent recorded, so
        # the agent skips the reconciliation and reads no API.
        kept = next((g for g in gateways[1:] if expected[g.name]), None)
        if kept and not arguments.without_agents:
            skipped = lambda: ((kept.subscriber.health or {}).get("bridge") or {}).get("reconciliations_skipped", 0)
            before_skips = skipped()
            kept.link.cut()
            wait_for(lambda: kept.subscriber.bridge_state() == "0", 60, f"{kept.name}'s bridge down")
            kept_cut_at = time.monotonic()
            kept.link.restore()
            wait_for(lambda: kept.subscriber.bridge_state() == "1", 60, f"{kept.name}'s bridge up")
            wait_for(lambda: skipped() > before_skips or
                     ((kept.subscriber.health or {}).get("bridge") or {}).get("reconciliations", 0) > 1,
                     60, f"{kept.name}'s agent deciding on the reconnect")
            time.sleep(2)
            kept_requests = timeline.between(kept.name, kept_cut_at, time.monotonic())
            say(f"{kept.name}'s link cut and restored with its session kept: {kept_requests} feed requests, "
                f"reconciliations skipped {skipped() - before_skips}")
        timeline.stop()

        failures = []
        print(f"produced {len(produced)} events for {len(sims)} SIMs; gateways {len(gateways)}; "
              f"{first.name} cut for {restored_at - cut_at:.0f} s with its cluster session wiped")
        for gateway in gateways:
            received = gateway.subscriber.snapshot()
            mine = expected[gateway.name]
            at_start = timeline.between(gateway.name, agents_started, steady_from)
            steady = timeline.between(gateway.name, steady_from, cut_at)
            during_cut = timeline.between(gateway.name, cut_at, restored_at)
            after = timeline.between(gateway.name, restored_at, ended)
            duplicated = sum(c - 1 for i, c in received.items() if i in mine)
            health = gateway.subscriber.health or {}
            # The agent's own account, when its health has one (the bridge mode's keys).
            told = {k: v for k, v in (health.get("bridge") or {}).items()
                    if k in ("link", "fallback", "events_bridged") or "reconcil" in k}
            print(f"  {gateway.name} {gateway.iccid}: events {len(mine)}  received {len(mine & set(received))}  "
                  f"lost {len(lost[gateway.name])}  duplicated {duplicated}  other SIMs' {len(gateway.subscriber.wrong)}  "
                  f"feed requests: start {at_start}, steady {steady}, cut {during_cut}, after restore {after}  "
                  f"agent's health {told or '(no bridge object)'}")
            if lost[gateway.name]:
                failures.append(f"{gateway.name} lost {sorted(lost[gateway.name])[:10]}")
            if gateway.subscriber.wrong:
                failures.append(f"{gateway.name} got other SIMs' events {gateway.subscriber.wrong[:5]}")
            if at_start == 0:
                failures.append(f"{gateway.name}'s agent made no start reconciliation")
            if steady or during_cut:
                failures.append(f"{gateway.name}'s agent read its feeds while the bridge delivered or was briefly "
                                f"down ({steady} + {during_cut} requests)")
            if gateway is first and after == 0:
                failures.append(f"{first.name}'s agent did not reconcile after the reconnect")
            if gateway is not first and after:
                failures.append(f"{gateway.name}'s agent read its feeds after another gateway's reconnect ({after})")
        if kept and not arguments.without_agents and (kept_requests or skipped() <= before_skips):
            failures.append(f"{kept.name}'s agent read its feeds ({kept_requests} requests) after a reconnect that "
                            "kept its cluster session")
        if (session_before, session_after) != (True, False):
            failures.append(f"the wipe of {first.name}'s cluster session did not take: session present before "
                            f"{session_before}, after {session_after}")
        if not set(injected) <= expected[first.name]:
            failures.append(f"the injected events {injected} are not in {first.name}'s feed")
        for failure in failures:
            print(f"  FAIL: {failure}")
        if arguments.without_agents:
            # The scenario is sharp when what the wipe took is lost at gateway 1 only.
            sharp = set(injected) <= lost[first.name] and not any(lost[g.name] for g in gateways[1:])
            print(f"without agents: gateway 1 lost {len(lost[first.name])} (the injected {len(injected)} among them: "
                  f"{set(injected) <= lost[first.name]}), the others {sum(len(lost[g.name]) for g in gateways[1:])}: "
                  f"the scenario {'needs' if sharp else 'does NOT need'} the agents' reconciliation")
        ok = not failures and len(produced) > 0
        print("bridged: PASS" if ok else "bridged: FAIL")
    finally:
        stop_and_clean(parts, workdir, ok, arguments.keep)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
