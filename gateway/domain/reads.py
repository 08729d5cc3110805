"""Executes a read plan: the policy chose the level and shard(s), this picks
the node and runs the read there.

A read that a replica fails is retried on the primary, which satisfies every
level: a replica that died since the last check (it is marked unhealthy, so
the next reads skip it until the tracker sees it again), or a query a hot
standby cancelled because it conflicted with replay.

The plan's span attributes are set here (annotate), in one place for every
domain.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from opentelemetry import trace

from gateway.domain import tokens
from gateway.errors import Unavailable
from gateway.policy.decisions import ReadPlan, ReplicaView, choose_replica
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.telemetry import READ_ROUTES

T = TypeVar("T")
log = logging.getLogger(__name__)


def annotate(plan: ReadPlan, keyspace: str) -> None:
    """The plan on the current span: what an operator filters traces by."""
    span = trace.get_current_span()
    span.set_attribute("datagw.domain", plan.domain)
    span.set_attribute("datagw.keyspace", keyspace)
    span.set_attribute("datagw.consistency", plan.level.value)
    if plan.scatter:
        span.set_attribute("datagw.scatter", True)
    else:
        span.set_attribute("datagw.shard", plan.shards[0])


def node_for(plan: ReadPlan, shard: Shard, token: str) -> Shard:
    """The replica the plan allows and the replicas' tracked state picks, or
    the primary."""
    token_lsn = tokens.lsn_for(token, shard.keyspace, shard.index)
    views = [ReplicaView(r.healthy, r.replay_lsn, r.staleness_s) for r in shard.replicas]
    choice = choose_replica(plan, views, token_lsn)
    return shard if choice is None else shard.replicas[choice]


async def read_on_node(
    plan: ReadPlan, shard: Shard, token: str, operation: str,
    fn: Callable[[asyncpg.Connection], Awaitable[T]],
) -> tuple[T, Shard]:
    """The read's result and the node that served it (a replica or `shard`)."""
    node = node_for(plan, shard, token)
    if node.is_replica:
        try:
            async with node.connection(operation) as conn:
                result = await fn(conn)
            READ_ROUTES.labels(plan.domain, plan.level.value, "replica").inc()
            return result, node
        except Unavailable:
            node.healthy = False
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
