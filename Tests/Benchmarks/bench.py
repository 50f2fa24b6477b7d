"""emnify-edge against the tools a gateway maker would otherwise use, side by side in one run.

Run through `Tests/Benchmarks/run` (it installs and builds what is needed). Every peer gets
its own emulator (same seed, same 300-event history) behind its own counting relay, and all
publish to one local mosquitto. Results go to stdout, to `<workdir>/results.json` and
`results.md`, and with --update-readme into README.md between the benchmark markers.
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from parts import Broker, Emulator, Peer, Subscriber, installed_kib, directory_kib, wait_for, which
from procstat import MemorySampler, cpu_seconds, tree_memory_kb
import busy
import http2
import report

PEERS = ("edge", "sdk", "curl")
HISTORY = 300


class Run:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.workdir = tempfile.mkdtemp(prefix="emnify-bench-")
        self.binaries = {"edge": args.edge, "emulator": args.emulator, "python": sys.executable}
        self.broker = Broker(self.workdir)
        self.subscriber = Subscriber(self.broker.port)
        self.results = {}

    def close(self) -> None:
        self.subscriber.stop()
        self.broker.stop()

    def log(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    # -- helpers ---------------------------------------------------------------------------

    def start(self, kinds, interval, history=HISTORY, **emulator_options):
        """Each peer with its own emulator and relay; returns once every one has published the
        history and made two more polls (so it is idle)."""
        started = []
        for kind in kinds:
            emulator = Emulator(self.binaries["emulator"], self.workdir, history, **emulator_options)
            started.append(Peer(kind, self.binaries, emulator, self.broker, interval, self.workdir))
        for peer in started:
            wait_for(lambda: self.subscriber.count(peer.prefix) >= history - 5 or not peer.running(),
                     120 + history / 50, f"{peer.kind} to publish the history")
            if not peer.running():
                raise RuntimeError(f"{peer.kind} exited; see {peer.log.name}")
            base = peer.emulator.polls()
            wait_for(lambda: peer.emulator.polls() >= base + 2, 30 * interval, f"{peer.kind} to poll")
        return started

    def stop(self, peers) -> None:
        for peer in peers:
            peer.stop()
            peer.emulator.stop()

    def window(self, peers, polls: int, marks=(), interval=None):
        """Counts what each peer costs over its next `polls` idle polls; reads its memory
        (anonymous, PSS, RSS) at the polls in `marks`, half an interval after the poll's
        request: between two polls, where the shell loop is itself and not a curl or jq."""
        interval = interval or self.args.interval
        state = {}
        for peer in peers:
            counters = peer.emulator.counters()
            state[peer.kind] = {
                "peer": peer, "relay": peer.emulator.relay.snapshot(), "counters": counters,
                "polls": counters["requests_per_path"].get(peer.emulator.event_path, 0),
                "cpu": cpu_seconds(peer.pid), "time": time.monotonic(),
                "memory": MemorySampler(peer.pid).start(), "due": {}, "marks": {}, "result": None,
            }

        def finished(s):
            return s["result"] is not None and len(s["marks"]) == len(marks)

        deadline = time.monotonic() + polls * interval * 4 + 120
        while not all(finished(s) for s in state.values()):
            if time.monotonic() > deadline:
                raise TimeoutError("a peer stopped polling: " + ", ".join(k for k, s in state.items() if not finished(s)))
            time.sleep(0.05 if any(s["due"] for s in state.values()) else 0.25)
            for kind, s in state.items():
                now = time.monotonic()
                for mark, due in list(s["due"].items()):
                    if now >= due:
                        s["marks"][mark] = tree_memory_kb(s["peer"].pid)
                        del s["due"][mark]
                if s["result"] is not None:
                    continue
                done = s["peer"].emulator.polls() - s["polls"]
                for mark in marks:
                    if done >= mark and mark not in s["marks"] and mark not in s["due"]:
                        s["due"][mark] = time.monotonic() + interval / 2
                if done >= polls:
                    s["result"] = self._measure(s, done)
                    s["memory"].stop()
        for s in state.values():
            s["result"]["memory_kb_marks"] = dict(s["marks"])
        return {kind: s["result"] for kind, s in state.items()}

    @staticmethod
    def _measure(s, done: int) -> dict:
        peer = s["peer"]
        relay, counters = peer.emulator.relay.snapshot(), peer.emulator.counters()
        requests = counters["total_requests"] - s["counters"]["total_requests"]
        return {
            "polls": done,
            "seconds": round(time.monotonic() - s["time"], 1),
            "bytes_up": (relay["up"] - s["relay"]["up"]) / done,
            "bytes_down": (relay["down"] - s["relay"]["down"]) / done,
            "bytes": (relay["up"] + relay["down"] - s["relay"]["up"] - s["relay"]["down"]) / done,
            "connections": (relay["connections"] - s["relay"]["connections"]) / done,
            "requests": requests / done,
            "authentications": counters["authentications"] - s["counters"]["authentications"],
            "cpu_ms": (cpu_seconds(peer.pid) - s["cpu"]) * 1000 / done,
            "memory_kb_marks": dict(s["marks"]),
            "memory_kb_end": tree_memory_kb(peer.pid),
            "memory_kb_peak": s["memory"].peak_kb,
        }

    # -- phases ----------------------------------------------------------------------------

    def idle_keepalive(self) -> None:
        """Long enough to show whether memory grows with the number of polls: 10,000, at 0.1 s
        (--keepalive-interval; the agent polls faster than once a second only against an API on
        this machine) about 45 minutes (the curl loop is the slowest) instead of three hours at 1 s.
        Memory is read at poll 100
        and the last (--quick: 10 and 40; --idle-polls: other lengths)."""
        polls = self.args.idle_polls or (40 if self.quick else 10_000)
        marks = (10 if self.quick or polls < 200 else 100, polls)
        interval = self.args.keepalive_interval
        self.log(f"idle polls, connections kept alive: {polls} polls each at {interval:g} s")
        peers = self.start(PEERS, interval)
        try:
            self.results["idle_keepalive"] = self.window(peers, polls, marks, interval)
        finally:
            self.stop(peers)

    def idle_server_closes(self) -> None:
        polls = 10 if self.quick else 60
        self.log(f"idle polls, server closes connections idle for 0.5 s: {polls} polls each")
        peers = self.start(PEERS, self.args.interval, idle_timeout=0.5)
        try:
            self.results["idle_server_closes"] = self.window(peers, polls)
        finally:
            self.stop(peers)

    def http2_cdn(self) -> None:
        """Idle polls behind CDN-sized response headers, HTTP/1.1 against HTTP/2 (http2.py)."""
        self.results["http2_cdn"] = http2.measure(self, PEERS)

    def authentications(self) -> None:
        """Token lifetime scaled down from 4 h so that a day's renewals fit into the run."""
        lifetime = 10 if self.quick else 30
        seconds = 25 if self.quick else 150
        self.log(f"authentications: token lifetime {lifetime} s, {seconds} s of polling")
        peers = self.start(PEERS, self.args.interval, token_lifetime=lifetime)
        try:
            before = {p.kind: p.emulator.counters()["authentications"] for p in peers}
            start = time.monotonic()
            time.sleep(seconds)
            elapsed = time.monotonic() - start
            self.results["authentications"] = {
                p.kind: {
                    "per_lifetime": (p.emulator.counters()["authentications"] - before[p.kind]) * lifetime / elapsed,
                    "per_day_at_4h": (p.emulator.counters()["authentications"] - before[p.kind]) * lifetime / elapsed * 6,
                }
                for p in peers
            }
        finally:
            self.stop(peers)

    def latency(self) -> None:
        interval = 5
        count = 2 if self.quick else 6
        self.log(f"latency: {count} injected events per peer, poll interval {interval} s")
        peers = self.start(PEERS, interval)
        try:
            samples = {p.kind: [] for p in peers}
            for n in range(count):
                time.sleep(interval * 0.37 + n % 3)  # land at different points of the poll cycle
                injected = {}
                for p in peers:
                    ids = p.emulator.control("POST", "/_emulator/events", {"type": "create_pdp_context"})["ids"]
                    injected[p.kind] = (ids[0], time.monotonic())
                for p in peers:
                    event_id, at = injected[p.kind]
                    arrived = wait_for(lambda: self.subscriber.arrival(p.prefix, event_id), interval * 4 + 10,
                                       f"{p.kind} to deliver event {event_id}", step=0.01)
                    samples[p.kind].append(arrived - at)
            self.results["latency"] = {k: {"interval": interval, "max": max(v), "mean": sum(v) / len(v)}
                                       for k, v in samples.items()}
        finally:
            self.stop(peers)

    def backfill(self) -> None:
        """The agent's first start on 100,000 events, against mosquitto_pub -l publishing the
        same payloads at QoS 1 on the same broker: both timed until a QoS 1 subscriber has all.
        The agent's peak memory is sampled there and on a first start on 10,000 events: a page
        (1,000 events) at a time, the peak must not grow with the backfill's length."""
        short, count = (2_000, 10_000) if self.quick else (10_000, 100_000)
        self.log(f"backfill: {count} events (and {short} for the peak memory)")
        self.subscriber.pause()  # only the timed QoS 1 subscriber consumes
        try:
            with self._backfill_emulator(short) as emulator:
                short_count = self._export(emulator, os.path.join(self.workdir, "short.jsonl"))
                short_peak = self._edge_first_start(emulator, short_count)[1]
            with self._backfill_emulator(count) as emulator:
                payloads = os.path.join(self.workdir, "payloads.jsonl")
                count = self._export(emulator, payloads)
                reference_seconds = self._timed("reference/#", count, lambda: self._publish_lines(payloads))
                edge_seconds, peak = self._edge_first_start(emulator, count)
                self.results["backfill"] = {
                    "events": count,
                    "edge_per_second": count / edge_seconds,
                    "reference_per_second": count / reference_seconds,
                    "ratio": reference_seconds / edge_seconds,
                    "edge_api_bytes": sum(emulator.relay.snapshot()[k] for k in ("up", "down")),
                    "edge_requests": emulator.counters()["total_requests"],
                    "memory_kb_peak": peak,
                    "short_events": short_count,
                    "short_memory_kb_peak": short_peak,
                }
        finally:
            self.subscriber.resume()

    @contextlib.contextmanager
    def _backfill_emulator(self, history: int):
        """An emulator with `history` events over a day (the agent backfills 2 days)."""
        emulator = Emulator(self.binaries["emulator"], self.workdir, history, history_span=86_400)
        try:
            yield emulator
        finally:
            emulator.stop()

    def _edge_first_start(self, emulator: Emulator, count: int):
        """The agent's first start (no state, so it backfills everything): seconds until the
        subscriber has all `count` events, and the peak of its memory until then."""
        started = {}

        def launch():
            started["peer"] = Peer("edge", self.binaries, emulator, self.broker, 60, self.workdir)
            started["memory"] = MemorySampler(started["peer"].pid).start()

        try:
            seconds = self._timed("edge/+/event/#", count, launch)
        finally:
            if "memory" in started:
                started["memory"].stop()
            if "peer" in started:
                started["peer"].stop()
        return seconds, started["memory"].peak_kb

    def _timed(self, topic_filter: str, count: int, launch):
        """Seconds from `launch()` until a QoS 1 subscriber to `topic_filter` has `count` messages."""
        sub = subprocess.Popen([which("mosquitto_sub"), "-p", str(self.broker.port), "-q", "1", "-t",
                                topic_filter, "-C", str(count), "-F", "%I"], stdout=subprocess.DEVNULL)
        time.sleep(0.5)  # subscribed
        start = time.monotonic()
        launch()
        try:
            sub.wait(300)
        except subprocess.TimeoutExpired:
            sub.kill()
            sub.wait()
            raise TimeoutError(f"the subscriber to {topic_filter} did not get {count} events in 300 s")
        return time.monotonic() - start

    def _publish_lines(self, payloads: str) -> None:
        """mosquitto_pub -l, in runs of 20,000 lines: mosquitto_pub 2.0.11 loses its connection
        after about 34,000 QoS 1 messages in one session (the broker logs 'out of memory')."""
        with open(payloads, "rb") as f:
            lines = f.readlines()
        for start in range(0, len(lines), 20_000):
            subprocess.run([which("mosquitto_pub"), "-p", str(self.broker.port), "-q", "1", "-t",
                            "reference/events", "-l"], input=b"".join(lines[start:start + 20_000]), check=True)

    def _export(self, emulator: Emulator, path: str) -> int:
        """The events of the endpoint's and the SIM's feeds, one JSON object a line in id order:
        what the agent publishes, for the reference to publish too. Returns their number."""
        auth = json.dumps({"application_token": "benchmark-application-token"})
        token = json.loads(subprocess.run(
            ["curl", "-sS", "--cacert", emulator.ca_file, "-H", "Content-Type: application/json", "-d", auth,
             emulator.url + "/api/v1/authenticate"], capture_output=True, check=True).stdout)["auth_token"]
        sim_id = emulator.control("GET", "/_emulator/info")["sim_id"]
        events = {}
        for feed in (emulator.event_path, f"/api/v1/sim/{sim_id}/event"):
            page = 1
            while True:
                body = subprocess.run(
                    ["curl", "-sS", "--cacert", emulator.ca_file, "-H", "@-",
                     f"{emulator.url}{feed}?per_page=1000&page={page}&sort=id"],
                    input=f"Authorization: Bearer {token}\n", capture_output=True, text=True, check=True).stdout
                batch = json.loads(body)
                if not isinstance(batch, list):
                    raise RuntimeError(f"exporting the events failed: {body[:200]}")
                events.update((event["id"], event) for event in batch)
                if len(batch) < 1000:
                    break
                page += 1
        with open(path, "w") as out:
            for event_id in sorted(events):
                out.write(json.dumps(events[event_id], separators=(",", ":")) + "\n")
        return len(events)

    def instructions(self) -> None:
        """callgrind's instruction count, which a noisy machine does not change: two runs that
        differ only in the number of idle polls; the difference divided by the extra polls."""
        short, extra = (2, 3) if self.quick else (3, 20)
        self.log(f"callgrind: {short} and {short + extra} idle polls")
        # valgrind 3.19 cannot read the toolchain's DWARF 5; counting needs no symbols.
        stripped = os.path.join(self.workdir, "emnify-edge.callgrind")
        subprocess.run(["strip", "-o", stripped, self.args.edge], check=True)
        binaries = dict(self.binaries, edge=stripped)
        counts = []
        for polls in (short, short + extra):
            emulator = Emulator(self.binaries["emulator"], self.workdir, HISTORY)
            out = os.path.join(self.workdir, f"callgrind-{polls}.out")
            try:
                peer = Peer("edge", binaries, emulator, self.broker, 1, self.workdir,
                            wrapper=[which("valgrind"), "--tool=callgrind", f"--callgrind-out-file={out}"])
                wait_for(lambda: emulator.polls() >= 2, 300, "edge under callgrind to poll")
                base = emulator.polls()
                wait_for(lambda: emulator.polls() >= base + polls, 60 + polls * 10, "callgrind polls")
                made = emulator.polls()
                peer.stop()
                counts.append((made, self._callgrind_total(out)))
            finally:
                emulator.stop()
        (polls_a, ir_a), (polls_b, ir_b) = counts
        self.results["instructions_per_poll"] = (ir_b - ir_a) / max(1, polls_b - polls_a)

    @staticmethod
    def _callgrind_total(path: str) -> int:
        with open(path) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    return int(line.split()[1])
        raise RuntimeError(f"no totals in {path}")

    def busy_sim(self) -> None:
        self.results["busy_sim"] = busy.run(self, PEERS)

    def sizes(self) -> None:
        stripped = os.path.join(self.workdir, "emnify-edge.stripped")
        subprocess.run(["strip", "-o", stripped, self.args.edge], check=True)
        deb = self.args.deb
        sizes = {
            "edge_binary_stripped": os.path.getsize(stripped),
            "edge_binary_static": self.args.static,
            "edge_deb_installed_kib": int(subprocess.run(["dpkg-deb", "-f", deb, "Installed-Size"], capture_output=True,
                                                         text=True, check=True).stdout) if deb else None,
            "edge_deb_file": os.path.getsize(deb) if deb else None,
            "curl_loop_installed_kib": installed_kib(["curl", "libcurl4", "jq", "libjq1", "libonig5",
                                                      "mosquitto-clients", "libmosquitto1"]),
            "sdk_venv_kib": directory_kib(os.path.dirname(os.path.dirname(sys.executable))),
            "python_installed_kib": installed_kib(["python3.11", "libpython3.11-minimal", "libpython3.11-stdlib",
                                                   "python3.11-minimal"]),
        }
        self.results["sizes"] = sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edge", required=True)
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--deb", help="the emnify-edge .deb, for its installed size")
    parser.add_argument("--static", action="store_true", help="the emnify-edge binary links the Swift stdlib statically")
    parser.add_argument("--quick", action="store_true", help="a short run that only checks the benchmark works")
    parser.add_argument("--interval", type=float, default=1.0, help="poll interval of the idle phases (s)")
    parser.add_argument("--keepalive-interval", type=float, default=0.1,
                        help="poll interval of the long keep-alive idle phase (s; below 1 s the agent needs a local API)")
    parser.add_argument("--idle-polls", type=int,
                        help="polls of the keep-alive idle phase (default 10,000; with --quick 40)")
    parser.add_argument("--only", help="comma-separated phases")
    parser.add_argument("--update-readme", metavar="README")
    parser.add_argument("--merge", metavar="RESULTS_JSON",
                        help="start from an earlier run's results: the phases run now replace theirs")
    args = parser.parse_args()

    run = Run(args)
    if args.merge:
        with open(args.merge) as f:
            run.results = json.load(f)
        for phase in run.results.values():  # JSON made the poll numbers strings
            for peer in phase.values() if isinstance(phase, dict) else ():
                for key in ("memory_kb_marks", "rss_kb_marks"):
                    if isinstance(peer, dict) and key in peer:
                        peer[key] = {int(k): v for k, v in peer[key].items()}
    phases = ["sizes", "latency", "backfill", "authentications", "idle_server_closes", "instructions",
              "idle_keepalive", "busy_sim", "http2_cdn"]
    if args.only:
        phases = [p for p in phases if p in args.only.split(",")]
    started = time.monotonic()
    try:
        for phase in phases:
            getattr(run, phase)()
    finally:
        run.close()
    # A run of some phases, or with a shorter idle phase, is not the full run.
    partial = " ".join(f"{flag} {value}" for flag, value in (("--only", args.only), ("--idle-polls", args.idle_polls))
                       if value)
    run.results["meta"] = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, {_cpu_model()}, Debian {_debian_version()}",
        "quick": args.quick,
        "interval": args.interval,
        "keepalive_interval": args.keepalive_interval,
        "partial": f"partial run ({partial})" if partial else None,
        "seconds": round(time.monotonic() - started) + (run.results.get("meta", {}).get("seconds", 0) if args.merge else 0),
    }
    with open(os.path.join(run.workdir, "results.json"), "w") as f:
        json.dump(run.results, f, indent=1)
    markdown = report.markdown(run.results)
    with open(os.path.join(run.workdir, "results.md"), "w") as f:
        f.write(markdown)
    print(markdown)
    failures = report.target_misses(run.results)
    for miss in failures:
        print(f"target missed: {miss}")
    if args.update_readme:
        report.update_readme(args.update_readme, markdown)
    print(f"results: {run.workdir}/results.json")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _debian_version() -> str:
    try:
        with open("/etc/debian_version") as f:
            return f.read().strip()
    except OSError:
        return "?"


if __name__ == "__main__":
    main()
