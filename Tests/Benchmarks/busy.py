"""The busy-SIM phase: a SIM with about 200 events in its last ten minutes and a new one every
3 s (a device cycling its data session), polled every 15 s (the agent's fast polling after new
events). What each peer downloads per poll and per new event, against the floor: its own idle
poll's bytes (from the idle phase of the same run) plus the new events themselves, each poll's share
gzip-compressed as one answer (zlib's default level, as the emulator and emnify's CDN send them),
once per feed the peer reads."""

import gzip
import json
import time

RATE_PER_MINUTE = 20
HISTORY = 200  # at that rate: the last ten minutes
INTERVAL = 15


def run(bench, peers_kinds) -> dict:
    seconds = 90 if bench.quick else 600
    bench.log(f"busy SIM: a new event every {60 / RATE_PER_MINUTE:g} s, polls every {INTERVAL} s, {seconds} s")
    for kind in peers_kinds:
        bench.subscriber.forget(kind)
    peers = bench.start(peers_kinds, INTERVAL, history=HISTORY, event_rate=RATE_PER_MINUTE)
    try:
        before = {}
        for peer in peers:
            counters = peer.emulator.counters()
            before[peer.kind] = (peer.emulator.relay.snapshot(), counters, _polls(bench, peer),
                                 set(bench.subscriber.ids(peer.prefix)))
        time.sleep(seconds)
        results = {}
        for peer in peers:
            relay0, counters0, polls0, ids0 = before[peer.kind]
            relay, counters, polls = peer.emulator.relay.snapshot(), peer.emulator.counters(), _polls(bench, peer)
            new_ids = set(bench.subscriber.ids(peer.prefix)) - ids0
            feeds = sum(1 for path in counters["requests_per_path"] if path.endswith("/event"))
            polled = max(1, polls - polls0)
            downloaded = relay["up"] + relay["down"] - relay0["up"] - relay0["down"]
            results[peer.kind] = {
                "polls": polled, "new_events": len(new_ids), "feeds": feeds, "bytes": downloaded,
                "bytes_per_poll": downloaded / polled,
                "bytes_per_new_event": downloaded / max(1, len(new_ids)),
                "events_compressed": _compressed(bench, peer, new_ids, polled),
                "requests_per_poll": (counters["total_requests"] - counters0["total_requests"]) / polled,
                "not_modified_per_poll": (counters["status_codes"].get("304", 0)
                                          - counters0["status_codes"].get("304", 0)) / polled,
            }
        _add_floor(results, bench.results.get("idle_keepalive"))
        return results
    finally:
        bench.stop(peers)


def _polls(bench, peer) -> int:
    """Polls so far. The agent publishes its health topic once a poll, and a poll may read the
    endpoint's feed more than once (the look-back window's buckets); the peers read it once a poll."""
    if peer.kind == "edge":
        return bench.subscriber.health_messages(peer.prefix)
    return peer.emulator.polls()


def _compressed(bench, peer, ids, polls: int) -> int:
    """The new events as an ideal poller's answers would carry them: each poll's share as one JSON
    array, gzip-compressed (a poll cannot compress against events that do not exist yet)."""
    events = bench.subscriber.payloads(peer.prefix, ids)
    share = max(1, round(len(events) / max(1, polls)))
    return sum(len(gzip.compress(json.dumps(events[i:i + share], separators=(",", ":")).encode(), compresslevel=6))
               for i in range(0, len(events), share))


def _add_floor(results: dict, idle) -> None:
    for kind, m in results.items():
        if not idle or kind not in idle:
            continue
        m["floor"] = idle[kind]["bytes"] * m["polls"] + m["events_compressed"] * max(1, m["feeds"])
        m["ratio_to_floor"] = m["bytes"] / m["floor"]


def rows(r: dict, row, names) -> list:
    busy = r.get("busy_sim")
    if not busy:
        return []
    return [
        "| busy SIM (new event every 3 s, poll every 15 s) | " + " | ".join(names[k] for k in names) + " |",
        "|---|---:|---:|---:|",
        row("bytes per poll", busy, lambda m: f"{m['bytes_per_poll']:,.0f}"),
        row("bytes per new event", busy, lambda m: f"{m['bytes_per_new_event']:,.0f}"),
        row("floor: idle poll + new events compressed, per poll", busy,
            lambda m: f"{m['floor'] / m['polls']:,.0f}" if "floor" in m else "–"),
        row("× the floor", busy, lambda m: f"{m['ratio_to_floor']:.2f}" if "ratio_to_floor" in m else "–"),
        row("requests per poll (feeds read)", busy, lambda m: f"{m['requests_per_poll']:.2f} ({m['feeds']})"),
        row("of which answered 304", busy, lambda m: f"{m.get('not_modified_per_poll', 0):.2f}"),
        "",
    ]


def targets(r: dict) -> list:
    """(target, measured, met) for the report's targets table."""
    edge = (r.get("busy_sim") or {}).get("edge")
    if not edge or "ratio_to_floor" not in edge:
        return []
    ratio = edge["ratio_to_floor"]
    return [("busy SIM: bytes ≤ 1.5 × the floor (idle poll + new events compressed)", f"{ratio:.2f} ×", ratio <= 1.5)]
