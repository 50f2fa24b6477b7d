#!/usr/bin/env python3
"""Power-cut consistency of emnify-edge's state directory, tested the way ALICE and CrashMonkey
test applications: record the file-system operations of a real run, build every on-disk state a
power cut could leave, start the real agent on each, and check that nothing acknowledged is lost.

1. Record: the emulator (HTTPS), a real mosquitto and a subscriber; `emnify-edge run` under
   `strace -f` with a fresh state directory, while new events arrive (several state saves, the
   token cache). Every event the subscriber received is "acknowledged" (the broker sent PUBACK).
2. Model: the operations on the state directory (create, truncate, write, fsync, rename,
   unlink, directory fsync) in program order. A power cut after operation k leaves:
   - the directory's entries as of its last fsync, plus ANY SUBSET of the later entry operations
     (create, rename, unlink), applied in program order: a rename without a directory fsync
     may or may not persist, independently of the others (POSIX; ext4's in-order journal gives
     a prefix, which is one of these subsets);
   - for each file, its data as of its last fsync, plus: nothing, a prefix of the later
     writes, a prefix with its last write torn in half, or the file truncated to zero bytes.
     An fsync is a barrier for that file's data only (not for its directory entry).
   States are materialised in a directory and deduplicated by content.
3. Recover: on each state the real agent starts against the same emulator and broker (its own
   topic prefix). PASS when it starts cleanly (polls, stays up, exits 0 on SIGTERM; a damaged or
   missing file is named in its log), and every acknowledged event is either covered by the
   cursor it loaded (state.json, else state.json.prev, as AgentStateStore.load chooses; an id in
   `published`, or a time before `windowStart`) or published again. Duplicates are allowed. Each
   run has its own topic prefix, i.e. a broker without retained messages (mosquitto after a power
   cut before its autosave): status, identity, state and health must be published again.
Prints PASS/FAIL per state and "N passed, N failed"; exits 1 on any failure.
"""

import argparse
import hashlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "PythonSupport"))
from waiting import free_port, wait_for  # noqa: E402
from emulator_control import control, serve  # noqa: E402
from mosquitto import Broker  # noqa: E402

TOKEN = "crash-consistency-application-token"


def stop(process: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 15):
    """Stops a child started here (by its pid) and returns its exit status."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return process.returncode


# --- The real parts ---------------------------------------------------------------------------

class Emulator:
    def __init__(self, binary: str, workdir: str):
        self.ca_file = os.path.join(workdir, "emulator-ca.pem")
        self.process, fields = serve(
            binary, ["--ca-file", self.ca_file, "--token", TOKEN, "--history", "30", "--seed", "11"])
        self.url, self.iccid = fields["url"], fields["iccid"]
        self.context = ssl.create_default_context(cafile=self.ca_file)

    def control(self, method: str, path: str, body=None):
        return control(self.url, self.context, method, path, body, timeout=30)

    def stop(self):
        stop(self.process)


class Subscriber:
    """mosquitto_sub on everything; events per topic prefix (the first topic level)."""

    def __init__(self, port: int, workdir: str):
        self.path = os.path.join(workdir, "subscriber.txt")
        self.out = open(self.path, "w")
        self.process = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-v", "-t", "#",
             "-i", f"crash-consistency-sub-{os.getpid()}"], stdout=self.out, stderr=subprocess.DEVNULL)

    def messages(self, prefix: str):
        with open(self.path, errors="replace") as f:
            for line in f:
                topic, _, payload = line.rstrip("\n").partition(" ")
                if topic.split("/", 1)[0] == prefix:
                    yield topic, payload

    def events(self, prefix: str) -> dict:
        """id -> event JSON of the events published under the prefix."""
        found = {}
        for topic, payload in self.messages(prefix):
            if "/event/" not in topic:
                continue
            try:
                event = json.loads(payload)
                found[int(event["id"])] = event
            except (ValueError, KeyError, TypeError):
                pass
        return found

    def health(self, prefix: str):
        last = None
        for topic, payload in self.messages(prefix):
            if topic.endswith("/health"):
                try:
                    last = json.loads(payload)
                except ValueError:
                    pass
        return last

    def stop(self):
        stop(self.process)
        self.out.close()


def agent_config(path: str, emulator: Emulator, broker: Broker, state_dir: str, prefix: str):
    token_file = os.path.join(os.path.dirname(path), "application-token")
    if not os.path.exists(token_file):
        with open(os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(TOKEN + "\n")
    with open(path, "w") as f:
        f.write(f"""[api]
