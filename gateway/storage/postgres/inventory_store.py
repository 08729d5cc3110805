"""SQL of the inventory keyspace: stock rows and reservations.

Every function runs inside the caller's transaction. Stock moves only through
conditional UPDATEs (`... WHERE on_hand - reserved >= $n`), so a concurrent
reservation either fits or changes nothing; the table's CHECKs are the
last line that makes a negative or oversold row impossible.
"""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from gateway.errors import FailedPrecondition, PreconditionViolation
from gateway.records.commerce import ReservationRecord, StockRecord
from gateway.storage.postgres.pool import one

STOCK_COLUMNS = "sku, on_hand, reserved, version, updated_at"
RESERVATION_COLUMNS = "reservation_id, state, items, saga_id, saga_shard_key, expires_at, " \
    "created_at"


def _stock(row: asyncpg.Record) -> StockRecord:
    return StockRecord(row["sku"], row["on_hand"], row["reserved"], row["version"],
                       row["updated_at"])


def _reservation(row: asyncpg.Record) -> ReservationRecord:
    raw = row["items"]
    items = json.loads(raw) if isinstance(raw, str) else raw
    return ReservationRecord(
        row["reservation_id"], row["state"],
        tuple((i["sku"], int(i["quantity"])) for i in items),
        row["saga_id"], row["saga_shard_key"], row["expires_at"], row["created_at"])


def insufficient(sku: str, wanted: int, available: int, reason: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"sku {sku!r}: {wanted} unit(s) wanted, {available} available",
        reason=reason,
        metadata={"sku": sku, "wanted": str(wanted), "available": str(available)},
        precondition_violations=(PreconditionViolation(
            "STOCK", f"stock/{sku}", f"{wanted} wanted, {available} available"),),
    )


async def get_stock(
    conn: asyncpg.Connection, sku: str, *, lock: bool = False
) -> StockRecord | None:
    row = await conn.fetchrow(
        f"SELECT {STOCK_COLUMNS} FROM stock WHERE sku = $1{' FOR UPDATE' if lock else ''}", sku)
    return _stock(row) if row else None


async def set_stock(conn: asyncpg.Connection, sku: str, on_hand: int) -> StockRecord:
    """Insert or overwrite on_hand; never below what is reserved."""
    row = await conn.fetchrow(
        f"""INSERT INTO stock AS s (sku, on_hand) VALUES ($1, $2)
            ON CONFLICT (sku) DO UPDATE
                SET on_hand = $2, version = s.version + 1, updated_at = now()
                WHERE s.reserved <= $2
            RETURNING {STOCK_COLUMNS}""",
        sku, on_hand,
    )
    if row is None:
        current = await get_stock(conn, sku)
        assert current is not None
        raise FailedPrecondition(
            f"sku {sku!r}: {current.reserved} unit(s) are reserved; on_hand cannot be set to "
            f"{on_hand}", reason="BELOW_RESERVED",
            metadata={"sku": sku, "reserved": str(current.reserved)},
            precondition_violations=(PreconditionViolation(
                "STOCK", f"stock/{sku}", f"at least {current.reserved} (reserved)"),))
    return _stock(row)


async def adjust_stock(conn: asyncpg.Connection, sku: str, delta: int) -> StockRecord | None:
    """on_hand += delta unless that leaves less than is reserved; None: no such sku."""
    row = await conn.fetchrow(
        f"""UPDATE stock SET on_hand = on_hand + $2, version = version + 1, updated_at = now()
            WHERE sku = $1 AND on_hand + $2 >= reserved
            RETURNING {STOCK_COLUMNS}""",
        sku, delta,
    )
    if row is not None:
        return _stock(row)
    current = await get_stock(conn, sku)
    if current is None:
        return None
    raise insufficient(sku, -delta, current.available, "INSUFFICIENT_STOCK")


