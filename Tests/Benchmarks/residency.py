"""Where a process's resident memory is: per mapping (executable, each library, anonymous), and
for the executable per ELF section, from /proc/PID/pagemap (needs root) and `readelf -S`.
    python3 Tests/Benchmarks/residency.py PID
Used for the memory discussion in README.md ("Benchmarks"): it explains the RSS that the
benchmark reports beside anonymous memory and PSS."""
import os, re, struct, subprocess, sys
from collections import defaultdict
pid = int(sys.argv[1]); PAGE = 4096
exe = os.readlink(f"/proc/{pid}/exe")
maps = []
for line in open(f"/proc/{pid}/maps"):
    parts = line.split()
    lo, hi = (int(x, 16) for x in parts[0].split("-"))
    off = int(parts[2], 16); path = parts[5] if len(parts) > 5 else ""
    maps.append((lo, hi, parts[1], off, path))
pm = open(f"/proc/{pid}/pagemap", "rb")
def present(lo, hi):
    try:
        pm.seek(lo // PAGE * 8); data = pm.read((hi - lo) // PAGE * 8)
    except OSError:
        return []
    if len(data) < (hi - lo) // PAGE * 8: return []
    return [lo + i * PAGE for i in range((hi - lo) // PAGE) if struct.unpack_from("<Q", data, i * 8)[0] >> 63 & 1]
# sections: name, file offset, size (only ALLOC ones with file content)
secs = []
for line in subprocess.run(["readelf", "-SW", exe], capture_output=True, text=True).stdout.splitlines():
    m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
    if m:
        name, addr, off, size = m.group(1), int(m.group(2), 16), int(m.group(3), 16), int(m.group(4), 16)
        if addr: secs.append((name, off, size))
per_sec = defaultdict(int); per_lib = defaultdict(int)
for lo, hi, perm, off, path in maps:
    pages = present(lo, hi)
    per_lib[(os.path.basename(path) or "[anon]") + " " + perm] += len(pages) * 4
    if path == exe:
        for p in pages:
            foff = off + (p - lo)
            for name, so, sz in secs:
                if so <= foff < so + max(sz, 1):
                    per_sec[name] += 4; break
            else:
                per_sec["?"] += 4
print("exe", exe)
for k, v in sorted(per_sec.items(), key=lambda x: -x[1]):
    sz = next((s[2] for s in secs if s[0] == k), 0)
    print(f"  {k:40s} {v:7d} KB resident of {sz//1024:7d} KB")
print("mappings")
for k, v in sorted(per_lib.items(), key=lambda x: -x[1])[:40]:
    print(f"  {k:50s} {v:7d} KB")
print("total", sum(per_lib.values()), "KB")
# The benchmark's three numbers for the same process (procstat.py): anonymous is Private_Dirty.
rollup = dict(l.split()[:2] for l in open(f"/proc/{pid}/smaps_rollup") if l.split()[0].endswith(":"))
print("anonymous (Private_Dirty)", rollup["Private_Dirty:"], "KB, PSS", rollup["Pss:"], "KB, RSS", rollup["Rss:"], "KB")
