"""SQL of the inventory keyspace: stock rows and reservations.

Every function runs inside the caller's transaction, or is one statement,
atomic by itself. Stock moves only through conditional UPDATEs (`... WHERE
on_hand - reserved >= $n`), so a concurrent reservation either fits or
changes nothing; the table's CHECKs are the last line that makes a
negative or oversold row impossible. A reservation's
steps run in the database (the functions of inventory migration 0008), each
with the event that records it, one statement per step: all of it or, on
any refusal (out of stock, a tombstoned stream), none.
"""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from gateway.errors import FailedPrecondition, PreconditionViolation
from gateway.records.commerce import ReservationRecord, StockRecord
from gateway.storage.eventstore import recorder
from gateway.storage.eventstore.recorder import EventMeta, NewEvent

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


_OUT_OF_STOCK = "datagw:OUT_OF_STOCK"  # raised by reserve_stock (inventory migration 0008)

# The reservation columns of a function's row `r.<out>`, its `changed`, and
# the items for the event that records the step (recorder.append_after).
_STEP = ", ".join(f"(r.{{out}}).{c}" for c in RESERVATION_COLUMNS.split(", ")) + \
    ", r.changed, jsonb_build_object('items', (r.{out}).items) AS event_fields"
_RESERVE = f"""SELECT {_STEP.format(out="held")}
    FROM reserve_stock($7, $8::text[], $9::bigint[], $10, $11, $12) AS r"""
_MOVE = f"""SELECT {_STEP.format(out="moved")}
    FROM move_reservation($7, $8, $9, $10, $11) AS r"""


async def reserve(
    conn: asyncpg.Connection, reservation_id: str, items: list[tuple[str, int]],
    ttl_s: float, saga_id: str, saga_shard_key: str, event: NewEvent, meta: EventMeta,
) -> tuple[ReservationRecord, bool]:
    """Claim the id and hold every line, or none (OUT_OF_STOCK), and record
    `event` (its payload gets the reservation's items): one statement.
    (reservation, True) when made now; (the reservation as it is, False)
    when the id exists already, recording nothing.

    A concurrent first attempt with the same id makes this wait on the
    primary key until it commits or rolls back, so one id is one reservation.
    """
    try:
        row = await recorder.append_after(
            conn, _RESERVE, (reservation_id, [s for s, _ in items], [q for _, q in items], ttl_s,
                             saga_id, saga_shard_key), [event], meta, None)
    except asyncpg.RaiseError as exc:
        if exc.message != _OUT_OF_STOCK:
            raise
        line = json.loads(exc.detail or "{}")
        raise insufficient(line["sku"], int(line["wanted"]), int(line["available"]),
                           "OUT_OF_STOCK") from None
    return _reservation(row), bool(row["changed"])


# Each move: the state it leaves, and how it changes every line's on_hand
# and reserved (times the line's quantity).
MOVES = {
    "committed": ("held", -1, -1),
    "released": ("held", 0, -1),
    "returned": ("committed", 1, 0),
}


async def move(
    conn: asyncpg.Connection, reservation_id: str, to: str, event: NewEvent, meta: EventMeta,
) -> tuple[ReservationRecord | None, bool]:
    """Move the reservation to `to` (locking it, then its stock rows in sku
    order) and record `event` (its payload gets the items): one statement.
    (reservation, True) when moved now; (the reservation as it is, False)
    when it is not in the state `to` moves from; (None, False): no such id."""
    source, on_hand, reserved = MOVES[to]
    row = await recorder.append_after(conn, _MOVE, (reservation_id, source, to, on_hand, reserved),
                                      [event], meta, None)
    if row["reservation_id"] is None:
        return None, False
    return _reservation(row), bool(row["changed"])


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
