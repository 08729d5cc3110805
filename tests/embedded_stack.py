"""A gateway on an embedded stack the test starts itself (supervision and
failover tests), not in embedded mode: the test must own the stack's
servers. It gets the stack's DSNs as embedded mode lays them out, and no
analytics store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc

from gateway.policy.loader import load_policies
from gateway.policy.model import Store
from gateway.runtime.config import KeyspaceConfig
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.server import Gateway
from gateway.runtime.services import POLICY_CATALOG
from gateway.runtime.startup import create_database
from tests.conftest import make_config
from tests.policy_fixtures import POLICIES


async def keyspaces_on(stack: EmbeddedBackends) -> dict[str, KeyspaceConfig]:
    """Every keyspace the policies name: the sharded one on the shard servers
    (a multi-host DSN for a shard with replicas), the others on the main one."""
    policies = load_policies(POLICIES, POLICY_CATALOG)
    out: dict[str, KeyspaceConfig] = {}
    for p in policies.domains.values():
        if p.store is not Store.POSTGRES or not p.keyspace or p.keyspace in out:
            continue
        servers = stack.shards if p.shard_key else [stack.postgres]
        for server in servers:
            await create_database(server.dsn, p.keyspace)
        out[p.keyspace] = KeyspaceConfig(
            p.keyspace, tuple(s.cluster_dsn(p.keyspace) for s in servers))
    return out


@asynccontextmanager
async def gateway_on(
    stack: EmbeddedBackends, tmp: Path
) -> AsyncIterator[tuple[Gateway, grpc.aio.Channel]]:
    gw = Gateway(make_config(tmp, keyspaces=await keyspaces_on(stack),
                             redis_url=stack.valkey.url))
    await gw.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as channel:
            yield gw, channel
    finally:
        await gw.stop()
