"""The control tables (catalog migration 0005): range maps and resharding workflows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from gateway.records.resharding import Phase, Workflow

_WORKFLOW_COLUMNS = """workflow, keyspace, key_range, source, target, phase, requested, error,
    detail::text AS detail, created_at, updated_at"""


def _workflow(row: asyncpg.Record) -> Workflow:
    return Workflow(row["workflow"], row["keyspace"], row["key_range"], row["source"],
                    row["target"], Phase(row["phase"]), row["requested"], row["error"],
                    json.loads(row["detail"]), row["created_at"], row["updated_at"])


async def load_map(conn: asyncpg.Connection, keyspace: str) -> tuple[int, str] | None:
    row = await conn.fetchrow(
        "SELECT version, ranges::text AS ranges FROM range_maps WHERE keyspace = $1", keyspace)
    return None if row is None else (int(row["version"]), str(row["ranges"]))


async def map_version(conn: asyncpg.Connection, keyspace: str) -> int:
    return int(await conn.fetchval(
        "SELECT coalesce(max(version), 0) FROM range_maps WHERE keyspace = $1", keyspace))


async def seed_map(conn: asyncpg.Connection, keyspace: str, version: int,
                   ranges: str) -> tuple[int, str]:
    """The keyspace's map, written from the config if it has none yet."""
    await conn.execute(
        """INSERT INTO range_maps (keyspace, version, ranges) VALUES ($1, $2, $3::jsonb)
           ON CONFLICT (keyspace) DO NOTHING""", keyspace, version, ranges)
    found = await load_map(conn, keyspace)
    assert found is not None
    return found


async def swap_map(conn: asyncpg.Connection, keyspace: str, expected: int, version: int,
                   ranges: str) -> bool:
    """Replace the map if it is still at `expected` (False: someone else changed it)."""
    status = await conn.execute(
        """UPDATE range_maps SET version = $3, ranges = $4::jsonb, updated_at = now()
           WHERE keyspace = $1 AND version = $2""", keyspace, expected, version, ranges)
    return status.endswith(" 1")


async def insert_workflow(conn: asyncpg.Connection, wf: Workflow) -> Workflow | None:
    """The new workflow, or None when the keyspace has an unfinished one."""
    row = await conn.fetchrow(
        f"""INSERT INTO reshard_workflows (workflow, keyspace, key_range, source, target, phase)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT DO NOTHING RETURNING {_WORKFLOW_COLUMNS}""",
        wf.workflow, wf.keyspace, wf.key_range, wf.source, wf.target, wf.phase.value)
    return None if row is None else _workflow(row)


async def get_workflow(conn: asyncpg.Connection, workflow: str) -> Workflow | None:
    row = await conn.fetchrow(
        f"SELECT {_WORKFLOW_COLUMNS} FROM reshard_workflows WHERE workflow = $1", workflow)
    return None if row is None else _workflow(row)


async def list_workflows(conn: asyncpg.Connection, keyspace: str = "") -> list[Workflow]:
    rows = await conn.fetch(
        f"""SELECT {_WORKFLOW_COLUMNS} FROM reshard_workflows
            WHERE $1 = '' OR keyspace = $1 ORDER BY created_at DESC LIMIT 100""", keyspace)
    return [_workflow(r) for r in rows]


async def request(conn: asyncpg.Connection, workflow: str, action: str,
                  phases: list[str]) -> Workflow | None:
    """Record the operator's `action` if the workflow is in one of `phases`."""
    row = await conn.fetchrow(
        f"""UPDATE reshard_workflows SET requested = $2, error = '', updated_at = now()
            WHERE workflow = $1 AND phase = ANY($3::text[]) RETURNING {_WORKFLOW_COLUMNS}""",
        workflow, action, phases)
    return None if row is None else _workflow(row)


@dataclass(frozen=True)
class Claimed:
    """What one claim took: `workflows` this gateway now drives, and (when
    it took none) `lease_left_s`: how long until the first live lease of
    another driver on an unfinished workflow runs out (None: there is none)."""

    workflows: list[Workflow]
    lease_left_s: float | None


async def claim(conn: asyncpg.Connection, owner: str, lease_s: float) -> Claimed:
    """The unfinished workflows this gateway now drives: its own, and those
    whose driver's lease ran out (it crashed, or stopped). One statement:
    the driver of an idle gateway runs it every few seconds."""
    # `held` reads the table as it was before the UPDATE: with no row
    # claimed that is the table as it is. The outer join keeps its one row
    # when nothing was claimed.
    rows = await conn.fetch(
        f"""WITH claimed AS (
                UPDATE reshard_workflows
                SET lease_owner = $1, lease_until = now() + make_interval(secs => $2)
                WHERE phase NOT IN ('done', 'cancelled')
                  AND (lease_owner = $1 OR lease_until < now())
                RETURNING {_WORKFLOW_COLUMNS}),
            held AS (
                SELECT extract(epoch FROM min(lease_until) - now())::float8 AS lease_left_s
                FROM reshard_workflows
                WHERE phase NOT IN ('done', 'cancelled') AND lease_owner <> $1
                  AND lease_until >= now())
            SELECT claimed.*, held.lease_left_s FROM held LEFT JOIN claimed ON true""",
        owner, lease_s)
    workflows = [_workflow(r) for r in rows if r["workflow"] is not None]
    return Claimed(workflows, None if workflows else rows[0]["lease_left_s"])


async def save(conn: asyncpg.Connection, workflow: str, owner: str, phase: Phase,
               detail: dict[str, Any], error: str, consumed: str = "") -> bool:
    """Record progress while still holding the lease (False: lost it); the
    operator's request is cleared if it is the one `consumed` (one asked
    meanwhile stays)."""
    status = await conn.execute(
        """UPDATE reshard_workflows SET phase = $3, detail = $4::jsonb, error = $5,
               requested = CASE WHEN $6 <> '' AND requested = $6 THEN '' ELSE requested END,
               updated_at = now()
           WHERE workflow = $1 AND lease_owner = $2""",
        workflow, owner, phase.value, json.dumps(detail), error, consumed)
    return status.endswith(" 1")


async def release(conn: asyncpg.Connection, owner: str) -> None:
    """Give up this gateway's leases (on stop), so another resumes at once."""
    await conn.execute("UPDATE reshard_workflows SET lease_until = now() "
                       "WHERE lease_owner = $1", owner)
