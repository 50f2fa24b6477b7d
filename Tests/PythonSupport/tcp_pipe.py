"""One direction of a TCP forwarder (the chaos test's balancer, the bridged test's cellular link)."""

import asyncio


async def pipe(source, sink, on_chunk=None):
    """Copies `source` to `sink` until either side ends; `on_chunk(n)` is told each chunk's size.
    One side closing closes the other, so a cut reaches both ends."""
    try:
        while data := await source.read(65536):
            if on_chunk:
                on_chunk(len(data))
            sink.write(data)
            await sink.drain()
    except (OSError, asyncio.CancelledError):
        pass
    finally:
        try:
            sink.close()
        except OSError:
            pass
