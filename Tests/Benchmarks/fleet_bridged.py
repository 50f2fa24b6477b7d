"""The fleet benchmark's bridged phase (fleet.py runs it after the cost phases): the whole
organisation in stream mode end to end, from the emulator's event to a subscriber on a real
gateway broker bridged to the cluster for its own SIM.

- the emulator's 10,000 SIMs raise 20 events a day each, time compressed `COMPRESSION` times
  (a real hour every minute: 139 events/s instead of 2.3); the Data Streamer stand-in delivers
  them to one relay (stream mode), which publishes them to the 3-node NATS cluster;
- 100 gateways (20 with --quick) for evenly sampled SIMs: each its own mosquitto bridged with the
  shipped template through a byte-counting link (`cellular_link.Link`), and a persistent QoS 1
  subscriber on it; a few of them also run an emnify-edge agent with `[agent] events = "bridge"`,
  whose start reconciliation is counted by the emulator per path;
- latency: the event's `timestamp` (the emulator's clock, ms) to its first arrival at the
  gateway's subscriber (same machine, same clock), p50 / p99 over every event of a sampled SIM;
- API requests a month: the relay's org-feed requests per poll (measured) × a 60 s interval,
  plus 10,000 gateways × (`STARTS_PER_MONTH` × requests of a start, `RECONNECTS_PER_MONTH` ×
  requests after a bridge reconnect), both measured on the agents' gateways (the reconnect: their
  links cut and restored, with the bridge's restart timer shortened to "1 3" there);
  against 10,000 polling agents (2 requests per poll, the agent benchmark's figure);
- cellular bytes per gateway a month: measured on the links (the bridge's connect, bytes per
  event delivered), keepalives (one PINGREQ/PINGRESP pair, 4 bytes, every 240 s) and the relay's
  status repeat (its frame, every 5 minutes) from their frame sizes, a reconnect and a
  reconciliation a day; plus an estimate of TLS (below); against polling every 60 s (the agent
  benchmark's bytes per idle poll and per new event, read from README.md);
- memory: the relay's and the NATS nodes' RSS and PSS from /proc (peak and at the end)."""

import os
import re
import statistics
import sys
import threading
import time
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "PythonSupport"))
sys.path.insert(0, os.path.join(HERE, "..", "Chaos"))

import emulator_control as emulator  # noqa: E402
import procstat  # noqa: E402
from bridged_gateway import Gateway  # noqa: E402
from chaos import WEBHOOK_SECRET, RelayProcess  # noqa: E402
from teardown import stop_all  # noqa: E402
from waiting import wait_for  # noqa: E402

MONTH = 30 * 86_400
COMPRESSION = 60
EVENTS_PER_SIM_DAY = 20
KEEPALIVE = 240  # the template's keepalive_interval
STATUS_REPEAT = 300  # the relay's online re-announcement
# Assumed, not measured: a bridge reconnect a day (coverage, the carrier's NAT, a cluster
# restart).
# And a restart (a reboot, an update) a week. What each costs is measured: a reconciliation, or
# none when the agent finds that the cluster kept its session.
RECONNECTS_PER_MONTH = 30
STARTS_PER_MONTH = 4
# TLS estimate (the links carry plaintext MQTT: no TLS on loopback): TLS 1.3 with AES-GCM adds
# 22 bytes per record (5 header, 1 content type, 16 tag), one record per MQTT packet here; a
# full handshake with a 2-certificate chain is about 5 KB.
TLS_RECORD = 22
TLS_HANDSHAKE = 5_000
AGENT_POLL_INTERVAL = 3


def readme_poll_figures(readme):
    """The agent benchmark's bytes per idle poll (connection kept alive), per new event, and a fresh
    connection's poll, from README.md; the figures of 2026-11-26/12-01 when a row is missing."""
    text = open(readme).read() if readme and os.path.exists(readme) else ""
    idle = re.search(r"\| bytes, connection kept alive \| ([\d,]+) \|", text)
    fresh = re.search(r"\| bytes, server closes idle connections \| ([\d,]+) \|", text)
    event = re.search(r"([\d.]+) KB per new event", text)
    return {"idle_poll": int(idle.group(1).replace(",", "")) if idle else 1_995,
            "fresh_poll": int(fresh.group(1).replace(",", "")) if fresh else 3_329,
            "per_event": float(event.group(1)) * 1000 if event else 1_350}


