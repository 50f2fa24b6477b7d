"""What the Python test drivers (benchmark, power-cut states, chaos) share: a free loopback port, a
bounded wait for a condition, and children that die with the driver. No third-party imports, so
every driver can use it."""

import socket
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def die_with_parent() -> None:
    """For `preexec_fn`: the child gets SIGKILL when the driver dies, however it ends."""
    import ctypes
    import signal
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
