"""gRPC health, derived from the services table and the backends' last check.

Per service: SERVING while what its entry's Health names can serve someone.
A sharded service stays SERVING with one shard down (requests for the other
shards succeed); each shard reports on its own health name,
"datagw.shard.<keyspace>.<index>", so the degraded one is visible. The empty
name is the whole gateway.
"""

from __future__ import annotations

from grpc_health.v1 import health_pb2

from gateway.runtime.services import SERVICES, Health
from gateway.runtime.startup import OpenBackends

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def statuses(opened: OpenBackends) -> dict[str, int]:
    """Every health name with its status, as of the backends' last check."""
    keyspaces = opened.backends.keyspaces

    def keyspace_up(name: str) -> bool:
        return any(s.healthy for s in keyspaces[name].shards)

    def up(health: Health, domain: str | None) -> bool:
        match health:
            case Health.ALWAYS:
                return True
            case Health.KEYSPACE:
                assert domain is not None
                return keyspace_up(opened.keyspace_of(domain))
            case Health.REDIS:
                # The cache being down never makes the catalog NOT_SERVING
                # (reads bypass it); sessions live only in Redis.
                return opened.backends.redis.healthy
            case Health.EVENT_SHARDS:
                return any(keyspace_up(k) for k in opened.event_keyspaces)
            case Health.ANALYTICS:
                clickhouse = opened.backends.clickhouse
                return clickhouse is not None and clickhouse.healthy

    out = {"": SERVING}
    for entry in SERVICES:
        out[entry.name] = SERVING if up(entry.health, entry.domain) else NOT_SERVING
    for ks in keyspaces.values():
        if ks.sharded:
            for shard in ks.shards:
                out[f"datagw.shard.{ks.name}.{shard.index}"] = (
                    SERVING if shard.healthy else NOT_SERVING)
    return out