async def get_reservation(
    conn: asyncpg.Connection, reservation_id: str, *, lock: bool = False
) -> ReservationRecord | None:
    row = await conn.fetchrow(
        f"SELECT {RESERVATION_COLUMNS} FROM reservations WHERE reservation_id = $1"
        f"{' FOR UPDATE' if lock else ''}", reservation_id)
    return _reservation(row) if row else None


async def claim_reservation(
    conn: asyncpg.Connection, reservation_id: str, items: list[tuple[str, int]],
    ttl_s: float, saga_id: str, saga_shard_key: str,
) -> ReservationRecord | None:
    """Insert the held reservation; None when the id exists already.

    A concurrent first attempt with the same id makes this wait on the
    primary key until it commits or rolls back, so one id is one reservation.
    """
    row = await conn.fetchrow(
        f"""INSERT INTO reservations (reservation_id, state, items, saga_id, saga_shard_key,
                                      expires_at)
            VALUES ($1, 'held', $2::jsonb, $3, $4, now() + make_interval(secs => $5))
            ON CONFLICT (reservation_id) DO NOTHING
            RETURNING {RESERVATION_COLUMNS}""",
        reservation_id, json.dumps([{"sku": s, "quantity": q} for s, q in items]),
        saga_id, saga_shard_key, ttl_s,
    )
    return _reservation(row) if row else None


async def hold(conn: asyncpg.Connection, items: list[tuple[str, int]]) -> None:
    """Reserve every line or raise OUT_OF_STOCK (the caller's transaction rolls back).

    Lines are taken in sku order so two reservations of the same skus lock
    rows in the same order and cannot deadlock.
    """
    for sku, qty in sorted(items):
        row = await conn.fetchrow(
            """UPDATE stock SET reserved = reserved + $2, version = version + 1,
                                updated_at = now()
               WHERE sku = $1 AND on_hand - reserved >= $2
               RETURNING sku""",
            sku, qty,
        )
        if row is None:
            current = await get_stock(conn, sku)
            raise insufficient(sku, qty, current.available if current else 0, "OUT_OF_STOCK")


# How each transition moves the stock of every line.
MOVES = {
    ("held", "committed"): "on_hand = on_hand - $2, reserved = reserved - $2",
    ("held", "released"): "reserved = reserved - $2",
    ("committed", "returned"): "on_hand = on_hand + $2",
}


async def transition(
    conn: asyncpg.Connection, reservation: ReservationRecord, to: str
) -> ReservationRecord:
    """Move a locked reservation from its state to `to`, moving its stock."""
    move = MOVES[(reservation.state, to)]
    for sku, qty in sorted(reservation.items):
        await conn.execute(
            f"UPDATE stock SET {move}, version = version + 1, updated_at = now() WHERE sku = $1",
            sku, qty,
        )
    row = await conn.fetchrow(
        f"""UPDATE reservations SET state = $2, updated_at = now() WHERE reservation_id = $1
            RETURNING {RESERVATION_COLUMNS}""",
        reservation.reservation_id, to,
    )
    return _reservation(one(row))


async def expired_reservations(conn: asyncpg.Connection, limit: int) -> list[ReservationRecord]:
    rows = await conn.fetch(
        f"""SELECT {RESERVATION_COLUMNS} FROM reservations
            WHERE state = 'held' AND expires_at < now()
            ORDER BY expires_at LIMIT $1""",
        limit,
    )
    return [_reservation(r) for r in rows]


async def saga_reservations_since(conn: asyncpg.Connection, since: datetime
                                  ) -> list[ReservationRecord]:
    """Reservations of sagas, held or committed, made at or after `since`."""
    rows = await conn.fetch(
        f"""SELECT {RESERVATION_COLUMNS} FROM reservations
            WHERE saga_id <> '' AND state IN ('held', 'committed') AND created_at >= $1
            ORDER BY created_at""",
        since)
    return [_reservation(r) for r in rows]


async def existing_reservations(conn: asyncpg.Connection, ids: list[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT reservation_id FROM reservations WHERE reservation_id = ANY($1::text[])", ids)
    return {r["reservation_id"] for r in rows}
