"""Policy directories to break on purpose, and gateways that run on them.

Shared across tiers (so it lives in tests/, not in one tier's directory): the
policy unit tests, the `datagw policy check` e2e tests, and the integration
tests that need a second gateway on an edited copy of policies/.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc

from gateway.runtime.config import KeyspaceConfig
from gateway.runtime.embedded.valkey import EmbeddedValkey
from gateway.runtime.server import Gateway
from tests.conftest import ROOT, make_config

POLICIES = ROOT / "policies"


def copy_policies(tmp: Path, name: str = "policies") -> Path:
    """A private copy of the default policy directory, safe to edit."""
    target = tmp / name
    shutil.copytree(POLICIES, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    """Replace `old` (which must be there, so a drifting default fails loudly) by `new`."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@asynccontextmanager
async def running_gateway(
    tmp: Path, policies_dir: Path, shared: Gateway,
    replicas: dict[str, tuple[tuple[str, ...], ...]] | None = None,
    keyspaces: dict[str, KeyspaceConfig] | None = None, **overrides: object,
) -> AsyncIterator[tuple[Gateway, grpc.aio.Channel, EmbeddedValkey]]:
    """A second in-process gateway on `policies_dir`, with a Valkey of its own.

    Not in embedded mode, which would start servers of its own: it borrows
    the shared PostgreSQL (rows are keyed by the test's uid) and gets a private Valkey, so
    flushing or capping there never touches what other tests cached.
    `replicas` adds replica DSNs per keyspace (one tuple per shard);
    `keyspaces` replaces the shared ones (the same databases by another way,
    or servers of the test's own);
    `overrides` set other Config fields (auth, tls, unix_socket).
    """
    assert shared.backends is not None
    if keyspaces is None:
        keyspaces = {name: KeyspaceConfig(name, tuple(s.dsn for s in ks.shards),
                                          replica_dsns=(replicas or {}).get(name, ()))
                     for name, ks in shared.backends.keyspaces.items()}
    valkey = EmbeddedValkey(tmp / "valkey")
    await asyncio.to_thread(valkey.start)
    gw = Gateway(make_config(tmp, policies_dir=policies_dir, keyspaces=keyspaces,
                             redis_url=valkey.url, **overrides))
    try:
        await gw.start()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as channel:
            yield gw, channel, valkey
    finally:
        await gw.stop()
        await asyncio.to_thread(valkey.stop)
