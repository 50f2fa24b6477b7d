"""Idle polls behind a CDN's response headers, HTTP/1.1 against HTTP/2 (issue 15 §2).

Every emulator sends CloudFront/Express-like headers (`serve --cdn-headers`, about 1.4 KB with
ids that change per response); with `--http2` its TLS offers h2 by ALPN, without it only
http/1.1. Each case runs kept alive and with the server side closing connections idle for
0.5 s (the relay closes them, as in `idle_server_closes`). The peers take what they can:
emnify-edge's libcurl asks for HTTP/2 over TLS and so does the curl CLI; the SDK's `requests`
speaks HTTP/1.1 only, so its h2 rows are HTTP/1.1 again against the same server.
"""

CASES = (  # key, label, emulator options
    ("http1_kept", "HTTP/1.1, kept alive", {"http2": False}),
    ("http2_kept", "HTTP/2, kept alive", {"http2": True}),
    ("http1_closes", "HTTP/1.1, server closes idle", {"http2": False, "idle_timeout": 0.5}),
    ("http2_closes", "HTTP/2, server closes idle", {"http2": True, "idle_timeout": 0.5}),
)


def measure(run, peers) -> dict:
    """`run` is bench.Run; `peers` the kinds to start. One result per case, as `Run.window` gives."""
    polls = 10 if run.quick else 100
    results = {}
    for key, label, options in CASES:
        run.log(f"CDN headers, {label}: {polls} idle polls each")
        started = run.start(peers, run.args.interval, cdn_headers=True, **options)
        try:
            results[key] = run.window(started, polls)
        finally:
            run.stop(started)
    return results


def rows(results: dict, number, names) -> list:
    """The phase's table for the README (empty without the phase); report.py hands in its number
    format and peer names."""
    phase = results.get("http2_cdn")
    if not phase:
        return []
    lines = ["With a CDN's response headers (CloudFront/Express, about 1.4 KB with per-response ids; "
             "the SDK's `requests` has no HTTP/2, so its HTTP/2 rows are HTTP/1.1):", "",
             "| per idle poll, CDN headers | " + " | ".join(names[k] for k in names) + " |", "|---|---:|---:|---:|"]
    for key, label, _options in CASES:
        case = phase.get(key)
        if not case:
            continue
        lines.append(f"| bytes, {label} | " + " | ".join(
            f"{number(case[k]['bytes'])} ({number(case[k]['bytes_up'])} / {number(case[k]['bytes_down'])})" if k in case else "–"
            for k in names) + " |")
    for key, label, _options in CASES[2:]:
        case = phase.get(key)
        if case:
            lines.append(f"| new TLS connections, {label} | " + " | ".join(
                number(case[k]["connections"], 2) if k in case else "–" for k in names) + " |")
    return lines + ["", "(bytes: total (sent / received) per poll, after TLS, counted by the relay.)", ""]
