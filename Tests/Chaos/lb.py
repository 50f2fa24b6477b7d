"""A TCP round-robin load balancer for the chaos test: what HAProxy or nginx does in front of the
two relays' webhooks (deploy/haproxy), reduced to what the test needs. A connection goes to the
next relay in turn; a relay that refuses the connection is skipped (the balancer's health check)."""

import asyncio
import threading

from tcp_pipe import pipe


class RoundRobin:
    def __init__(self, targets):
        self.targets = list(targets)  # [(host, port)]
        self.port = 0
        self.next = 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.server = server
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _serve(self, reader, writer):
        upstream = None
        for _ in range(len(self.targets)):
            host, port = self.targets[self.next % len(self.targets)]
            self.next += 1
            try:
                upstream = await asyncio.wait_for(asyncio.open_connection(host, port), 2)
                break
            except (OSError, asyncio.TimeoutError):
                continue
        if upstream is None:
            writer.close()
            return
        up_reader, up_writer = upstream

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def _shutdown(self):
        self.server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self):
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
