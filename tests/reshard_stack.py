"""A stack for resharding tests: four commerce shard servers, two serving.

Shards 0 and 1 serve "-80" and "80-"; shards 2 and 3 are spares that
serve nothing until a workflow moves a range onto them. Gateways get the
stack's DSNs (not embedded mode: the test owns the servers).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc

from gateway.runtime.config import KeyspaceConfig
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.server import Gateway
from gateway.storage.postgres.keyspace_id import KeyRange
from tests.commerce import Shop
from tests.conftest import TEST_SAGAS, make_config
from tests.embedded_stack import keyspaces_on

SERVING = (KeyRange.parse("-80"), KeyRange.parse("80-"), None, None)


async def reshard_keyspaces(stack: EmbeddedBackends) -> dict[str, KeyspaceConfig]:
    out = await keyspaces_on(stack)
    commerce = out["commerce"]
    out["commerce"] = KeyspaceConfig(commerce.name, commerce.shard_dsns, ranges=SERVING)
    return out


def start_stack(root: Path) -> EmbeddedBackends:
    stack = EmbeddedBackends(root, ephemeral=True, shards=4, supervise=False, analytics=False)
    stack.start()
    return stack


@asynccontextmanager
async def reshard_stack(prefix: str) -> AsyncIterator[EmbeddedBackends]:
    """The stack, started in a directory of its own and removed afterwards
    (not under pytest's basetemp: PostgreSQL runs as its own user as root)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    backends = await asyncio.to_thread(start_stack, root)
    try:
        yield backends
    finally:
        await asyncio.to_thread(backends.stop)
        shutil.rmtree(root, ignore_errors=True)


@asynccontextmanager
async def gateway_on(stack: EmbeddedBackends, keyspaces: dict[str, KeyspaceConfig],
                     tmp: Path, **overrides: object) -> AsyncIterator[tuple[Gateway, Shop]]:
    """A gateway in this process on the stack, with short saga leases;
    `overrides`: more config fields (e.g. clickhouse)."""
    gateway = Gateway(make_config(tmp, keyspaces=keyspaces, redis_url=stack.valkey.url,
                                  sagas=TEST_SAGAS, **overrides))
    await gateway.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
            yield gateway, Shop.on(channel)
    finally:
        await gateway.stop()
