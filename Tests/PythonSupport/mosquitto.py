"""A throwaway mosquitto on a free loopback port, for the Python test drivers."""

import os
import socket
import subprocess

from waiting import free_port, wait_for


class Broker:
    """No persistence, anonymous clients; `max_queued_messages` large enough that a subscriber
    falling behind a backfill keeps its QoS 1 queue instead of losing messages."""

    def __init__(self, workdir: str, max_queued_messages: int = 100_000, start_timeout: float = 15):
        self.port = free_port()
        config = os.path.join(workdir, f"mosquitto-{self.port}.conf")
        with open(config, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    f"max_queued_messages {max_queued_messages}\n")
        self.process = subprocess.Popen(["/usr/sbin/mosquitto", "-c", config],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.accepts, start_timeout, "mosquitto to listen")

    def accepts(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