def parse_timestamp(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def agent_requests(counters, feed_paths):
    """What the agents asked the API: every path but the org feed (the relay's); authentication,
    the SIM lookup and the endpoint paths are theirs, the relay having authenticated before."""
    paths = counters["requests_per_path"]
    total = sum(n for path, n in paths.items() if path != "/api/v1/event")
    feeds = sum(paths.get(p, 0) for p in feed_paths)
    return total, feeds


def run(args, workdir, cluster, emu, readme):
    gateway_count = 20 if args.quick else 100
    agent_count = 1 if args.quick else 4
    duration = 40 if args.quick else 330  # the full run sees a keepalive and a status repeat
    sims = emulator.all_sims(emu.url, emu.context)
    sampled = [sims[i * (len(sims) // gateway_count)] for i in range(gateway_count)]
    relay = RelayProcess("bridged-relay", os.path.dirname(args.relay), workdir, emu, cluster.mqtt_hosts(),
                         poll_interval=3, look_back=6)
    # Events of the earlier phases are not this phase's: the relay's backfill skips them.
    text = open(relay.config).read().replace('backfill = "1h"', 'backfill = "1m"')
    open(relay.config, "w").write(text)
    relay.stop()
    relay.start()
    parts = [relay.stop]
    samplers = {}
    try:
        wait_for(relay.healthy, 120, "the bridged phase's relay")
        samplers = {"relay": procstat.MemorySampler(relay.process.pid, interval=1).start(),
                    **{node.name: procstat.MemorySampler(node.process.pid, interval=1).start()
                       for node in cluster.nodes}}
        stream = emulator.create_stream(emu.url, emu.context, url=f"http://127.0.0.1:{relay.port}/emnify/events",
                                        headers=[f"Authorization:Bearer {WEBHOOK_SECRET}"], size=100,
                                        interval_ms=200)
        parts.append(lambda: emulator.delete_stream(emu.url, emu.context, stream["id"]))
        gateways = []
        for index, sim in enumerate(sampled):
            gateway = Gateway(f"bgw{index + 1}", sim, workdir, cluster.mqtt_hosts(), log_types=("error",),
                              restart_timeout="1 3" if index < agent_count else None)
            parts.append(gateway.stop)
            gateways.append(gateway)
            gateway.start_subscriber()
        wait_for(lambda: all(g.subscriber.bridge_state() == "1" for g in gateways), 180, "every gateway's bridge")
        time.sleep(2)  # the retained relay status and the SUBACKs have crossed every link
        connect_bytes = [g.link.snapshot() for g in gateways]

        # The agents' start reconciliation, counted by the emulator.
        with_agents = gateways[:agent_count]
        feed_paths = [p for g in with_agents for p in (f"/api/v1/sim/{g.sim['sim_id']}/event",
                                                       f"/api/v1/endpoint/{g.sim['endpoint_id']}/event")]
        before = agent_requests(emulator.control(emu.url, emu.context, "GET", "/_emulator/counters"), feed_paths)
        agents_started = time.monotonic()
        for gateway in with_agents:
            gateway.start_agent(os.path.join(os.path.dirname(args.relay), "emnify-edge"), emu.url, emu.ca, emu.token,
                                poll_interval=f"{AGENT_POLL_INTERVAL}s", quiet_limit="1h", log_level="warning")
        samples = []  # (seconds since the agents' start, all agent requests, feed requests)
        quiet = False
        while not quiet and time.monotonic() - agents_started < 40:
            total, feeds = agent_requests(emulator.control(emu.url, emu.context, "GET", "/_emulator/counters"),
                                          feed_paths)
            samples.append((time.monotonic() - agents_started, total - before[0], feeds - before[1]))
            recent = [s for s in samples if s[0] >= samples[-1][0] - 3 * AGENT_POLL_INTERVAL]
            quiet = (samples[-1][2] > 0 and samples[-1][0] > 4 * AGENT_POLL_INTERVAL
                     and recent[0][2] == samples[-1][2])
            time.sleep(0.5)
        if quiet:
            per_start = samples[-1][1] / agent_count
            reconciliation_note = "a start: its requests until its feeds stayed quiet for 3 poll intervals"
        else:
            # The agent polls (no bridge mode): its start burst (up to the first sample without a new
            # feed request) stands for a reconciliation.
            burst = next((a for a, b in zip(samples, samples[1:]) if a[2] > 0 and b[2] == a[2]), samples[-1])
            per_start = burst[1] / agent_count
            reconciliation_note = (f"the agent kept polling its feeds ({samples[-1][2]} feed requests in "
                                   f"{samples[-1][0]:.0f} s, poll_interval {AGENT_POLL_INTERVAL} s): its start "
                                   f"burst taken as a start's reconciliation")


        # The organisation's events, compressed.
        rate = len(sims) * EVENTS_PER_SIM_DAY / 86_400 * COMPRESSION
        count = int(rate * duration)
        counters_before = emulator.control(emu.url, emu.context, "GET", "/_emulator/counters")
        phase_start = time.time()
        emulator.generate_events(emu.url, emu.context, count=count, sims="random", rate=rate)
        time.sleep(duration)
        # Before reading the org feed here, which would count as the relay's requests.
        counters_after = emulator.control(emu.url, emu.context, "GET", "/_emulator/counters")
        produced = wait_for(lambda: org_events_since(emu, phase_start, count), 120, "the generator's last event",
                            step=5)
        mine = {g.name: {i: e for i, e in produced.items() if (e.get("sim") or {}).get("iccid") == g.iccid}
                for g in gateways}

        def delivered():
            return all(set(mine[g.name]) <= set(g.subscriber.snapshot()) for g in gateways)
        try:
            wait_for(delivered, 120, "every sampled SIM's event at its gateway", step=1)
        except TimeoutError:
            pass
        end_bytes = [g.link.snapshot() for g in gateways]
        memory = {name: {"now": s.latest_kb, "peak": s.peak_kb} for name, s in
                  ((name, sampler.stop()) for name, sampler in samplers.items())}
        samplers = {}

        def counted():
            return agent_requests(emulator.control(emu.url, emu.context, "GET", "/_emulator/counters"), feed_paths)
        # What a reconnect and a restart cost once the agents have a record: the relay's retained
        # state of each SIM names its newest event, which the agent saw when the cluster kept the
        # session (the agent skips the reconciliation). A reconnect: the links cut and restored, the
        # requests counted until 3 poll intervals after the bridges are back (longer than the agent's
        # 3-30 s settling); a restart: SIGTERM and start, counted for 15 s.
        base = counted()
        for gateway in with_agents:
            gateway.link.cut()
        wait_for(lambda: all(g.subscriber.bridge_state() == "0" for g in with_agents), 60, "the agents' bridges down")
        for gateway in with_agents:
            gateway.link.restore()
        wait_for(lambda: all(g.subscriber.bridge_state() == "1" for g in with_agents), 60, "the agents' bridges up")
        time.sleep(max(3 * AGENT_POLL_INTERVAL, 12))
        per_reconnect = (counted()[0] - base[0]) / agent_count
        base = counted()
        for gateway in with_agents:
            gateway.stop_agent()
            gateway.start_agent(os.path.join(os.path.dirname(args.relay), "emnify-edge"), emu.url, emu.ca, emu.token,
                                poll_interval=f"{AGENT_POLL_INTERVAL}s", quiet_limit="1h", log_level="warning")
        time.sleep(15)
        per_restart = (counted()[0] - base[0]) / agent_count
        latencies, lost, wrong = [], 0, 0
        for gateway in gateways:
            arrivals = gateway.subscriber.arrivals()
            wrong += len(gateway.subscriber.wrong)
            for event_id, event in mine[gateway.name].items():
                if event_id in arrivals:
                    latencies.append(arrivals[event_id] - parse_timestamp(event["timestamp"]))
                else:
                    lost += 1
        # Bytes per event, on the links of gateways without an agent (whose every event came
        # through the bridge): all bytes after the connect, in both directions.
        plain = range(agent_count, len(gateways))
        event_bytes = sum(end_bytes[i]["up"] + end_bytes[i]["down"] - connect_bytes[i]["up"] - connect_bytes[i]["down"]
                          for i in plain)
        event_packets = sum(end_bytes[i]["chunks_up"] + end_bytes[i]["chunks_down"] - connect_bytes[i]["chunks_up"]
                            - connect_bytes[i]["chunks_down"] for i in plain)
        events_over_links = sum(len(mine[gateways[i].name]) for i in plain)
        per_event = event_bytes / events_over_links if events_over_links else float("nan")
        connect = statistics.mean(c["up"] + c["down"] for c in connect_bytes)
        connect_packets = statistics.mean(c["chunks_up"] + c["chunks_down"] for c in connect_bytes)
        status_frame = 4 + len(f"emnify/relay/{relay.name}/status") + len("online")
        events_month = EVENTS_PER_SIM_DAY * 30  # one SIM's
        poll = readme_poll_figures(readme)
        bridge_mqtt = {
            "events": events_month * per_event,
            "keepalives": MONTH / KEEPALIVE * 4,
            "relay status": MONTH / STATUS_REPEAT * status_frame,
            "reconnects": RECONNECTS_PER_MONTH * connect,
            "reconciliations": (RECONNECTS_PER_MONTH + STARTS_PER_MONTH) * poll["fresh_poll"],
        }
        tls = (MONTH / KEEPALIVE * 2 + MONTH / STATUS_REPEAT
               + events_month * (event_packets / events_over_links if events_over_links else 0)
               + RECONNECTS_PER_MONTH * connect_packets) * TLS_RECORD + RECONNECTS_PER_MONTH * TLS_HANDSHAKE
        relay_polls = (counters_after["requests_per_path"].get("/api/v1/event", 0)
                       - counters_before["requests_per_path"].get("/api/v1/event", 0))
        relay_per_poll = relay_polls / (duration / 3)
        return {
            "gateways": gateway_count, "agents": agent_count, "duration": duration, "rate": rate,
            "events": len(produced), "sampled_events": sum(len(m) for m in mine.values()), "lost": lost,
            "wrong": wrong, "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
            "max": max(latencies) if latencies else float("nan"),
            "relay_per_poll": relay_per_poll, "relay_month": relay_per_poll * MONTH / 60,
            "per_start": per_start, "per_restart": per_restart, "per_reconnect": per_reconnect,
            "reconciliation_note": reconciliation_note,
            "gateways_month": 10_000 * (STARTS_PER_MONTH * per_restart + RECONNECTS_PER_MONTH * per_reconnect),
            "poll_month": 10_000 * 2 * MONTH / 60,
            "bytes_per_event": per_event, "connect_bytes": connect, "bridge_mqtt": bridge_mqtt, "tls": tls,
            "poll_bytes": MONTH / 60 * poll["idle_poll"] + events_month * poll["per_event"], "poll_figures": poll,
            "memory": memory,
        }
    finally:
        for sampler in samplers.values():
            sampler.stop()
        stop_all(parts)


def org_events_since(emu, since, count):
    """This phase's events in the org feed (timestamp at or after `since`), once all `count` are there."""
    events = {i: e for i, e in emu.api_events().items() if parse_timestamp(e["timestamp"]) >= since - 1}
    return events if len(events) >= count else None


def lines(b, quick):
    mqtt = sum(b["bridge_mqtt"].values())
    total = mqtt + b["tls"]
    org = b["relay_month"] + b["gateways_month"]
    mem = b["memory"]

    def mb(kb):
        return f"{kb / 1024:.1f} MB"
    return [
        "",
        f"Bridged gateways{' (quick run)' if quick else ''}: the emulator's 10,000 SIMs × {EVENTS_PER_SIM_DAY} "
        f"events/day compressed {COMPRESSION} × ({b['rate']:.0f} events/s for {b['duration']} s, "
        f"{b['events']:,} events), Data Streamer stand-in → relay (stream mode) → 3-node NATS cluster → "
        f"{b['gateways']} real gateway mosquittos bridged with the shipped template, {b['agents']} of them with "
        f"an agent in bridge mode. {b['sampled_events']:,} events of the sampled SIMs: lost {b['lost']}, "
        f"other SIMs' events at a gateway {b['wrong']}.",
        "",
        "| bridged fleet | measured |",
        "|---|---|",
        f"| event (emulator timestamp) to gateway subscriber, p50 / p99 / max | {b['p50'] * 1000:,.0f} ms / "
        f"{b['p99'] * 1000:,.0f} ms / {b['max'] * 1000:,.0f} ms |",
        f"| API requests a month, organisation in bridge mode | {org:,.0f} ({100 * org / 10_000_000:.2f} % of the "
        f"10 M quota): relay {b['relay_per_poll']:.2f} per poll × 60 s = {b['relay_month']:,.0f}, gateways "
        f"10,000 × ({STARTS_PER_MONTH} restarts × {b['per_restart']:.1f} + {RECONNECTS_PER_MONTH} reconnects × "
        f"{b['per_reconnect']:.1f}) = "
        f"{b['gateways_month']:,.0f} (a first start, with its backfill: {b['per_start']:.1f}) |",
        f"| API requests a month, 10,000 polling agents at 60 s | {b['poll_month']:,.0f} "
        f"({100 * b['poll_month'] / 10_000_000:,.0f} % of the quota) |",
        f"| cellular bytes per gateway a month, bridge mode | {total / 1e6:.2f} MB: MQTT "
        + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in b["bridge_mqtt"].items())
        + f"; TLS (estimate) {b['tls'] / 1e6:.2f} MB |",
        f"| cellular bytes per gateway a month, polling at 60 s | {b['poll_bytes'] / 1e6:.1f} MB "
        f"({b['poll_figures']['idle_poll']:,} B per idle poll, {b['poll_figures']['per_event']:,.0f} B per new event) |",
        f"| bytes per bridged event (MQTT, both directions) / per bridge connect | {b['bytes_per_event']:,.0f} B / "
        f"{b['connect_bytes']:,.0f} B |",
        f"| relay memory, RSS / PSS at the end (peak RSS) | {mb(mem['relay']['now']['rss'])} / "
        f"{mb(mem['relay']['now']['pss'])} ({mb(mem['relay']['peak']['rss'])}) |",
        "| NATS nodes, RSS / PSS at the end (peak RSS) | " + ", ".join(
            f"{name} {mb(m['now']['rss'])} / {mb(m['now']['pss'])} ({mb(m['peak']['rss'])})"
            for name, m in mem.items() if name != "relay") + " |",
        "",
        f"Gateway requests: a first start: {b['reconciliation_note']}; a reconnect and a restart after the events "
        f"(the agents have a record, and the cluster kept their sessions): the requests from a cut of the link "
        f"until 12 s after the bridge was back, and for 15 s after a restart. Assumed per gateway: a restart a week "
        f"and a bridge reconnect a day (bytes: a reconciliation, a poll on a fresh connection, after each, the "
        f"upper bound); keepalives every {KEEPALIVE} s and the relay's status every {STATUS_REPEAT // 60} min "
        f"from their frame sizes; TLS 1.3 at {TLS_RECORD} B per record and {TLS_HANDSHAKE:,} B per handshake "
        "(the links carry plaintext MQTT on loopback).",
    ]
