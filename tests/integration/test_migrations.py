"""Migrations are versioned, applied once, and never rewritten silently."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from gateway.runtime.server import Gateway
from gateway.storage.postgres.migrations import MIGRATIONS_ROOT, MigrationError, migrate

pytestmark = pytest.mark.integration


async def fresh_database(gateway: Gateway, name: str) -> str:
    assert gateway.embedded is not None
    admin_dsn = gateway.embedded.postgres.dsn
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_dsn.rsplit("/", 1)[0] + "/" + name


async def test_migrations_apply_once_even_when_gateways_race(gateway: Gateway, uid: str) -> None:
    dsn = await fresh_database(gateway, f"mig_{uid}")
    conns = [await asyncpg.connect(dsn) for _ in range(3)]
    try:
        applied = await asyncio.gather(*(migrate(c, "catalog") for c in conns))
        # One gateway applies everything; the others find nothing left to do.
        assert sorted(bool(a) for a in applied) == [False, False, True]
        assert await migrate(conns[0], "catalog") == []
        rows = await conns[0].fetch("SELECT version, name FROM datagw_schema_migrations")
        assert (rows[0]["version"], rows[0]["name"]) == (1, "products")
        assert len(rows) == len(list((MIGRATIONS_ROOT / "catalog").glob("*.sql")))
        assert await conns[0].fetchval("SELECT count(*) FROM products") == 0
    finally:
        for c in conns:
            await c.close()


@asynccontextmanager
async def migrated_copy(
    gateway: Gateway, uid: str, root: Path
) -> AsyncIterator[asyncpg.Connection]:
    """A fresh database migrated from an editable copy of the catalog migrations at root."""
    dsn = await fresh_database(gateway, f"mig_{uid}")
    shutil.copytree(MIGRATIONS_ROOT / "catalog", root / "catalog")
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, "catalog", root)
        yield conn
    finally:
        await conn.close()


async def test_a_changed_applied_migration_is_refused(
    gateway: Gateway, uid: str, tmp_path: Path
) -> None:
    async with migrated_copy(gateway, uid, tmp_path) as conn:
        edited = tmp_path / "catalog" / "0001_products.sql"
        edited.write_text(edited.read_text() + "\n-- edited after the fact\n")
        with pytest.raises(MigrationError, match="was changed after it was applied"):
            await migrate(conn, "catalog", tmp_path)
        gap = len(list((tmp_path / "catalog").glob("*.sql"))) + 2
        (tmp_path / "catalog" / f"{gap:04d}_gap.sql").write_text("SELECT 1;")
        with pytest.raises(MigrationError, match="without gaps"):
            await migrate(conn, "catalog", tmp_path)


async def test_a_new_migration_is_applied_in_order(
    gateway: Gateway, uid: str, tmp_path: Path
) -> None:
    async with migrated_copy(gateway, uid, tmp_path) as conn:
        following = len(list((tmp_path / "catalog").glob("*.sql"))) + 1
        (tmp_path / "catalog" / f"{following:04d}_extra.sql").write_text(
            "ALTER TABLE products ADD COLUMN extra text;")
        applied = await migrate(conn, "catalog", tmp_path)
        assert [m.name for m in applied] == ["extra"]
        assert await conn.fetchval(
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'extra'") == 1


async def test_a_failing_migration_leaves_none_of_its_start_applied(
    gateway: Gateway, uid: str, tmp_path: Path
) -> None:
    """All that is missing is applied in one transaction (under a lock that
    needs no session, so it works through a transaction pooler)."""
    async with migrated_copy(gateway, uid, tmp_path) as conn:
        following = len(list((tmp_path / "catalog").glob("*.sql"))) + 1
        (tmp_path / "catalog" / f"{following:04d}_good.sql").write_text(
            "ALTER TABLE products ADD COLUMN good text;")
        (tmp_path / "catalog" / f"{following + 1:04d}_bad.sql").write_text(
            "ALTER TABLE no_such_table ADD COLUMN bad text;")
        with pytest.raises(asyncpg.UndefinedTableError):
            await migrate(conn, "catalog", tmp_path)
        assert await conn.fetchval(
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'good'") == 0
        assert await conn.fetchval(
            "SELECT max(version) FROM datagw_schema_migrations") == following - 1
