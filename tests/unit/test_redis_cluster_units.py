"""Redis Cluster helpers without a cluster: which nodes the near cache must
track, which errors are redis-py's connection races, and which failures skip
a node."""

from __future__ import annotations

from typing import Any, cast

import pytest
import redis.exceptions
from redis.asyncio.connection import Connection

from gateway.storage.redis.cluster import NodeBreaker, _races_as_connection_errors, primaries_in

# Valkey's format: id addr flags primary ping pong epoch link [slots...]
REPLY = """\
a1 10.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-5460
a2 10.0.0.2:6379@16379,cache-2 master - 0 1 2 connected 5461-10922
a3 10.0.0.3:6379@16379 master,fail? - 0 1 3 connected 10923-16383
r1 10.0.0.4:6379@16379 slave a1 0 1 1 connected
a4 10.0.0.5:6379@16379 master - 0 1 7 connected
a5 10.0.0.6:6379@16379 master,fail - 0 1 4 connected
a6 10.0.0.7:6379@16379 master,fail - 0 1 5 connected 100-200
h1 10.0.0.8:6379@16379 master,handshake - 0 0 0 connected
"""


def test_every_primary_that_may_take_writes() -> None:
    assert primaries_in(REPLY, asked="10.0.0.1:6379") == [
        "10.0.0.1:6379",  # the node asked
        "10.0.0.2:6379",  # a hostname after the bus port changes nothing
        "10.0.0.3:6379",  # suspected, not yet failed: it may still take writes
        "10.0.0.5:6379",  # no slots yet: a migration's ASK may send writes there
        "10.0.0.7:6379",  # failed but still owning slots until its replica takes over
    ]


def test_an_empty_address_is_the_node_asked() -> None:
    reply = "a1 :7000@17000 myself,master - 0 0 0 connected\n"
    assert primaries_in(reply, asked="cache-0:7000") == ["cache-0:7000"]


async def test_a_write_on_a_connection_closed_under_it_is_a_connection_error() -> None:
    # Where redis-py fails when a node's idle connections are disconnected
    # just as a call took one: the write finds the stream gone.
    conn = Connection()
    assert conn._writer is None
    with pytest.raises(redis.exceptions.ConnectionError, match="closed under the call"):
        await _races_as_connection_errors(conn._send_packed_command([b"PING"]))


async def test_our_own_attribute_error_stays_a_bug() -> None:
    async def buggy() -> None:
        raise AttributeError("a typo of ours")

    with pytest.raises(AttributeError, match="a typo of ours"):
        await _races_as_connection_errors(buggy())


def _breaker() -> NodeBreaker:
    # No call here needs the client: keyless failures name their node.
    return NodeBreaker(cast(Any, None), retry_after_s=5.0)


def _from(node: str, exc: Exception) -> Exception:
    exc.last_failed_node_name = node  # type: ignore[attr-defined]
    return exc


def test_a_failed_node_is_skipped() -> None:
    breaker = _breaker()
    breaker.failed(_from("127.0.0.1:7000", redis.exceptions.ConnectionError("refused")), None)
    assert breaker.is_open(None)


def test_a_slot_still_moving_when_the_retries_ran_out_skips_nothing() -> None:
    breaker = _breaker()
    breaker.failed(_from("127.0.0.1:7000", redis.exceptions.ClusterError("TTL exhausted.")),
                   None)
    breaker.failed(_from("127.0.0.1:7000", redis.exceptions.TryAgainError("TRYAGAIN")), None)
    assert not breaker.is_open(None)
    # Any other cluster error is the node's.
    breaker.failed(_from("127.0.0.1:7000", redis.exceptions.ClusterError("boom")), None)
    assert breaker.is_open(None)
