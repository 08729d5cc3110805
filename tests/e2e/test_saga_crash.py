"""The gateway is SIGKILLed while placing orders; after a restart every saga is
completed or compensated and stock, orders and payments reconcile exactly."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import asyncpg
import grpc
import pytest
from datagw.v1 import admin_pb2, admin_pb2_grpc
from google.protobuf.duration_pb2 import Duration

from gateway.runtime.embedded.secrets import EmbeddedSecrets
from tests.commerce import Shop, reconciled
from tests.e2e.gateway_process import gateway_process
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

SKUS = {f"CRASH-{n}": 500 for n in range(3)}
USERS = [f"crash-user-{n}" for n in range(16)]
ORDERS = 80


async def place_until_killed(address: str, kill: asyncio.Event, channels: int = 1
                             ) -> dict[int, tuple[dict[str, int], str, str]]:
    """Orders in flight from many callers over `channels` connections (each
    its own, so with several workers they land on several); returns, for
    each order a caller was told of, its items, card and order id."""
    opened = [grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
              for _ in range(channels)]
    try:
        shop = Shop.on(opened[0])
        for sku, stock in SKUS.items():
            await shop.stocked(sku, stock, price_minor=250)
        for user in USERS:
            await shop.user(user)
        rng = random.Random(7)
        confirmed: dict[int, tuple[dict[str, int], str, str]] = {}

        async def one(n: int) -> None:
            items = {sku: rng.randint(1, 3) for sku in rng.sample(sorted(SKUS), 2)}
            card = "tok_decline" if n % 5 == 0 else "tok_visa"
            try:
                placed = await Shop.on(opened[n % channels]).place(
                    USERS[n % len(USERS)], items, f"crash-{n}", card)
                confirmed[n] = (items, card, placed.order.order_id)
            except grpc.aio.AioRpcError:
                pass  # declined, or the gateway died under it
            finally:
                # Kill once some orders are through: dozens are still in flight.
                if len(confirmed) >= 10:
                    kill.set()

        await asyncio.gather(*(one(n) for n in range(ORDERS)))
        return confirmed
    finally:
        for channel in opened:
            await channel.close()


async def settled_and_reconciled(address: str, data_dir: Path) -> tuple[set[str], int]:
    """Wait until no saga is left running, then reconcile orders, payments
    and stock on the shards (tests.commerce.reconciled)."""
    async with grpc.aio.insecure_channel(address) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)

        async def settled() -> bool:
            stuck = await admin.ListStuckSagas(
                admin_pb2.ListStuckSagasRequest(older_than=Duration(seconds=0)))
            return not stuck.sagas and not stuck.unavailable_shards

        await eventually(settled, "every saga completed or compensated", within_s=60)
        topology = await admin.GetTopology(admin_pb2.GetTopologyRequest())
    shards = [b for b in topology.backends if b.keyspace == "commerce"]
    inventory = next(b for b in topology.backends if b.keyspace == "inventory")
    order_ids, recovered = await reconciled(
        [await _connect(b, "commerce", data_dir) for b in shards],
        await _connect(inventory, "inventory", data_dir), SKUS)
    return order_ids, recovered


async def _connect(backend: admin_pb2.Backend, database: str, data_dir: Path
                   ) -> asyncpg.Connection:
    # The gateway's embedded servers want the password it generated into its data dir.
    return await asyncpg.connect(EmbeddedSecrets(data_dir).postgres_dsn(backend.address, database))


async def test_sagas_reconcile_after_a_sigkill(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAGW_SAGAS__LEASE", "2s")
    monkeypatch.setenv("DATAGW_SAGAS__RECOVERY_INTERVAL", "500ms")
    with gateway_process(tmp_path, ephemeral=False) as gw:
        kill = asyncio.Event()

        async def killer() -> None:
            await kill.wait()
            gw.process.kill()

        confirmed, _ = await asyncio.gather(place_until_killed(gw.address, kill), killer())
        gw.process.wait(timeout=30)

    with gateway_process(tmp_path, ephemeral=False) as gw:
        async with grpc.aio.insecure_channel(gw.address) as channel:
            # A request confirmed before the crash, sent again after the
            # restart, returns the same order and places nothing new.
            n, (items, card, order_id) = sorted(confirmed.items())[0]
            again = await Shop.on(channel).place(USERS[n % len(USERS)], items, f"crash-{n}",
                                                 card)
            assert again.order.order_id == order_id
        order_ids, recovered = await settled_and_reconciled(gw.address, tmp_path)
    # What callers were told was placed exists, and the kill caught sagas in
    # flight that only the recovery loop settled.
    assert {order_id for _, _, order_id in confirmed.values()} <= order_ids
    assert recovered >= 1
