"""Database reads routed by consistency: the policy picks the node, we run there.

A read that a replica fails is retried on the primary, which satisfies every
level: a replica that died since the last check (it is marked unhealthy, so
the next reads skip it until the tracker sees it again), or a query a hot
standby cancelled because it conflicted with replay.
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
from gateway.storage.postgres.pool import Shard
from gateway.telemetry import READ_ROUTES

T = TypeVar("T")
log = logging.getLogger(__name__)


def node_for(plan: ReadPlan, shard: Shard, token: str) -> Shard:
    token_lsn = tokens.lsn_for(token, shard.keyspace, shard.index)
    views = [ReplicaView(r.healthy, r.replay_lsn, r.staleness_s) for r in shard.replicas]
    choice = choose_replica(plan, views, token_lsn)
    return shard if choice is None else shard.replicas[choice]


async def run_read(
    domain: str, plan: ReadPlan, shard: Shard, token: str, operation: str,
    fn: Callable[[asyncpg.Connection], Awaitable[T]],
) -> T:
    node = node_for(plan, shard, token)
    span = trace.get_current_span()
    span.set_attribute("datagw.domain", domain)
    span.set_attribute("datagw.consistency", plan.level.value)
    span.set_attribute("datagw.shard", shard.index)
    if node.is_replica:
        try:
            async with node.connection(operation) as conn:
                result = await fn(conn)
            READ_ROUTES.labels(domain, plan.level.value, "replica").inc()
            return result
        except Unavailable:
            node.healthy = False
        except asyncpg.PostgresError as exc:
            log.info("replica read retried on the primary: %s", type(exc).__name__)
    READ_ROUTES.labels(domain, plan.level.value, "primary").inc()
    async with shard.connection(operation) as conn:
        return await fn(conn)
