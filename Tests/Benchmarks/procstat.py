"""Memory (anonymous, PSS, RSS) and CPU time of a process and its descendants, read from /proc."""

import os
import threading
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def tree(pid: int) -> list:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        queue.extend(_children(current))
    return pids


# What the benchmark reports of a process tree's memory (KB), from /proc/PID/smaps_rollup:
#   anonymous  Private_Dirty: pages only this process has written (heap, stacks, relocated data),
#              what it costs the machine. Private_Clean is left out, also of anonymous mappings:
#              there it is only pages read back from swap and not written since, which the kernel
#              can drop like the clean pages of files (and this machine has no swap).
#   pss        Pss: every resident page divided by the number of processes mapping it, so
#              libcrypto shared with mosquitto counts half.
#   rss        Rss: every resident page, shared or not (what `ps` and `top` show).
FIELDS = {"Private_Dirty:": "anonymous", "Pss:": "pss", "Rss:": "rss"}
KINDS = tuple(FIELDS.values())


def memory_kb(pid: int) -> dict:
    """anonymous, pss and rss of one process (zeros once it has exited)."""
    values = dict.fromkeys(KINDS, 0)
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                kind = FIELDS.get(line.split(None, 1)[0])
                if kind:
                    values[kind] = int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return values


def tree_memory_kb(pid: int) -> dict:
    """memory_kb summed over the process and its descendants (the shell loop and its children)."""
    total = dict.fromkeys(KINDS, 0)
    for member in tree(pid):
        for kind, value in memory_kb(member).items():
            total[kind] += value
    return total


def cpu_seconds(pid: int) -> float:
    """user+sys of the process, plus that of the children it has waited for (a shell loop's
    curl, jq and mosquitto_pub)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / CLOCK_TICKS


class MemorySampler:
    """Samples tree_memory_kb every `interval` seconds: the latest sample, and the peak of each
    kind on its own (the peaks need not fall on the same sample)."""

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid = pid
        self.interval = interval
        self.peak_kb = dict.fromkeys(KINDS, 0)
        self.latest_kb = dict.fromkeys(KINDS, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "MemorySampler":
        self._thread.start()
        return self

    def stop(self) -> "MemorySampler":
        self._stop.set()
        self._thread.join(2)
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            sample = tree_memory_kb(self.pid)
            if sample["rss"]:
                self.latest_kb = sample
                self.peak_kb = {kind: max(self.peak_kb[kind], sample[kind]) for kind in KINDS}
            time.sleep(self.interval)
