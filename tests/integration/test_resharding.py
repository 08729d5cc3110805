"""Resharding on real servers: a range moves to a spare shard and back while
orders are placed, and every guarantee holds across the cutover."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from gateway.records.resharding import Action, Phase
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.server import Gateway
from gateway.storage.postgres.keyspace_id import KeyRange, keyspace_id
from tests.commerce import Shop
from tests.reshard_stack import gateway_on, reshard_keyspaces, reshard_stack

pytestmark = pytest.mark.asyncio(loop_scope="session")

MOVING = KeyRange.parse("40-80")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack() -> AsyncIterator[EmbeddedBackends]:
    async with reshard_stack("datagw-reshard-") as backends:
        yield backends


@pytest_asyncio.fixture(loop_scope="session")
async def gw(stack: EmbeddedBackends, tmp_path: Path) -> AsyncIterator[tuple[Gateway, Shop]]:
    async with gateway_on(stack, await reshard_keyspaces(stack), tmp_path) as running:
        yield running


def _users_in(rng: KeyRange, prefix: str, count: int) -> list[str]:
    out: list[str] = []
    n = 0
    while len(out) < count:
        candidate = f"{prefix}-{n}"
        if rng.contains(keyspace_id(candidate)):
            out.append(candidate)
        n += 1
    return out


async def _count(stack: EmbeddedBackends, shard: int, query: str) -> int:
    conn = await asyncpg.connect(stack.shards[shard].dsn.rsplit("/", 1)[0] + "/commerce")
    try:
        return int(await conn.fetchval(query))
    finally:
        await conn.close()


async def test_a_range_moves_to_a_spare_and_back_while_orders_are_placed(
        gw: tuple[Gateway, Shop], stack: EmbeddedBackends) -> None:
    gateway, shop = gw
    resharding = gateway.wiring.resharding
    await shop.stocked("rs-sku", 10_000)
    users = _users_in(MOVING, "rs", 6)
    for u in users:
        await shop.user(u)
    placed = [await shop.place(u, {"rs-sku": 1}, f"rs-before-{u}") for u in users]

    wf = await resharding.create("commerce", "40-80", 2)
    wf = await resharding.wait(wf.workflow, (Phase.CATCHING_UP,), 60)
    assert wf.phase is Phase.CATCHING_UP, wf
    assert wf.detail["verify"]["clean"], wf.detail["verify"]
    # Orders placed while it catches up reach the target too.
    placed += [await shop.place(u, {"rs-sku": 1}, f"rs-during-{u}") for u in users]
    await resharding.ask(wf.workflow, Action.SWITCH)
    wf = await resharding.wait(wf.workflow, (Phase.SWITCHED,), 60)
    assert wf.phase is Phase.SWITCHED, wf
    commerce = gateway.backends.keyspaces["commerce"]
    assert commerce.shard_for(keyspace_id(users[0])).index == 2
    assert commerce.map.version == 2
    placed += [await shop.place(u, {"rs-sku": 1}, f"rs-after-{u}") for u in users]
    assert await _count(stack, 2, "SELECT count(*) FROM orders") == 3 * len(users)
    # A retried request after the move returns the original order.
    again = await shop.place(users[0], {"rs-sku": 1}, f"rs-before-{users[0]}")
    assert again.order.order_id == placed[0].order.order_id
    await resharding.ask(wf.workflow, Action.CLEANUP)
    wf = await resharding.wait(wf.workflow, (Phase.DONE,), 60)
    assert wf.phase is Phase.DONE, wf
    assert await _count(stack, 0, "SELECT count(*) FROM orders WHERE keyspace_id >= '\\x40'::bytea "
                            "AND keyspace_id < '\\x80'::bytea") == 0
    assert await shop.available("rs-sku") == 10_000 - len(placed)