url = "{emulator.url}"
ca_file = "{emulator.ca_file}"
token_file = "{token_file}"

[modem]
source = "static"
iccid = "{emulator.iccid}"

[agent]
state_dir = "{state_dir}"
poll_interval = "1s"

[mqtt]
host = "127.0.0.1"
port = {broker.port}
client_id = "crash-consistency-{prefix}"
topic_prefix = "{prefix}"

[log]
level = "info"
""")


# --- 1. Recording -------------------------------------------------------------------------------

TRACED = ("open,openat,creat,write,pwrite64,writev,pwritev,fsync,fdatasync,sync_file_range,rename,renameat,"
          "renameat2,unlink,unlinkat,close,ftruncate,truncate,link,linkat")


def record(binary, emulator, broker, subscriber, workdir, saves_wanted: int):
    state_dir = os.path.join(workdir, "recorded-state")
    os.mkdir(state_dir, 0o700)
    config = os.path.join(workdir, "record.toml")
    agent_config(config, emulator, broker, state_dir, "rec")
    trace = os.path.join(workdir, "strace.txt")
    log = open(os.path.join(workdir, "record.log"), "w")
    process = subprocess.Popen(
        ["strace", "-f", "-qq", "-e", "signal=none", "-xx", "-y", "-s", "16777216", "-o", trace, "-e",
         f"trace={TRACED}", binary, "run", "--config", config], stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        def published(count):
            if process.poll() is not None:
                raise RuntimeError(f"the recorded agent exited ({process.returncode}): see record.log")
            return len(subscriber.events("rec")) >= count

        saved = os.path.join(state_dir, "state.json")

        def settled():  # the on-disk cursor covers everything published so far
            return published(1) and set(subscriber.events("rec")) <= covered_ids(load_state(saved),
                                                                                 subscriber.events("rec"))

        wait_for(lambda: published(20) and settled(), 90, "the backfill to be published and saved")
        # New events between polls: each poll that publishes saves the state again.
        for round_number in range(saves_wanted):
            before = len(subscriber.events("rec"))
            emulator.control("POST", "/_emulator/events", {"count": 2})
            wait_for(lambda: published(before + 2), 60, f"round {round_number} published")
        wait_for(settled, 60, "the cursor to cover every published event")
    finally:
        # SIGKILL the agent itself (strace's child: killing strace would only detach it), then
        # strace ends with it. What is on disk is only what the trace says; the states come from it.
        for agent_pid in traced_children(process.pid):
            try:
                os.kill(agent_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        stop(process, signal.SIGTERM)
        log.close()
    return state_dir, trace


def traced_children(pid: int) -> list:
    children = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children += [int(child) for child in f.read().split()]
    except OSError:
        pass
    return children


# --- 2. The trace as operations on the state directory -----------------------------------------

def unescape(text: str) -> str:
    """strace -xx strings: every byte as \\xHH (other escapes handled for safety)."""
    return decode_bytes(text).decode("utf-8", "surrogateescape")


def decode_bytes(text: str) -> bytes:
    out = bytearray()
    i = 0
    simple = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "\\": 92, '"': 34}
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "x":
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
            if n in simple:
                out.append(simple[n])
                i += 2
                continue
            if n.isdigit():
                j = i + 1
                while j < len(text) and j < i + 4 and text[j] in "01234567":
                    j += 1
                out.append(int(text[i + 1:j], 8))
                i = j
                continue
        out.extend(c.encode())
        i += 1
    return bytes(out)


def split_args(text: str):
    args, depth, current, quoted, i = [], 0, "", False, 0
    while i < len(text):
        c = text[i]
        if quoted:
            current += c
            if c == "\\":
                current += text[i + 1]
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
            current += c
        elif c in "[{(":
            depth += 1
            current += c
        elif c in "]})":
            depth -= 1
            current += c
        elif c == "," and depth == 0:
            args.append(current.strip())
            current = ""
        else:
            current += c
        i += 1
    if current.strip():
        args.append(current.strip())
    return args


def string_arg(arg: str) -> bytes:
    match = re.match(r'^"(.*)"(\.\.\.)?$', arg, re.S)
    if not match:
        raise ValueError(f"not a string argument: {arg[:80]}")
    if match.group(2):
        raise ValueError("strace truncated a string: raise -s")
    return decode_bytes(match.group(1))


def fd_of(arg: str):
    """'5</path>' -> (5, '/path'); 'AT_FDCWD</cwd>' -> ('cwd', '/cwd')."""
    match = re.match(r"^(-?\d+|AT_FDCWD)(?:<(.*)>)?$", arg, re.S)
    if not match:
        return None, None
    number = match.group(1)
    path = unescape(match.group(2)) if match.group(2) is not None else None
    return (number if number == "AT_FDCWD" else int(number)), path


def calls(trace_path: str):
    """(name, args, result text) in the order the kernel completed them, threads merged."""
    pending = {}
    with open(trace_path, errors="surrogateescape") as f:
        for raw in f:
            line = raw.rstrip("\n")
            match = re.match(r"^(\d+)\s+(.*)$", line)
            if not match:
                continue
            pid, rest = match.groups()
            if rest.endswith("<unfinished ...>"):
                pending[pid] = rest[: -len("<unfinished ...>")].rstrip()
                continue
            resumed = re.match(r"^<\.\.\. (\w+) resumed>(.*)$", rest)
            if resumed:
                rest = pending.pop(pid, resumed.group(1) + "(") + resumed.group(2)
            call = re.match(r"^(\w+)\((.*)\)\s+=\s+(.*)$", rest, re.S)
            if call:
                yield call.group(1), split_args(call.group(2)), call.group(3)


def operations(trace_path: str, state_dir: str, cwd: str):
    """The recorded operations on files directly in state_dir, in program order:
    ('link', name, inode), ('rename', src, dst, inode), ('unlink', name, inode), ('trunc', inode),
    ('write', inode, offset, bytes), ('fsync', inode), ('dirsync',)."""
    ops = []
    names = {}  # name -> inode, in program order
    fds = {}  # fd -> inode number, or 'dir'
    positions = {}
    sizes = {}
    next_inode = itertools.count(1)

    def absolute(dirfd_arg, path: str) -> str:
        if path.startswith("/"):
            return os.path.normpath(path)
        number, base = fd_of(dirfd_arg) if dirfd_arg else ("AT_FDCWD", None)
        return os.path.normpath(os.path.join(base or cwd, path))

    def name_in_dir(path: str):
        return os.path.basename(path) if os.path.dirname(path) == state_dir else None

    for name, args, result in calls(trace_path):
        ok = not result.startswith("-1")
        if not ok:
            continue
        if name in ("open", "openat", "creat"):
            if name == "openat":
                path, flags = absolute(args[0], string_arg(args[1]).decode("utf-8", "surrogateescape")), args[2]
            elif name == "open":
                path, flags = absolute(None, string_arg(args[0]).decode("utf-8", "surrogateescape")), args[1]
            else:
                path, flags = absolute(None, string_arg(args[0]).decode("utf-8", "surrogateescape")), "O_CREAT|O_TRUNC"
            fd, _ = fd_of(result.split()[0])
            if os.path.normpath(path) == state_dir:
                fds[fd] = "dir"
                continue
            entry = name_in_dir(path)
            if entry is None:
                fds.pop(fd, None)
                continue
            inode = names.get(entry)
            if inode is None:
                if "O_CREAT" not in flags:
                    continue
                inode = next(next_inode)
                names[entry] = inode
                sizes[inode] = 0
                ops.append(("link", entry, inode))
            elif "O_TRUNC" in flags:
                ops.append(("trunc", inode))
                sizes[inode] = 0
            fds[fd] = inode
            positions[fd] = 0
        elif name in ("write", "pwrite64"):
            fd, _ = fd_of(args[0])
            inode = fds.get(fd)
            if inode is None or inode == "dir":
                continue
            data = string_arg(args[1])[: int(result.split()[0])]
            offset = int(args[3]) if name == "pwrite64" else positions[fd]
            ops.append(("write", inode, offset, data))
            if name == "write":
                positions[fd] = offset + len(data)
            sizes[inode] = max(sizes[inode], offset + len(data))
        elif name in ("writev", "pwritev"):
            fd, _ = fd_of(args[0])
            if fds.get(fd) not in (None, "dir"):
                raise RuntimeError("writev on a state file: extend the recorder")
        elif name in ("fsync", "fdatasync"):
            fd, _ = fd_of(args[0])
            inode = fds.get(fd)
            if inode == "dir":
                ops.append(("dirsync",))
            elif inode is not None:
                ops.append(("fsync", inode))
        elif name == "sync_file_range":
            fd, _ = fd_of(args[0])
            if fds.get(fd) not in (None, "dir"):
                raise RuntimeError("sync_file_range on a state file: extend the model")
        elif name in ("ftruncate",):
            fd, _ = fd_of(args[0])
            inode = fds.get(fd)
            if inode not in (None, "dir"):
                if int(args[1]) != 0:
                    raise RuntimeError("ftruncate to a non-zero length: extend the model")
                ops.append(("trunc", inode))
        elif name == "close":
            fd, _ = fd_of(args[0])
            fds.pop(fd, None)
            positions.pop(fd, None)
        elif name in ("rename", "renameat", "renameat2"):
            if name == "rename":
                src, dst = (absolute(None, string_arg(a).decode("utf-8", "surrogateescape")) for a in args[:2])
            else:
                src = absolute(args[0], string_arg(args[1]).decode("utf-8", "surrogateescape"))
                dst = absolute(args[2], string_arg(args[3]).decode("utf-8", "surrogateescape"))
            src_name, dst_name = name_in_dir(src), name_in_dir(dst)
            if src_name is None and dst_name is None:
                continue
            if src_name is None or dst_name is None:
                raise RuntimeError(f"rename across the state directory: {src} -> {dst}")
            inode = names.pop(src_name)
            names[dst_name] = inode
            ops.append(("rename", src_name, dst_name, inode))
        elif name in ("unlink", "unlinkat"):
            path = (absolute(None, string_arg(args[0]).decode("utf-8", "surrogateescape")) if name == "unlink"
                    else absolute(args[0], string_arg(args[1]).decode("utf-8", "surrogateescape")))
            entry = name_in_dir(path)
            if entry is not None and entry in names:
                ops.append(("unlink", entry, names.pop(entry)))
        elif name in ("link", "linkat", "truncate"):
            raise RuntimeError(f"{name} in the trace: extend the model")
    return ops


# --- 3. Crash states ------------------------------------------------------------------------------

DIR_OPS = ("link", "rename", "unlink")


def apply_dir(entries: dict, op):
    if op[0] == "link":
        entries[op[1]] = op[2]
    elif op[0] == "rename":
        _, src, dst, inode = op
        if entries.get(src) == inode:
            del entries[src]
        entries[dst] = inode
    elif op[0] == "unlink":
        if entries.get(op[1]) == op[2]:
            del entries[op[1]]


def apply_data(content: bytes, op) -> bytes:
    if op[0] == "trunc":
        return b""
    _, _, offset, data = op
    if len(content) < offset:
        content += b"\0" * (offset - len(content))
    return content[:offset] + data + content[offset + len(data):]


def content_variants(durable: bytes, pending: list):
    """Data of one file after a cut: its last fsynced content plus a prefix of the later writes,
    the last of them torn in half, or nothing at all (delayed allocation: zero length)."""
    variants = {durable} | ({b""} if pending else set())
    content = durable
    for op in pending:
        if op[0] == "write" and len(op[3]) > 1:
            half = op[3][: len(op[3]) // 2]
            variants.add(apply_data(content, ("write", op[1], op[2], half)))
        content = apply_data(content, op)
        variants.add(content)
    return sorted(variants, key=lambda v: (len(v), v))


def crash_states(ops, max_subset_ops: int = 10):
    """Every distinct directory image a cut after each operation could leave, with a description."""
    seen = {}
    for cut in range(len(ops) + 1):
        done = ops[:cut]
        last_dirsync = max((i for i, op in enumerate(done) if op[0] == "dirsync"), default=-1)
        durable_entries = {}
        for op in done[: last_dirsync + 1]:
            if op[0] in DIR_OPS:
                apply_dir(durable_entries, op)
        pending_dir = [op for op in done[last_dirsync + 1:] if op[0] in DIR_OPS]
        if len(pending_dir) <= max_subset_ops:
            subsets = itertools.chain.from_iterable(
                itertools.combinations(pending_dir, n) for n in range(len(pending_dir) + 1))
        else:  # too many to enumerate: the in-order prefixes (ext4's journal) only
            subsets = (pending_dir[:n] for n in range(len(pending_dir) + 1))
        # Each file's fsynced content and its later data operations, as of this cut.
        durable, pending = {}, {}
        for op in done:
            if op[0] in ("trunc", "write"):
                pending.setdefault(op[1], []).append(op)
            elif op[0] == "fsync":
                content = durable.get(op[1], b"")
                for data_op in pending.pop(op[1], []):
                    content = apply_data(content, data_op)
                durable[op[1]] = content
        for subset in subsets:
            entries = dict(durable_entries)
            for op in subset:
                apply_dir(entries, op)
            per_file = [[(name, v) for v in content_variants(durable.get(inode, b""), pending.get(inode, []))]
                        for name, inode in sorted(entries.items())]
            for choice in itertools.product(*per_file):
                image = tuple(choice)
                key = tuple((name, hashlib.sha256(data).hexdigest()) for name, data in image)
                if key not in seen:
                    kept = [f"{o[1]}→{o[2]}" if o[0] == "rename" else f"{o[0]} {o[1]}" for o in subset]
                    seen[key] = (image, f"cut after op {cut}/{len(ops)}, unsynced entry ops kept: "
                                        f"[{', '.join(kept)}]")
    return list(seen.values())


# --- 4. What the agent will load, and what that cursor covers -------------------------------------

def load_state(path: str):
    try:
        with open(path, "rb") as f:
            state = json.loads(f.read())
        return state if isinstance(state, dict) and state.get("version") == 1 else None
    except (OSError, ValueError):
        return None


def chosen_state(directory: str):
    """AgentStateStore.load: state.json when usable, else state.json.prev, else nothing."""
    for name in ("state.json", "state.json.prev"):
        state = load_state(os.path.join(directory, name))
        if state is not None:
            return name, state
    return None, None


def published_map(cursor) -> dict:
    raw = cursor.get("published", {})
    if isinstance(raw, dict):
        return {int(k): int(v) for k, v in raw.items()}
    return {int(raw[i]): int(raw[i + 1]) for i in range(0, len(raw), 2)}  # Int64 keys: [k, v, k, v…]


TIMESTAMP = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?\s*(Z|[+-]\d\d:?\d\d)?$")


def event_millis(event) -> int:
    match = TIMESTAMP.match(str(event["timestamp"]))
    if not match:
        raise ValueError(f"unreadable event timestamp {event['timestamp']!r}")
    y, mo, d, h, mi, s, frac, zone = match.groups()
    base = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=timezone.utc).timestamp()
    millis = int(base) * 1000 + int((frac or "0").ljust(3, "0")[:3])
    if zone and zone != "Z":
        sign = -1 if zone[0] == "+" else 1
        digits = zone[1:].replace(":", "")
        millis += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * 1000
    return millis


def covered_ids(state, events: dict) -> set:
    """Ids of `events` the state's cursors account for: in `published` of the feed that owns the
    event (the endpoint feed for our endpoint's events, else the SIM feed), or before its window."""
    if not state:
        return set()
    cursors = state.get("cursors", {})
    endpoint_id = state.get("endpoint_id")
    covered = set()
    for event_id, event in events.items():
        owner = (f"endpoint:{endpoint_id}" if endpoint_id is not None and (event.get("endpoint") or {}).get("id") ==
                 endpoint_id else f"sim:{state.get('sim_id')}")
        cursor = cursors.get(owner)
        if cursor is None:
            continue
        if event_id in published_map(cursor) or event_millis(event) < int(cursor["windowStart"]):
            covered.add(event_id)
    return covered


# --- 5. Recovery on each state ----------------------------------------------------------------------

def recover(number, image, binary, emulator, broker, subscriber, workdir, acknowledged: dict):
    """Starts the agent on one crash state; returns a list of problems (empty: PASS)."""
    directory = os.path.join(workdir, f"state-{number}")
    os.mkdir(directory, 0o700)
    for name, data in image:
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
        os.chmod(os.path.join(directory, name), 0o600)
    loaded_from, state = chosen_state(directory)
    required = set(acknowledged) - covered_ids(state, acknowledged)
    prefix = f"r{number}"
    config = os.path.join(workdir, f"state-{number}.toml")
    agent_config(config, emulator, broker, directory, prefix)
    emulator.control("POST", "/_emulator/reset")  # authentication limits: many starts in a row
    log_path = os.path.join(workdir, f"state-{number}.log")
    problems = []
    with open(log_path, "w") as log:
        process = subprocess.Popen([binary, "run", "--config", config], stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: required <= set(subscriber.events(prefix)) or process.poll() is not None, 60,
                     "the acknowledged events not covered by the loaded cursor")
            wait_for(lambda: (subscriber.health(prefix) or {}).get("last_successful_poll") or process.poll() is not None,
                     60, "a successful poll")
        except TimeoutError as error:
            problems.append(str(error))
        finally:
            if process.poll() is not None:
                problems.append(f"the agent exited by itself with status {process.returncode}")
            status = stop(process)
    if status not in (0, None) and not problems:
        problems.append(f"exit status {status} after SIGTERM")
    # Its own topic prefix on this broker is a broker that lost every retained message (mosquitto
    # after a power cut before its autosave): the retained topics must come again.
    published = {topic.rsplit("/", 1)[-1] for topic, _ in subscriber.messages(prefix)}
    missing = [name for name in ("status", "identity", "state", "health") if name not in published]
    if missing:
        problems.append(f"retained topics not published after the start: {', '.join(missing)}")
    lost = required - set(subscriber.events(prefix))
    if lost:
        problems.append(f"lost {len(lost)} acknowledged event(s): {sorted(lost)[:10]}")
    log_text = open(log_path, errors="replace").read()
    for bad in ("Fatal error", "fatal error", "Illegal instruction", "Segmentation fault", "Trace/breakpoint"):
        if bad in log_text:
            problems.append(f"log: {bad}")
    names = {name for name, _ in image}
    if loaded_from == "state.json.prev" and "previous copy" not in log_text:
        problems.append("loaded the previous copy without saying so in its log")
    if loaded_from is None and names & {"state.json", "state.json.prev"} and "starting over" not in log_text:
        problems.append("no usable state file, and the log does not say it starts over")
    errors = [line for line in log_text.splitlines() if re.search(r"\berror\b", line) and "starting over" not in line]
    if errors:
        problems.append(f"error in the log: {errors[0][:200]}")
    return problems, loaded_from, len(required)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", required=True, help="directory holding emnify-edge and emnify-emulator")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of new events during the recording")
    parser.add_argument("--max-states", type=int, default=0, help="recover at most this many states (0: all)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    options = parser.parse_args()
    # A SIGTERM (e.g. from timeout) unwinds like an exception: every part started here is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    options.bin_dir = os.path.abspath(options.bin_dir)  # the recorded agent runs in the work directory
    edge = os.path.join(options.bin_dir, "emnify-edge")
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="emnify-crash-")
    parts = []
    passed = failed = 0
    try:
        emulator = Emulator(os.path.join(options.bin_dir, "emnify-emulator"), workdir)
        parts.append(emulator)
        broker = Broker(workdir)
        parts.append(broker)
        subscriber = Subscriber(broker.port, workdir)
        parts.append(subscriber)
        wait_for(lambda: os.path.getsize(subscriber.path) >= 0 and subscriber.process.poll() is None, 5, "subscriber")

        print("==> recording a run under strace", flush=True)
        state_dir, trace = record(edge, emulator, broker, subscriber, workdir, options.rounds)
        acknowledged = subscriber.events("rec")
        held = emulator.control("GET", "/_emulator/info")["events"]
        ops = operations(trace, os.path.realpath(state_dir), workdir)
        kinds = {}
        for op in ops:
            kinds[op[0]] = kinds.get(op[0], 0) + 1
        print(f"acknowledged events: {len(acknowledged)} (the emulator holds {held}); "
              f"operations on the state directory: {len(ops)} {kinds}")
        for op in ops:
            print("   ", op[0], *[(f"{len(x)} bytes" if isinstance(x, bytes) else x) for x in op[1:]])
        checks = [
            ("the recording published events over several polls", len(acknowledged) >= 20 + 2 * options.rounds),
            ("the trace holds state saves (rename + directory fsync)",
             kinds.get("rename", 0) >= 2 and kinds.get("dirsync", 0) >= 2),
        ]
        for description, ok in checks:
            print(("PASS  " if ok else "FAIL  ") + description)
            passed, failed = passed + ok, failed + (not ok)

        states = crash_states(ops)
        print(f"==> {len(states)} distinct crash states", flush=True)
        if options.max_states:
            states = states[: options.max_states]
        for number, (image, how) in enumerate(states):
            problems, loaded_from, required = recover(number, image, edge, emulator, broker, subscriber, workdir,
                                                      acknowledged)
            files = ", ".join(f"{name} ({len(data)} B)" for name, data in image) or "empty"
            line = (f"state {number}: {files}; loads {loaded_from or 'nothing'}; {required} event(s) to publish "
                    f"again; {how}")
            if problems:
                failed += 1
                print(f"FAIL  {line}\n      " + "\n      ".join(problems), flush=True)
            else:
                passed += 1
                print(f"PASS  {line}", flush=True)
    finally:
        for part in reversed(parts):
            part.stop()
        if options.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"==== crash consistency: {time.monotonic() - started:.0f} s ====")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
