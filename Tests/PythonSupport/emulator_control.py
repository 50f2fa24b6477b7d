"""The emulator's control API (`/_emulator/...`), as the Python test drivers call it."""

import json
import subprocess
import urllib.request


def serve(binary: str, arguments: list, preexec_fn=None):
    """Starts `emnify-emulator serve ARGUMENTS` and reads its ready line: the process and the line's
    fields (`url`, `iccid`, `sim_id`, `endpoint_id`, `token`, `ca`)."""
    process = subprocess.Popen([binary, "serve"] + list(arguments), stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, preexec_fn=preexec_fn)
    line = process.stdout.readline()
    if not line.startswith("EMULATOR_READY"):
        process.kill()
        raise RuntimeError(f"emulator did not start: {line!r}")
    return process, dict(part.split("=", 1) for part in line.split()[1:])


def control(base_url: str, context, method: str, path: str, body=None, timeout: float = 120):
    """One JSON request; the decoded answer, or None for an empty one."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=context, timeout=timeout) as response:
        text = response.read()
        return json.loads(text) if text else None


# The organisation: many SIMs (`serve --sims N`), events for them, and the Data Streamer stand-in.
# Each takes the emulator's base URL and the SSL context (None for plain HTTP), as `control` does.

def sims(base_url: str, context, page: int = 1, per_page: int = 1000) -> dict:
    """`{"count": N, "sims": [{"index", "sim_id", "endpoint_id", "iccid", "iccid_with_luhn", "imsi"}]}`."""
    return control(base_url, context, "GET", f"/_emulator/sims?page={page}&per_page={per_page}")


def all_sims(base_url: str, context) -> list:
    """Every SIM of the fleet, paging through `/_emulator/sims`."""
    result, page = [], 1
    while True:
        answer = sims(base_url, context, page=page, per_page=10000)
        result += answer["sims"]
        if len(result) >= answer["count"] or not answer["sims"]:
            return result
        page += 1


def set_sim_count(base_url: str, context, count: int) -> int:
    """Grows the fleet to `count` SIMs (it never shrinks); the new count."""
    return control(base_url, context, "POST", "/_emulator/sims", {"count": count})["count"]


def add_sims(base_url: str, context, add: int) -> int:
    return control(base_url, context, "POST", "/_emulator/sims", {"add": add})["count"]


def generate_events(base_url: str, context, count: int = 1, sims="random", rate: float = None,
                    event_type: str = None):
    """Events for the fleet's SIMs: `sims` is "random" or a list of SIM ids (taken in turn).
    Without `rate` at once (the new ids); with `rate` (events per second) in the background
    (the number scheduled)."""
    body = {"count": count, "sims": sims}
    if rate is not None:
        body["rate"] = rate
    if event_type is not None:
        body["type"] = event_type
    answer = control(base_url, context, "POST", "/_emulator/events/generate", body)
    return answer["ids"] if rate is None else answer["scheduled"]


def inject_event(base_url: str, context, event_type: str, count: int = 1, sim_id: int = None,
                 timestamp: str = None, source: str = None) -> list:
    """`count` events of `event_type` (e.g. "user_verified", "organisation_updated" for
    organisation events without a SIM); the new ids."""
    body = {"type": event_type, "count": count}
    for key, value in (("sim_id", sim_id), ("timestamp", timestamp), ("source", source)):
        if value is not None:
            body[key] = value
    return control(base_url, context, "POST", "/_emulator/events", body)["ids"]


def create_stream(base_url: str, context, url: str, method: str = "POST", headers=None, size: int = 1,
                  interval_ms: int = None, timeout_ms: int = None, retry_initial_ms: int = None,
                  retry_max_ms: int = None, events: str = None, backlog_since: str = None,
                  ca_file: str = None, duplicate_rate: float = None, reorder: bool = None) -> dict:
    """Starts a webhook data stream to `url`; the stream as `streams` reports it (with its "id")."""
    body = {"url": url, "method": method, "headers": list(headers or []), "size": size}
    optional = {"interval_ms": interval_ms, "timeout_ms": timeout_ms, "retry_initial_ms": retry_initial_ms,
                "retry_max_ms": retry_max_ms, "events": events, "backlog_since": backlog_since,
                "ca_file": ca_file}
    body.update({key: value for key, value in optional.items() if value is not None})
    faults = {key: value for key, value in (("duplicate_rate", duplicate_rate), ("reorder", reorder))
              if value is not None}
    if faults:
        body["faults"] = faults
    return control(base_url, context, "POST", "/_emulator/streams", body)


def streams(base_url: str, context) -> list:
    """Every stream: id, url, method, headers (masked), size, status, delivered, pending,
    requests, retries, failures, duplicates, last_error, last_status."""
    return control(base_url, context, "GET", "/_emulator/streams")["streams"]


def stream(base_url: str, context, stream_id: int) -> dict:
    return control(base_url, context, "GET", f"/_emulator/streams/{stream_id}")


def delete_stream(base_url: str, context, stream_id: int) -> None:
    control(base_url, context, "DELETE", f"/_emulator/streams/{stream_id}")


def pause_stream(base_url: str, context, stream_id: int) -> None:
    control(base_url, context, "POST", f"/_emulator/streams/{stream_id}/pause")


def restart_stream(base_url: str, context, stream_id: int) -> None:
    control(base_url, context, "POST", f"/_emulator/streams/{stream_id}/restart")
