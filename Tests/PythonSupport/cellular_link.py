"""A gateway's cellular link to the fleet cluster, as the Python test drivers need it: a TCP
forwarder on a free loopback port between a gateway's mosquitto bridge and the cluster's MQTT
listeners, that can be cut without stopping either side, and that counts every byte it carries.

    link = Link([("127.0.0.1", 4222), ...])   # the cluster's nodes, tried in order
    link.cut()      # open connections are closed; new ones are accepted and closed at once
    link.restore()
    link.snapshot() # {"up", "down", "chunks_up", "chunks_down", "connections"}

A cut closes the sockets instead of black-holing them, so the bridge notices at once rather than
after 1.5 keepalives: the test then depends on the bridge's restart timer only. The bytes are
MQTT's plaintext (no TLS on loopback); `chunks_*` count the reads, from which a caller can
estimate TLS's per-record overhead. No third-party imports."""

import asyncio
import threading

from tcp_pipe import pipe


class Link:
    def __init__(self, targets):
        self.targets = list(targets)
        self.port = 0
        self.is_cut = False
        self._counts = {"up": 0, "down": 0, "chunks_up": 0, "chunks_down": 0, "connections": 0}
        self._lock = threading.Lock()
        self._writers = set()
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the link's listener did not start")

    def _run(self, ready):
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()

    def snapshot(self) -> dict:
        with self._lock:
            return dict(self._counts)

    def cut(self) -> None:
        """No connection gets through until `restore`; the open ones are closed now."""
        self.is_cut = True
        asyncio.run_coroutine_threadsafe(self._close_all(), self._loop).result(10)

    def restore(self) -> None:
        self.is_cut = False

    async def _close_all(self):
        for writer in list(self._writers):
            writer.close()

    async def _accept(self, reader, writer):
        if self.is_cut:
            writer.close()
            return
        upstream = None
        for host, port in self.targets:
            try:
                upstream = await asyncio.wait_for(asyncio.open_connection(host, port), 2)
                break
            except (OSError, asyncio.TimeoutError):
                continue
        if upstream is None or self.is_cut:
            writer.close()
            if upstream:
                upstream[1].close()
            return
        with self._lock:
            self._counts["connections"] += 1
        up_reader, up_writer = upstream
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer, "up"), self._pipe(up_reader, writer, "down"))
        finally:
            self._writers.difference_update((writer, up_writer))

    async def _pipe(self, source, sink, direction):
        def count(size):
            with self._lock:
                self._counts[direction] += size
                self._counts["chunks_" + direction] += 1
        # One side closing closes the other: a cut reaches both the bridge and the cluster.
        await pipe(source, sink, count)

    async def _shutdown(self):
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
