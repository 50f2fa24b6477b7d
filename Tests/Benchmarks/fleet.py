#!/usr/bin/env python3
"""The fleet relay's benchmark phases (run by Tests/Benchmarks/run after bench.py):

- throughput: events/s from the webhook (bulk requests of 1,000, as the Data Streamer sends them)
  to the cluster's acknowledgements, against `mosquitto_pub -l -q 1` publishing the same payloads
  into the same three-node NATS cluster, side by side in one run;
- API cost: requests per org-wide poll measured against the emulator for an organisation of 1,000
  and 10,000 SIMs raising 20 events a day each (time compressed: each poll interval carries the
  events of a real 60 s interval), in stream mode (the stream alive, polling only reconciles)
  and poll-only mode; per month at a 60 s interval, beside 10,000 polling agents;
- bridged gateways (fleet_bridged.py): the organisation end to end in stream mode, to subscribers on
  100 real gateway brokers bridged for their own SIM: latency, API requests and cellular bytes a
  month against polling, relay and cluster memory.

    fleet.py --relay BIN --emulator BIN [--quick] [--update-readme README.md]
"""

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "PythonSupport"))
sys.path.insert(0, os.path.join(HERE, "..", "Chaos"))

import fleet_bridged as bridged  # noqa: E402
import emulator_control as emulator  # noqa: E402
import nats_cluster  # noqa: E402
from chaos import WEBHOOK_SECRET, Emulator, RelayProcess  # noqa: E402
from waiting import wait_for  # noqa: E402

README = os.path.join(HERE, "..", "..", "README.md")
MONTH_POLLS = 30 * 24 * 60  # a 60 s interval
QUOTA = 10_000_000
PHASES = ["throughput", "cost", "bridged"]


def event_json(i: int, sims: int) -> str:
    iccid = f"89883030000{(i % sims):08d}"
    return (f'{{"id":{281_000_000_000_000 + i},"timestamp":"2026-12-01T10:00:00.000Z","alert":false,'
            f'"description":"New PDP Context created.","event_type":{{"id":3,"description":"Create PDP Context"}},'
            f'"event_source":{{"id":0,"description":"Network"}},"event_severity":{{"id":0,"description":"INFO"}},'
            f'"organisation":{{"id":5833,"name":"Test Org"}},"endpoint":{{"id":{i % sims},"name":"gw"}},'
            f'"sim":{{"id":{i % sims},"iccid":"{iccid}"}},"imsi":{{"id":1,"imsi":"901430000000001"}}}}')


def throughput(args, workdir, cluster, emu):
    count = 5_000 if args.quick else 50_000
    batch = 1_000
    relay = RelayProcess("bench-relay", os.path.dirname(args.relay), workdir, emu, cluster.mqtt_hosts()[:1],
                         poll_interval=3600, look_back=600)
    # No polling in this phase: the webhook alone.
    text = open(relay.config).read().replace('poll_interval = "3600s"', 'poll_interval = "off"')
    open(relay.config, "w").write(text)
    relay.stop()
    relay.start()

    def up():
        try:
            c = http.client.HTTPConnection("127.0.0.1", relay.port, timeout=2)
            c.request("GET", "/healthz")
            return c.getresponse().status == 200
        except OSError:
            return False

    wait_for(up, 60, "the relay's webhook")
    bodies = ["[" + ",".join(event_json(i, 10_000) for i in range(start, start + batch)) + "]"
              for start in range(0, count, batch)]
    connection = http.client.HTTPConnection("127.0.0.1", relay.port, timeout=60)
    began = time.monotonic()
    for body in bodies:
        connection.request("POST", "/emnify/events", body=body,
                           headers={"Authorization": f"Bearer {WEBHOOK_SECRET}", "Content-Type": "application/json"})
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise RuntimeError(f"webhook answered {response.status}: {answer[:200]!r}")
    relay_seconds = time.monotonic() - began
    relay.stop()

    # The peer: the same payloads, one per line, one topic per SIM's event, QoS 1 into the same node.
    lines = os.path.join(workdir, "payloads.txt")
    with open(lines, "w") as f:
        for i in range(count):
            f.write(event_json(count + i, 10_000) + "\n")
    host, port = cluster.mqtt_hosts()[0]
    began = time.monotonic()
    with open(lines) as stdin:
        subprocess.run(["mosquitto_pub", "-h", host, "-p", str(port), "-V", "mqttv311", "-q", "1", "-l",
                        "-i", "bench-peer", "-t", "emnify/8988303000000000001/event/create-pdp-context"],
                       stdin=stdin, check=True, timeout=600)
    peer_seconds = time.monotonic() - began
    return {"events": count, "relay_events_per_s": count / relay_seconds,
            "peer_events_per_s": count / peer_seconds, "ratio": (count / relay_seconds) / (count / peer_seconds)}


