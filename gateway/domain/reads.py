"""Executes a read plan: the policy chose the level and shard(s), this picks
the node and runs the read there.

A read that a replica fails is retried on the primary, which satisfies every
level: a replica that died or hangs since its last probe (the read gives it
at most REPLICA_WAIT_S and half the call's time, and asks for a probe that
opens its circuit, so the next reads skip it), or a query a hot standby
cancelled because it conflicted with replay.

The plan's span attributes are set here (annotate), in one place for every
domain.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from gateway import request_context, telemetry
from gateway.domain import tokens
from gateway.errors import DeadlineExceeded, FailedPrecondition, Unavailable
from gateway.policy.decisions import ReadPlan, ReplicaView, choose_replica
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.storage.postgres.timelines import timeline_end, transaction_committed
from gateway.telemetry import READ_ROUTES

T = TypeVar("T")

# A replica that has not answered a read within this is abandoned for the
# primary (its probe then decides whether it is down).
REPLICA_WAIT_S = 1.0
log = logging.getLogger(__name__)


def annotate(plan: ReadPlan, keyspace: str) -> None:
    """The plan on the current span: what an operator filters traces by (not
    on the server span of another domain's method: telemetry.annotate)."""
    telemetry.annotate(plan.domain, {
        "datagw.keyspace": keyspace, "datagw.consistency": plan.level.value,
        **({"datagw.scatter": True} if plan.scatter else {"datagw.shard": plan.shards[0]}),
    })


def replica_budget(now: float) -> float:
    """How long a replica may take before the read moves to the primary: at
    most REPLICA_WAIT_S, and at most half of what is left of the call, so the
    primary always has the other half."""
    deadline = request_context.backend_deadline.get()
    if deadline is None:
        return REPLICA_WAIT_S
    return min(REPLICA_WAIT_S, max(deadline - now, 0.0) / 2)


def node_for(plan: ReadPlan, shard: Shard, position: tokens.Position | None) -> Shard:
    """The replica the plan allows and the replicas' tracked state picks, or
    the primary; `position` is the read's token for this shard
    (tokens.position_for)."""
    views = [ReplicaView(r.healthy, r.replay_lsn, r.staleness_s) for r in shard.replicas]
    choice = choose_replica(plan, views, position.lsn if position is not None else None)
    return shard if choice is None else shard.replicas[choice]


async def vouch(shard: Shard, position: tokens.Position | None) -> None:
    """Refuse a token whose write the shard's primary does not hold.

    Only a token from another timeline than the primary's needs a look: one
    from before a failover is honoured if its write was replicated before the
    switch point, and refused with FAILED_PRECONDITION if it was lost (a
    failover without synchronous replication); one from a newer timeline than
    this gateway reaches means it still talks to a demoted primary.
    """
    if position is None or position.timeline in (0, shard.timeline) or not shard.timeline:
        return
    if position.timeline > shard.timeline:
        shard.suspect()
        raise shard.unavailable(cause=f"the token is from timeline {position.timeline}, "
                                      f"newer than this gateway's primary ({shard.timeline})")
    survived = await _survived(shard, position)
    if survived is None:
        raise FailedPrecondition(
            f"keyspace {shard.keyspace!r} shard {shard.index} failed over around the write "
            "of this consistency token, which cannot tell whether it was replicated in time",
            reason="WRITE_MAYBE_LOST_IN_FAILOVER",
            metadata={"keyspace": shard.keyspace, "shard": str(shard.index),
                      "token_timeline": str(position.timeline),
                      "primary_timeline": str(shard.timeline)},
        )
    if not survived:
        raise FailedPrecondition(
            f"the write of this consistency token was lost: keyspace {shard.keyspace!r} "
            f"shard {shard.index} failed over before it was replicated",
            reason="WRITE_LOST_IN_FAILOVER",
            metadata={"keyspace": shard.keyspace, "shard": str(shard.index),
                      "token_timeline": str(position.timeline),
                      "primary_timeline": str(shard.timeline)},
        )


async def _survived(shard: Shard, position: tokens.Position) -> bool | None:
    """Whether the write of a token from an earlier timeline is in the
    primary's history (None: the token cannot tell). Its commit record lies
    between `start` and `lsn`: wholly before the switch point, it survived;
    wholly after, it was lost. Straddling it, the transaction decides: its
    first record came before the switch point, so the new primary knows its
    id and whether it committed. A token of no transaction of its own (a
    replayed request's) has no `start`."""
    end = await timeline_end(shard, position.timeline)
    if end is None:
        return False
    if position.lsn <= end:
        return True
    if position.start is None or position.xid is None:
        return None
    if position.start >= end:
        return False
    return await transaction_committed(shard, position.xid)


async def read_on_node(
    plan: ReadPlan, shard: Shard, token: str, operation: str,
    fn: Callable[[asyncpg.Connection], Awaitable[T]],
) -> tuple[T, Shard]:
    """The read's result and the node that served it (a replica or `shard`)."""
    position = tokens.position_for(token, shard.keyspace, shard.index)
    await vouch(shard, position)
    named = tokens.shard_named(token, shard.keyspace)
    # A token of another shard of this keyspace: its write reached this one
    # by a range move, whose cutover applied it on this primary; a replica
    # may not have replayed that yet, and the token's position cannot say.
    node = shard if named not in (None, shard.index) else node_for(plan, shard, position)
    if node.is_replica:
        loop = asyncio.get_running_loop()
        try:
            with request_context.within(loop.time(), replica_budget(loop.time())):
                async with node.connection(operation) as conn:
                    result = await fn(conn)
            READ_ROUTES.labels(plan.domain, plan.level.value, "replica").inc()
            return result, node
        except (Unavailable, DeadlineExceeded) as exc:
            # Down, or silent past its share of the call: the primary answers.
            log.info("replica read retried on the primary: %s",
                     exc.metadata.get("cause") or exc.reason)
        except asyncpg.PostgresError as exc:
            log.info("replica read retried on the primary: %s", type(exc).__name__)
    READ_ROUTES.labels(plan.domain, plan.level.value, "primary").inc()
    async with shard.connection(operation) as conn:
        return await fn(conn), shard


async def run_read(
    plan: ReadPlan, keyspace: Keyspace, token: str, operation: str,
    fn: Callable[[asyncpg.Connection], Awaitable[T]],
) -> T:
    """Run `fn` on the node the plan allows for its one shard."""
    annotate(plan, keyspace.name)
    result, _ = await read_on_node(plan, keyspace.shards[plan.shards[0]], token, operation, fn)
    return result
