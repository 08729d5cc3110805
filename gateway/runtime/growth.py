"""Adding a commerce shard server to a running gateway in embedded mode.

The embedded backends start one more PostgreSQL server (with replicas like
the others); the gateway opens and migrates its keyspace database on it,
the server records which shard it is (owning nothing: a spare), and every
per-shard job takes it on: its event notifier, the replication tracker,
the relay, the projections. A resharding workflow can then move a range
onto it (docs/resharding.md). Configured (not embedded) deployments list
their servers in the config instead.
"""

from __future__ import annotations

import asyncio
import logging

from gateway.runtime.startup import OpenBackends, create_database, database_on
from gateway.runtime.wiring import Wiring
from gateway.storage.postgres.migrations import migrate
from gateway.storage.postgres.pool import Shard

log = logging.getLogger(__name__)


async def add_embedded_shard(opened: OpenBackends, wiring: Wiring, keyspace: str) -> int:
    embedded, maps = opened.embedded, opened.maps
    assert embedded is not None and maps is not None
    ks = opened.backends.keyspaces[keyspace]
    server = await asyncio.to_thread(embedded.add_shard)
    await create_database(server.dsn, keyspace)
    index = len(ks.shards)
    settings = ks.shards[0].settings
    shard = Shard(keyspace, index, server.cluster_dsn(keyspace), settings)
    shard.replicas = [Shard(keyspace, index, database_on(r.dsn, keyspace), settings,
                            role=f"replica{j}") for j, r in enumerate(server.replicas)]
    await shard.open_all()
    async with shard.connection("migrate") as conn:
        await migrate(conn, keyspace)
    ks.shards.append(shard)
    await maps.identify(ks, shard)
    # Embedded servers are reached directly (no pooler): LISTEN there.
    notifier = opened.notifiers.add(keyspace, shard, database_on(server.dsn, keyspace))
    opened.replication.track(shard)
    if wiring.relay is not None:
        wiring.relay.add(keyspace, shard, notifier)
    wiring.projections.add_sources()
    log.info("keyspace %s: shard server %d added (%s); it serves nothing until a range "
             "moves onto it", keyspace, index, server.data_dir)
    return index
