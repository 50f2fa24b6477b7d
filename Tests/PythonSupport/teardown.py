"""Stopping what a test driver started: every part, last started first, even when one of them fails
to stop; the work directory is kept when the run failed (or on request), for its logs."""

import shutil
import sys


def stop_all(parts) -> None:
    for stop in reversed(parts):
        try:
            stop()
        except Exception as error:  # noqa: BLE001 - every part must be stopped
            print(f"stopping a part: {error}", file=sys.stderr)


def stop_and_clean(parts, workdir: str, ok: bool, keep: bool) -> None:
    stop_all(parts)
    if ok and not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"logs kept in {workdir}")
