"""What only a Redis (Valkey) Cluster needs: the client, a breaker per primary,
the list of primaries, the pools' sizes.

redis-py's `RedisCluster` routes each command by its key's slot and follows
MOVED and ASK itself; it refreshes its slot map after a connection error or a
MOVED, which is how it finds a promoted replica. Every multi-key command and
script the gateway sends keeps its keys in one slot (hash tags), so nothing
here splits commands.

The near cache's tracking needs more than routing: one connection per primary
(a node reports only the writes it executes), so `primaries` asks the cluster
which nodes are primaries now (CLUSTER NODES, on a connection of its own, so
that the answer does not depend on redis-py's cached map being fresh). A
primary without slots counts: while a slot migrates to it, ASK sends writes
there before it owns anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import redis
import redis.exceptions
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.cluster import PRIMARY

# Besides connection errors, what a cluster in the middle of a failover
# answers: no primary for the slot yet (CLUSTERDOWN), a slot map being rebuilt,
# or redirections that never settled (redis-py gives up with a ClusterError).
DOWN_ERRORS = (redis.exceptions.ClusterError, redis.exceptions.SlotNotCoveredError,
               redis.exceptions.TryAgainError)

# A slot being migrated answers a command whose keys are split between the
# two nodes with TRYAGAIN; redis-py retries that (and ASK) a few times, then
# gives up with ClusterError("TTL exhausted"). Nothing ran, so the call is
# tried again after these pauses before the backend counts as down.
_MIGRATION_PAUSES_S = (0.02, 0.05, 0.1, 0.2, 0.4)

# Cluster-level retries: after a connection error each one refreshes the slot
# map first, so a few quick ones find a just-promoted replica, while a dead
# primary still fails the call in well under a second.
_RETRIES = 2


T = TypeVar("T")


async def call(client: RedisCluster, fn: Callable[[RedisCluster], Awaitable[T]]) -> T:
    """`fn(client)`, tried again while its slot is being migrated; redis-py's
    connection races are reported as the connection errors they are."""
    pauses = iter(_MIGRATION_PAUSES_S)
    while True:
        try:
            return await _races_as_connection_errors(fn(client))
        except (redis.exceptions.TryAgainError, redis.exceptions.ClusterError) as exc:
            pause = next(pauses, None)
            if isinstance(exc, redis.exceptions.ClusterDownError) or pause is None:
                raise
            await asyncio.sleep(pause)


async def _races_as_connection_errors(running: Awaitable[T]) -> T:
    # When a node fails, redis-py disconnects the node's idle connections
    # while other calls may be taking one of them, which then writes to a
    # closed stream and fails with AttributeError (or, on newer Pythons,
    # TypeError: redis/redis-py#4287) instead of ConnectionError, and would
    # reach the caller as INTERNAL. Only errors raised inside redis-py or
    # asyncio's transports are converted; one raised by our own code stays a bug.
    try:
        return await running
    except (AttributeError, TypeError) as exc:
        if not _raised_in_library(exc):
            raise
        raise redis.exceptions.ConnectionError(
            f"connection closed under the call ({type(exc).__name__}: {exc})") from exc


_LIBRARIES = (Path(redis.__file__).parent, Path(asyncio.__file__).parent)


def _raised_in_library(exc: BaseException) -> bool:
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    where = Path(tb.tb_frame.f_code.co_filename)
    return any(where.is_relative_to(library) for library in _LIBRARIES)


class NodeBreaker:
    """The circuit breaker of a cluster, per primary.

    A primary that failed is skipped for `retry_after_s` by the calls whose
    key it serves (as redis-py's slot map has it), while calls to the other
    primaries go on: one primary's failover is not an outage of every user's
    sessions. A call without a key (a pipeline over many slots, a scan) is
    skipped while any primary is, and when one fails without naming its node
    only such calls are skipped.
    """

    _MULTI = "*"  # the entry of keyless calls that failed on an unnamed node

    def __init__(self, client: RedisCluster, retry_after_s: float) -> None:
        self._client = client
        self._retry_after_s = retry_after_s
        self._down: dict[str, float] = {}  # node name (or slot) -> skipped until (monotonic)

    def _target(self, key: str | None) -> str:
        """The node serving `key` (the slot, while none is known); _MULTI for no key."""
        if key is None:
            return self._MULTI
        slot = self._client.keyslot(key)
        nodes = self._client.nodes_manager.slots_cache.get(slot)
        return nodes[0].name if nodes else f"slot {slot}"

    def is_open(self, key: str | None) -> bool:
        now = time.monotonic()
        if key is None:
            return any(until > now for until in self._down.values())
        return self._down.get(self._target(key), 0.0) > now

    def failed(self, exc: BaseException, key: str | None) -> None:
        if _slot_moving(exc):
            # The node answered, with redirects: the call's slot was still
            # moving when its retries ran out. Skipping the node would fail
            # every other call it serves (the slot's sessions, say) though
            # single-key commands follow the migration's ASK redirects.
            return
        # redis-py names the node a connection error or timeout came from.
        node = getattr(exc, "last_failed_node_name", None) or self._target(key)
        self._down[node] = time.monotonic() + self._retry_after_s

    def answered(self, key: str | None) -> bool:
        """A call for `key` succeeded; True when no node is known down any more."""
        self._down.pop(self._target(key), None)
        return not self._down

    def clear(self) -> None:
        """Every node is probed (the health check): none is skipped."""
        self._down.clear()


def _slot_moving(exc: BaseException) -> bool:
    """Whether `exc` is a slot migration outlasting a call's retries: TRYAGAIN
    (a multi-key command whose keys the migration split), or redis-py giving
    up after MOVED/ASK/TRYAGAIN redirects ("TTL exhausted"; a connection error
    or a cluster down is raised as itself)."""
    return isinstance(exc, redis.exceptions.TryAgainError) or (
        type(exc) is redis.exceptions.ClusterError and "TTL exhausted" in str(exc))


def parse_seed(seed: str) -> tuple[str, int]:
    """`host:port` as a pair (an IPv6 host with or without brackets, as redis-py
    names nodes); ValueError if it is not one."""
    host, sep, port = seed.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536 \
            or any(c in host for c in "/@ "):
        raise ValueError(f"expected host:port, got {seed!r}")
    return host, int(port)


class _FollowsAskToNewNodes(RedisCluster):
    """RedisCluster that can follow an ASK to a node it does not know yet.

    A node that receives its first slots by a migration is not in CLUSTER
    SLOTS until the migration ends, so redis-py (8.1) finds no node for the
    ASK and fails with AttributeError (redis/redis-py#4015). An unknown node
    named here is added as a primary, as redis-py's own MOVED handling
    (NodesManager.move_slot) adds one; the next full refresh keeps or drops
    it like any other. Within redis-py only ASK and SCAN look nodes up by
    name, besides maintenance notifications, which need RESP3 and are off here.
    """

    def get_node(
        self, host: str | None = None, port: int | None = None, node_name: str | None = None,
    ) -> ClusterNode | None:
        node = super().get_node(host, port, node_name)
        if node is None and node_name is not None:
            manager = self.nodes_manager
            node = ClusterNode(*parse_seed(node_name), PRIMARY, **manager.connection_kwargs)
            manager.set_nodes(manager.nodes_cache, {node.name: node})
        return node


def cluster_client(url: str, seeds: Iterable[str], **kwargs: Any) -> RedisCluster:
    """A cluster client that may discover the cluster from `url`'s node or any seed."""
    nodes = [ClusterNode(*parse_seed(s)) for s in seeds]
    return _FollowsAskToNewNodes.from_url(
        url, startup_nodes=nodes,
        retry=Retry(ExponentialBackoff(cap=0.1, base=0.02), _RETRIES),
        # Every MOVED patches the slot map with the slot's new owner. The
        # default (a full refresh every 5th MOVED) first closes every pooled
        # connection, calls in flight on them included: during a migration
        # other callers then failed with AttributeError inside redis-py.
        reinitialize_steps=0, **kwargs)


def node_connection(client: RedisCluster, node: str) -> Connection:
    """A new connection (not pooled) to `node`, with the client's auth, TLS and timeouts."""
    host, port = parse_seed(node)
    kwargs = dict(client.connection_kwargs)
    connection_class = kwargs.pop("connection_class")
    for pooled_only in ("max_connections", "response_callbacks"):
        kwargs.pop(pooled_only, None)
    # RESP2: pub/sub messages are plain arrays of bytes whatever the client decodes.
    kwargs.update(host=host, port=port, protocol=2, decode_responses=False)
    connection: Connection = connection_class(**kwargs)
    return connection


def known_nodes(client: RedisCluster) -> list[str]:
    """Every node the client knows (primaries first), then its startup nodes."""
    nodes = sorted(client.get_nodes(), key=lambda n: n.server_type != "primary")
    names = [n.name for n in nodes] + [n.name for n in client.startup_nodes]
    return list(dict.fromkeys(names))


async def primaries(client: RedisCluster) -> list[str]:
    """The `host:port` of every primary, from the first node that answers."""
    error: Exception | None = None
    for node in known_nodes(client):
        conn: Any = node_connection(client, node)  # redis-py leaves connect() untyped
        try:
            await conn.connect()
            await conn.send_command("CLUSTER", "NODES")
            raw = await conn.read_response()
        except (redis.exceptions.RedisError, OSError) as exc:
            error = exc
            continue
        finally:
            with contextlib.suppress(redis.exceptions.RedisError, OSError):
                await conn.disconnect()
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        return primaries_in(text, asked=node)
    raise redis.exceptions.ConnectionError(f"no cluster node answers CLUSTER NODES: {error}")


def primaries_in(nodes: str, asked: str) -> list[str]:
    """The primaries a CLUSTER NODES reply names (`asked`: the node that sent it).

    A primary marked failed (or not yet known) is left out unless it still
    owns slots: until its replica takes over, a partitioned primary may still
    take writes from clients that reach it.
    """
    found = set()
    for line in nodes.splitlines():
        fields = line.split()
        if len(fields) < 8 or "master" not in fields[2].split(","):
            continue
        gone = {"fail", "noaddr", "handshake"} & set(fields[2].split(","))
        if gone and len(fields) == 8:
            continue
        # ip:port@cport[,hostname]; an empty ip means the address it was asked at.
        address = fields[1].split("@", 1)[0]
        host, _, port = address.rpartition(":")
        found.add(f"{host or asked.rpartition(':')[0]}:{port}")
    return sorted(found)


def pool_stats(client: RedisCluster, max_per_node: int) -> tuple[int, int, int]:
    """(max, open, in use) connections over every node the client has a pool for."""
    nodes = client.get_nodes()
    opened = sum(len(n._connections) for n in nodes)
    idle = sum(len(n._free) for n in nodes)
    return max_per_node * max(1, len(nodes)), opened, opened - idle
