"""A throwaway NATS JetStream cluster with its MQTT listener (Debian's nats-server 2.9), on free
loopback ports, for the Python test drivers (chaos test, benchmark). The twin of
Tests/TestSupport/NATSCluster.swift: same configuration, same readiness rule.

    cluster = Cluster(workdir, nodes=3, users={"relay": "secret"})
    cluster.mqtt_port(0); cluster.kill(0); cluster.freeze(1); cluster.restart(0); cluster.stop_all()

`start` returns only when every node's MQTT listener took a QoS 1 publish and answered PUBACK
(mosquitto_pub -q 1 exits 0 only then): MQTT works only once JetStream has a meta leader, and
the first MQTT connect creates the $MQTT_* streams. `python3 nats_cluster.py` starts one and
prints its ports until Ctrl-C.

No third-party imports (mosquitto_pub from mosquitto-clients is the probe)."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from waiting import die_with_parent, free_port

# Debian's package installs it in /usr/sbin.
EXECUTABLE = next((p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server") if os.access(p, os.X_OK)),
                  "/usr/sbin/nats-server")
PROBE = "/usr/bin/mosquitto_pub"


_taken_ports = set()


def _distinct_port() -> int:
    """A free port not handed out before in this process (two probes may get the same one)."""
    while True:
        port = free_port()
        if port not in _taken_ports:
            _taken_ports.add(port)
            return port


class Node:
    def __init__(self, index: int, directory: str):
        self.index = index
        self.name = f"n{index + 1}"
        self.directory = directory
        self.client_port, self.cluster_port, self.mqtt_port, self.http_port = (_distinct_port() for _ in range(4))
        self.process = None

    @property
    def config_file(self) -> str:
        return os.path.join(self.directory, "nats.conf")

    @property
    def log_file(self) -> str:
        return os.path.join(self.directory, "nats.log")

    @property
    def store_dir(self) -> str:
        return os.path.join(self.directory, "jetstream")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def configuration(node: Node, nodes: list, cluster_name: str, users: dict, stream_replicas: int,
                  mqtt_extra: list) -> str:
    routes = ", ".join(f'"nats-route://127.0.0.1:{other.cluster_port}"' for other in nodes if other is not node)
    lines = [
        f'server_name: "{node.name}"',
        f"listen: 127.0.0.1:{node.client_port}",
        f"http: 127.0.0.1:{node.http_port}",
        f'log_file: "{node.log_file}"',
        f'jetstream {{ store_dir: "{node.store_dir}" }}',
        f'cluster {{ name: "{cluster_name}", listen: 127.0.0.1:{node.cluster_port}, routes: [{routes}] }}',
        "mqtt {",
        f"  listen: 127.0.0.1:{node.mqtt_port}",
        # Explicit: 2.9.10 otherwise picked 2 replicas in a 3-node cluster here, and an R2 stream
        # loses its quorum when either of its two nodes dies.
        f"  stream_replicas: {stream_replicas}",
        *[f"  {line}" for line in mqtt_extra],
        "}",
    ]
    if users:
        entries = ", ".join(f"{{ user: {json.dumps(u)}, password: {json.dumps(p)} }}" for u, p in sorted(users.items()))
        lines.append(f"authorization {{ users: [{entries}] }}")
    return "\n".join(lines) + "\n"


class Cluster:
    """`nodes` nats-server processes, each with its own store_dir, routed to each other."""

    def __init__(self, workdir: str, nodes: int = 3, users: dict = None, mqtt_extra: list = None,
                 stream_replicas: int = None, cluster_name: str = "edge-test", start_timeout: float = 90):
        self.workdir = workdir
        self.users = dict(users or {})
        self.nodes = []
        for index in range(nodes):
            directory = os.path.join(workdir, f"nats-n{index + 1}")
            os.makedirs(directory, exist_ok=True)
            self.nodes.append(Node(index, directory))
        for node in self.nodes:
            with open(node.config_file, "w") as f:
                f.write(configuration(node, self.nodes, cluster_name, self.users,
                                      stream_replicas or min(nodes, 3), list(mqtt_extra or [])))
        try:
            for node in self.nodes:
                self._launch(node)
            self.wait_until_ready(start_timeout)
        except BaseException:
            self.stop_all()
            raise

    # Ports ------------------------------------------------------------------------------------

    def mqtt_port(self, node: int) -> int:
        return self.nodes[node].mqtt_port

    def http_port(self, node: int) -> int:
        return self.nodes[node].http_port

    def mqtt_hosts(self) -> list:
        return [("127.0.0.1", node.mqtt_port) for node in self.nodes]

    # Processes --------------------------------------------------------------------------------

    def _launch(self, node: Node) -> None:
        node.process = subprocess.Popen([EXECUTABLE, "-c", node.config_file], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        preexec_fn=die_with_parent)

    def kill(self, node: int) -> None:
        """SIGKILL: the node dies at once (its JetStream store stays as it was)."""
        self._signal(self.nodes[node], signal.SIGKILL, 10)

    def freeze(self, node: int, frozen: bool = True) -> None:
        """SIGSTOP / SIGCONT: a frozen node keeps its sockets open but reads and answers nothing."""
        if self.nodes[node].running():
            self.nodes[node].process.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)

    def stop(self, node: int) -> None:
        """SIGTERM (nats-server shuts down cleanly), SIGKILL after 15 s."""
        self._signal(self.nodes[node], signal.SIGTERM, 15)

    def _signal(self, node: Node, number: int, grace: float) -> None:
        if not node.running():
            return
        node.process.send_signal(number)
        node.process.send_signal(signal.SIGCONT)  # a frozen node acts on SIGTERM only once it runs again
        try:
            node.process.wait(grace)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait(10)

    def restart(self, node: int, timeout: float = 90) -> None:
        """Stops the node if it runs, starts it on the same ports and store, and waits until its MQTT
        listener takes a QoS 1 publish again."""
        self.stop(node)
        self._launch(self.nodes[node])
        self._wait_or_fail(self.nodes[node], timeout)

    def stop_all(self) -> None:
        for index in range(len(self.nodes)):
            self.stop(index)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()

    # Readiness --------------------------------------------------------------------------------

    def wait_until_ready(self, timeout: float) -> None:
        for node in self.nodes:
            self._wait_or_fail(node, timeout)

    def _wait_or_fail(self, node: Node, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not node.running():
                raise RuntimeError(f"nats-server node {node.index + 1} exited ({node.process.returncode}): "
                                   f"{self.log_tail(node.index)}")
            if self._node_ready(node):
                return
            time.sleep(0.25)
        raise TimeoutError(f"NATS node {node.index + 1} not ready after {timeout:.0f} s (routes "
                           f"{self.routes(node.index)}, healthz {self.healthz(node.index)}): "
                           f"{self.log_tail(node.index)}")

    def routes(self, node: int) -> int:
        """How many other nodes this one has a route to (monitoring endpoint /routez), -1 if it does not answer."""
        try:
            url = f"http://127.0.0.1:{self.nodes[node].http_port}/routez"
            with urllib.request.urlopen(url, timeout=2) as response:
                return len({route.get("remote_id") for route in json.load(response).get("routes") or []})
        except Exception:
            return -1

    def healthz(self, node: int) -> str:
        url = f"http://127.0.0.1:{self.nodes[node].http_port}/healthz?js-enabled-only=true"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read().decode()
        except Exception as error:  # the monitor answers 503 with a JSON body until JetStream is up
            body = getattr(error, "read", None)
            return body().decode() if body else str(error)

    def _node_ready(self, node: Node) -> bool:
        """Routes to every other running node, JetStream healthy, and a QoS 1 PUBLISH answered by PUBACK
        over MQTT 3.1.1 on this node."""
        others = sum(1 for other in self.nodes if other is not node and other.running())
        if self.routes(node.index) < others or '"ok"' not in self.healthz(node.index):
            return False
        arguments = [PROBE, "-h", "127.0.0.1", "-p", str(node.mqtt_port), "-V", "mqttv311", "-q", "1",
                     "-i", f"nats-cluster-probe-{node.name}", "-t", "nats-cluster/probe", "-m", "ready"]
        if self.users:
            user, password = sorted(self.users.items())[0]
            arguments += ["-u", user, "-P", password]
        try:
            return subprocess.run(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  timeout=15).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def log_tail(self, node: int, characters: int = 2000) -> str:
        try:
            with open(self.nodes[node].log_file, errors="replace") as f:
                return f.read()[-characters:]
        except OSError:
            return "(no log)"


if __name__ == "__main__":
    import tempfile

    directory = tempfile.mkdtemp(prefix="nats-cluster-")
    started = time.monotonic()
    with Cluster(directory) as cluster:
        print(f"ready after {time.monotonic() - started:.1f} s; directory {directory}")
        for node in cluster.nodes:
            print(f"{node.name}: mqtt 127.0.0.1:{node.mqtt_port} client {node.client_port} "
                  f"cluster {node.cluster_port} monitor http://127.0.0.1:{node.http_port} log {node.log_file}")
        sys.stdout.flush()
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
