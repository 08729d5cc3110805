"""Versioned, idempotent schema migrations per keyspace.

Files live in migrations/<keyspace>/NNNN_name.sql and are applied in order,
all that are missing in one transaction, under a transaction-level advisory
lock so that several gateways starting at once apply each migration exactly
once. An applied migration whose file changed afterwards is an error: history
is never rewritten silently.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

MIGRATIONS_ROOT = Path(__file__).parent / "migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any constant works; it only has to be the same for every gateway.
_LOCK_ID = 0x64617461677700


class MigrationError(Exception):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(keyspace: str, root: Path = MIGRATIONS_ROOT) -> list[Migration]:
    folder = root / keyspace
    if not folder.is_dir():
        raise MigrationError(f"no migrations for keyspace {keyspace!r} in {folder}")
    found: list[Migration] = []
    for path in sorted(folder.iterdir()):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text("utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"keyspace {keyspace!r}: versions must be 1..n without gaps")
    return found


async def migrate(
    conn: asyncpg.Connection, keyspace: str, root: Path = MIGRATIONS_ROOT
) -> list[Migration]:
    """Apply what is missing on one shard; returns the migrations applied now.

    One transaction that first takes a transaction-level advisory lock and
    reads what is applied only under it: no session state, so this works
    through a transaction-mode pooler as well as directly (a session lock
    there would be taken on one server connection and released on another,
    or never). Gateways that waited on the lock find everything applied.
    """
    wanted = discover(keyspace, root)
    done: list[Migration] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_ID)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS datagw_schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        rows = await conn.fetch("SELECT version, checksum FROM datagw_schema_migrations")
        applied = {r["version"]: r["checksum"] for r in rows}
        for m in wanted:
            if m.version in applied:
                if applied[m.version] != m.checksum:
                    raise MigrationError(
                        f"keyspace {keyspace!r}: migration {m.version:04d}_{m.name} was changed "
                        "after it was applied; add a new migration instead"
                    )
                continue
            await conn.execute(m.sql)
            await conn.execute(
                "INSERT INTO datagw_schema_migrations (version, name, checksum) "
                "VALUES ($1, $2, $3)",
                m.version, m.name, m.checksum,
            )
            done.append(m)
    for m in done:
        log.info("applied migration %s %04d_%s", keyspace, m.version, m.name)
    return done