def api_cost(args, workdir, cluster, emu, sims, stream_mode):
    """Requests per poll, with each poll interval carrying a real minute's events of `sims` SIMs."""
    interval = 3
    per_minute = sims * 20 / (24 * 60)
    polls = 4 if args.quick else 10
    name = f"cost-{sims}-{'stream' if stream_mode else 'poll'}"
    relay = RelayProcess(name, os.path.dirname(args.relay), workdir, emu, cluster.mqtt_hosts(),
                         poll_interval=interval, look_back=2 * interval)
    stream = None
    if stream_mode:
        stream = emulator.create_stream(emu.url, emu.context, url=f"http://127.0.0.1:{relay.port}/emnify/events",
                                        headers=[f"Authorization:Bearer {WEBHOOK_SECRET}"], size=100,
                                        interval_ms=200, events="generated")
    # Settle: the first polls read the backfill.
    time.sleep(4 * interval)
    before = emulator.control(emu.url, emu.context, "GET", "/_emulator/counters")
    emulator.control(emu.url, emu.context, "POST", "/_emulator/events/generate",
                     {"count": max(1, round(per_minute * polls)), "sims": "random",
                      "rate": per_minute / interval})
    time.sleep(polls * interval)
    after = emulator.control(emu.url, emu.context, "GET", "/_emulator/counters")
    relay.stop()
    if stream is not None:
        emulator.delete_stream(emu.url, emu.context, stream["id"])
    requests = org_requests(after) - org_requests(before)
    # Every poll reads the feed at least once: zero means the count missed them, not that they were free.
    if requests <= 0:
        raise RuntimeError(f"no org feed request counted in {name}: {after.get('requests_per_path')}")
    per_poll = requests / polls
    return {"sims": sims, "mode": "stream" if stream_mode else "poll-only", "per_poll": per_poll,
            "per_month": per_poll * MONTH_POLLS, "share_of_quota": per_poll * MONTH_POLLS / QUOTA}


def org_requests(counters):
    """Requests to the org-wide feed (authentication is once per JWT lifetime: hours)."""
    return counters.get("requests_per_path", {}).get("/api/v1/event", 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--relay", required=True)
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--update-readme")
    parser.add_argument("--only", choices=PHASES, action="append",
                        help="run only these phases (repeatable); the README is then left alone")
    args = parser.parse_args()
    phases = args.only or PHASES
    if args.only and args.update_readme:
        parser.error("--update-readme writes the whole fleet block: run every phase")
    workdir = tempfile.mkdtemp(prefix="emnify-fleet-bench-")
    cluster = emu = None
    try:
        cluster = nats_cluster.Cluster(os.path.join(workdir, "nats"), nodes=3)
        emu = Emulator(os.path.dirname(args.emulator), workdir, 10_000)
        result = {"cost": []}
        if "throughput" in phases:
            result["throughput"] = throughput(args, workdir, cluster, emu)
        for sims in (1_000, 10_000):
            emulator.set_sim_count(emu.url, emu.context, sims) if sims > 1_000 else None
            for stream_mode in (True, False) if "cost" in phases else ():
                result["cost"].append(api_cost(args, workdir, cluster, emu, sims, stream_mode))
        if "bridged" in phases:
            result["bridged"] = bridged.run(args, workdir, cluster, emu, args.update_readme or README)
    finally:
        if emu:
            emu.stop()
        if cluster:
            cluster.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    lines = []
    if "throughput" in result:
        t = result["throughput"]
        lines += [
            f"Fleet relay, {time.strftime('%Y-%m-%d')}{' (quick run)' if args.quick else ''}: webhook to cluster "
        f"acknowledgement {t['relay_events_per_s']:,.0f} events/s against `mosquitto_pub -l -q 1` "
        f"{t['peer_events_per_s']:,.0f} events/s into the same 3-node NATS cluster ({t['ratio']:.2f} ×, "
            f"{t['events']:,} events in bulk requests of 1,000).",
        ]
    if result["cost"]:
        lines += [
            "",
            "| organisation | mode | API requests per poll | per month at 60 s | share of the 10 M quota |",
            "|---|---|---|---|---|",
        ]
        for c in result["cost"]:
            lines.append(f"| {c['sims']:,} SIMs × 20 events/day | {c['mode']} | {c['per_poll']:.2f} | "
                         f"{c['per_month']:,.0f} | {100 * c['share_of_quota']:.2f} % |")
        lines.append(f"| 10,000 polling agents (2 feeds each) | poll | 20,000 | {20_000 * MONTH_POLLS:,} | "
                     f"{100 * 20_000 * MONTH_POLLS / QUOTA:,.0f} % |")
    if "bridged" in result:
        lines += bridged.lines(result["bridged"], args.quick)
    text = "\n".join(lines)
    print(text)
    if args.update_readme:
        readme = open(args.update_readme).read()
        block = f"<!-- fleet-benchmark -->\n{text}\n<!-- /fleet-benchmark -->"
        if "<!-- fleet-benchmark -->" in readme:
            readme = re.sub(r"<!-- fleet-benchmark -->.*?<!-- /fleet-benchmark -->", lambda _: block, readme,
                            flags=re.S)
            open(args.update_readme, "w").write(readme)


if __name__ == "__main__":
    main()
