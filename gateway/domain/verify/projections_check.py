"""projections: each read model against a recomputation from its source
tables, for the keys the projection has caught up on.

user_order_summary (per commerce shard, per user and currency) is compared
with the shard's orders table in one snapshot of that shard, so the
projection, its checkpoint and the orders are of one moment; users with an
order event after the checkpoint (not applied yet) and erased users are
skipped and counted. product_sales (catalog, per sku) is compared with the
standing orders of every commerce shard: the catalog's rows and
checkpoints are read first, then each shard in a snapshot that skips the
skus of order events after that shard's checkpoint.

The recomputation reads the orders tables, not the events: event
retention may have removed order events the read model counted.
"""

from __future__ import annotations

from gateway.domain.verify.context import MAX_LISTED, Run, reading, where
from gateway.records.verify import ERROR, PROJECTIONS, CheckResult, Finding
from gateway.storage.postgres import verify_store as pg
from gateway.storage.postgres.pool import Shard
from gateway.storage.postgres.projection_store import PRODUCT_SALES, USER_ORDER_SUMMARY


def _sales_text(totals: tuple[int, int, dict[str, int]]) -> str:
    units, orders, revenue = totals
    money = ", ".join(f"{c} {v}" for c, v in sorted(revenue.items()))
    return f"units {units}, orders {orders}, revenue {{{money}}}"


def _no_zeros(totals: tuple[int, int, dict[str, int]]) -> tuple[int, int, dict[str, int]]:
    units, orders, revenue = totals
    return units, orders, {c: v for c, v in revenue.items() if v}


async def check(run: Run) -> CheckResult:
    result = CheckResult(PROJECTIONS)
    commerce = run.stores.commerce
    for shard in commerce.shards:
        async with reading(result, f"{USER_ORDER_SUMMARY} on {where(shard)}"):
            await _user_summary(run, shard, result)
    async with reading(result, PRODUCT_SALES):
        await _product_sales(run, result)
    return result


async def _user_summary(run: Run, shard: Shard, result: CheckResult) -> None:
    ranges = run.stores.commerce.map.ranges_of(shard.index)
    async with shard.connection("SELECT verify user_order_summary") as conn, \
            pg.snapshot(conn):
        at = await pg.projection_cursor(conn, USER_ORDER_SUMMARY, shard.keyspace, shard.index)
        if at is None:
            result.count("shards_not_started")
            return
        generation, cursor = at
        users = await pg.sample_users(conn, ranges, run.fraction, run.seed)
        behind = await pg.users_behind(conn, cursor)
        erased = await pg.erased_users(conn, generation, users)
        keys = [u for u in users if u not in behind and u not in erased]
        got = await pg.summary_rows(conn, keys)
        want = await pg.summary_recomputed(conn, keys)
    result.count("users", len(keys))
    result.count("users_skipped_behind", len(set(users) & behind))
    result.count("users_skipped_erased", len(erased))
    listed = 0
    for user, currency in sorted(got.keys() | want.keys()):
        a, b = want.get((user, currency), (0, 0, 0)), got.get((user, currency), (0, 0, 0))
        if a == b:
            continue
        result.count("user_mismatches")
        listed += 1
        if listed > MAX_LISTED:
            continue
        result.add(Finding(
            PROJECTIONS, "projection_mismatch", ERROR, shard.keyspace, shard.index,
            USER_ORDER_SUMMARY, f"user {user} {currency}",
            "orders {}, cancelled {}, spent {}".format(*a),
            "orders {}, cancelled {}, spent {}".format(*b),
            f"recomputed from the orders table at the projection's checkpoint "
            f"{cursor.commit}-{cursor.position}; RebuildProjection {USER_ORDER_SUMMARY} fixes it"))


async def _product_sales(run: Run, result: CheckResult) -> None:
    catalog = run.stores.catalog.single
    commerce = run.stores.commerce
    async with catalog.connection("SELECT verify product_sales") as conn, \
            pg.snapshot(conn):
        cursors = {}
        for shard in commerce.shards:
            at = await pg.projection_cursor(conn, PRODUCT_SALES, shard.keyspace, shard.index)
            cursors[shard.index] = at[1] if at else None
        skus = set(await pg.sample_sale_skus(conn, run.fraction, run.seed))
        sold = set()
        for shard in commerce.shards:
            async with shard.connection("SELECT verify order_items") as shard_conn:
                sold |= set(await pg.sample_sold_skus(shard_conn, run.fraction, run.seed))
        skus |= sold
        got = await pg.sales_rows(conn, sorted(skus))
    want: pg.SkuTotals = {}
    behind: set[str] = set()
    for shard in commerce.shards:
        cursor = cursors[shard.index]
        async with shard.connection("SELECT verify order_items") as conn, \
                pg.snapshot(conn):
            if cursor is not None:
                behind |= await pg.skus_behind(conn, cursor)
            part = await pg.sales_recomputed(conn, commerce.map.ranges_of(shard.index),
                                             sorted(skus))
        if cursor is None:
            # Nothing applied from this shard yet: its skus are all behind.
            behind |= set(part)
        for sku, (units, orders, revenue) in part.items():
            u, o, r = want.get(sku, (0, 0, {}))
            merged = dict(r)
            for currency, value in revenue.items():
                merged[currency] = merged.get(currency, 0) + value
            want[sku] = (u + units, o + orders, merged)
    compared = sorted(skus - behind)
    result.count("skus", len(compared))
    result.count("skus_skipped_behind", len(skus & behind))
    listed = 0
    for sku in compared:
        a = _no_zeros(want.get(sku, (0, 0, {})))
        b = _no_zeros(got.get(sku, (0, 0, {})))
        if a == b:
            continue
        result.count("sku_mismatches")
        listed += 1
        if listed > MAX_LISTED:
            continue
        result.add(Finding(
            PROJECTIONS, "projection_mismatch", ERROR, run.stores.catalog.name, None,
            PRODUCT_SALES, f"sku {sku}", _sales_text(a), _sales_text(b),
            f"recomputed from the standing orders of every commerce shard; "
            f"RebuildProjection {PRODUCT_SALES} fixes it"))
