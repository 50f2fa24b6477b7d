"""A TCP relay in front of the emulator that counts what a client costs on the wire.

Every byte in both directions is counted after TLS, as a modem would carry it (TCP/IP
headers excluded), and every accepted connection is counted: each one is a TLS handshake.
"""

import asyncio
import threading


class CountingRelay:
    def __init__(self, target_port: int, idle_timeout=None):
        """idle_timeout: close a connection that carried no byte for this many seconds, as the
        server (or a carrier's NAT) does between polls."""
        self.target_port = target_port
        self.idle_timeout = idle_timeout
        self.port = 0
        self.bytes_up = 0  # client -> server
        self.bytes_down = 0  # server -> client
        self.connections = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> "CountingRelay":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("relay did not start")
        return self

    def snapshot(self) -> dict:
        with self._lock:
            return {"up": self.bytes_up, "down": self.bytes_down, "connections": self.connections}

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _close(self) -> None:
        self._server.close()
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _accept(self, client_reader, client_writer) -> None:
        with self._lock:
            self.connections += 1
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.close()
            return
        activity = [self._loop.time()]
        pipes = asyncio.gather(
            self._pipe(client_reader, server_writer, up=True, activity=activity),
            self._pipe(server_reader, client_writer, up=False, activity=activity),
        )
        if self.idle_timeout is None:
            await pipes
            return
        while not pipes.done():
            await asyncio.wait([pipes], timeout=self.idle_timeout / 10)
            if self._loop.time() - activity[0] > self.idle_timeout:
                for writer in (client_writer, server_writer):
                    writer.close()
                await asyncio.gather(pipes, return_exceptions=True)

    async def _pipe(self, reader, writer, up: bool, activity: list) -> None:
        try:
            while data := await reader.read(65536):
                activity[0] = self._loop.time()
                with self._lock:
                    if up:
                        self.bytes_up += len(data)
                    else:
                        self.bytes_down += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            # A close on one side closes the other: the server's idle timeout reaches the client.
            try:
                writer.close()
            except OSError:
                pass
