"""The emulator's control API (`/_emulator/...`), as the Python test drivers call it."""

import json
import urllib.request


def control(base_url: str, context, method: str, path: str, body=None, timeout: float = 120):
    """One JSON request; the decoded answer, or None for an empty one."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=context, timeout=timeout) as response:
        text = response.read()
        return json.loads(text) if text else None
