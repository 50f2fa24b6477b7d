"""A TCP relay in front of the emulator that counts what a client costs on the wire.

Every byte in both directions is counted after TLS, as a modem would carry it (TCP/IP
headers excluded), and every accepted connection is counted: each one is a TLS handshake.
"""

import asyncio
import threading


class CountingRelay:
    def __init__(self, target_port: int):
        self.target_port = target_port
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
        await asyncio.gather(
            self._pipe(client_reader, server_writer, up=True),
            self._pipe(server_reader, client_writer, up=False),
        )

    async def _pipe(self, reader, writer, up: bool) -> None:
        try:
            while data := await reader.read(65536):
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
