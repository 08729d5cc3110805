"""The disaster-recovery drills of docs/backup.md, run as an operator would:
`datagw serve` on a kept data dir, `datagw backup`, writes before and after a
point T, the gateway stopped, `datagw restore --to T` (one shard, then
everything), the gateway started again.

Each drill checks the RPO (every write acknowledged before T is there, and
the ones after T on a restored server are not), that the gateway serves
again (the RTO, restore plus start, is printed; bench/restore.py measures it
at size), that the start reconciled the other stores (the control table
`reconciliations`), and that `datagw verify --exhaustive` then reports clean.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import grpc
import pytest
from datagw.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    eventstore_pb2,
    eventstore_pb2_grpc,
    inventory_pb2,
    inventory_pb2_grpc,
    order_pb2,
    order_pb2_grpc,
    payment_pb2,
    user_pb2,
    user_pb2_grpc,
)

from gateway.storage.postgres.keyspace_id import keyspace_id
from tests.e2e.gateway_process import GatewayProcess, gateway_process

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SKU = "DRILL-1"
STOCK = 1000
# Commit times and T come from one clock, but a little room keeps the drill
# from depending on which side of T a commit at T itself falls.
APART_S = 1.5


def datagw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.runtime.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


@dataclass
class Written:
    """What the drill wrote, by shard: order ids and event stream names."""

    orders: dict[int, list[str]] = field(default_factory=lambda: {0: [], 1: []})
    # (stream, its routing key)
    streams: dict[int, list[tuple[str, str]]] = field(default_factory=lambda: {0: [], 1: []})


def _user(shard: int, n: int) -> str:
    """A user id the first range map puts on `shard` ("-80" and "80-")."""
    while True:
        candidate = f"drill-{uuid.uuid4().hex[:8]}-{n}"
        if (keyspace_id(candidate) >= 1 << 63) == (shard == 1):
            return candidate


def _write(channel: grpc.Channel, label: str, per_shard: int, into: Written) -> None:
    users = user_pb2_grpc.UserServiceStub(channel)
    orders = order_pb2_grpc.OrderServiceStub(channel)
    events = eventstore_pb2_grpc.EventStoreServiceStub(channel)
    for shard in (0, 1):
        for n in range(per_shard):
            user = _user(shard, n)
            users.CreateUser(user_pb2.CreateUserRequest(
                user_id=user, email=f"{user}@example.com", request_id=f"{label}-u-{user}"))
            placed = orders.CreateOrder(order_pb2.CreateOrderRequest(
                user_id=user, items=[order_pb2.OrderItemInput(sku=SKU, quantity=2)],
                shipping=order_pb2.Address(name="Ada", line1="1 Main St", city="Berlin",
                                           country_code="DE"),
                payment_method=payment_pb2.PaymentMethod(card_token="tok_visa"),
                request_id=f"{label}-o-{user}"))
            into.orders[shard].append(placed.order.order_id)
            stream = f"drill-{label}-{user}"
            events.AppendToStream(eventstore_pb2.AppendToStreamRequest(
                stream=eventstore_pb2.StreamRef(stream=stream, routing_key=user),
                events=[eventstore_pb2.EventData(event_id=str(uuid.uuid4()),
                                                 event_type="DrillNoted")]))
            into.streams[shard].append((stream, user))


def _seed(channel: grpc.Channel) -> None:
    catalog_pb2_grpc.CatalogServiceStub(channel).UpsertProduct(catalog_pb2.UpsertProductRequest(
        product=catalog_pb2.Product(sku=SKU, title="Drill", active=True, category="drill",
                                    price=common_pb2.Money(amount_minor=250,
                                                           currency_code="EUR"))))
    inventory_pb2_grpc.InventoryServiceStub(channel).SetStock(inventory_pb2.SetStockRequest(
        sku=SKU, on_hand=STOCK, request_id="drill-stock"))


def _settled(channel: grpc.Channel) -> None:
    """Until the relay and every projection have caught up (rebuilds included)."""
    admin = admin_pb2_grpc.AdminServiceStub(channel)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        relay = admin.GetRelayStatus(admin_pb2.GetRelayStatusRequest())
        projections = admin.ListProjections(admin_pb2.ListProjectionsRequest())
        if all(s.lag_events == 0 and not s.last_error for s in relay.shards) and all(
                p.state == admin_pb2.PROJECTION_STATE_RUNNING
                and all(s.lag_events == 0 for s in p.shards) for p in projections.projections):
            return
        time.sleep(0.5)
    pytest.fail("the relay and projections did not catch up within 120s")


def _exists(channel: grpc.Channel, order_id: str) -> bool:
    try:
        order_pb2_grpc.OrderServiceStub(channel).GetOrder(
            order_pb2.GetOrderRequest(order_id=order_id))
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.NOT_FOUND, exc
        return False
    return True


def _stream_exists(channel: grpc.Channel, stream: str, routing_key: str) -> bool:
    try:
        read = eventstore_pb2_grpc.EventStoreServiceStub(channel).ReadStream(
            eventstore_pb2.ReadStreamRequest(
                stream=eventstore_pb2.StreamRef(stream=stream, routing_key=routing_key),
                limit=10))
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.NOT_FOUND, exc
        return False
    return len(read.events) == 1


def _verify(gw: GatewayProcess) -> dict[str, object]:
    done = datagw("verify", "--target", gw.address, "--exhaustive", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


def _reconciliations(data_dir: Path) -> list[asyncpg.Record]:
    """The control table's record of what the starts reconciled, read
    straight from the running embedded main server (its port in
    postmaster.pid)."""
    port = (data_dir / "postgres" / "postmaster.pid").read_text().splitlines()[3]
    password = (data_dir / "secrets" / "postgres.password").read_text().strip()

    async def read() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(host="127.0.0.1", port=int(port), user="postgres",
                                     password=password, database="catalog")
        try:
            return list(await conn.fetch(
                "SELECT keyspace, shard, reason, actions, unreconciled FROM reconciliations "
                "ORDER BY id"))
        finally:
            await conn.close()

    return asyncio.run(read())


@pytest.fixture
def before_and_after(tmp_path: Path) -> Iterator[tuple[Path, Written, Written, datetime]]:
    """A kept data dir with a base backup, writes before T and after T, all
    relayed and projected; the gateway stopped."""
    before, after = Written(), Written()
    with gateway_process(tmp_path, "--shards", "2", ephemeral=False) as gw, \
            grpc.insecure_channel(gw.address) as channel:
        _seed(channel)
        backed_up = datagw("backup", "--data-dir", str(tmp_path))
        assert backed_up.returncode == 0, backed_up.stdout + backed_up.stderr
        _write(channel, "before", 2, before)
        time.sleep(APART_S)
        target = datetime.now(UTC)
        time.sleep(APART_S)
        _write(channel, "after", 2, after)
        _settled(channel)
    yield tmp_path, before, after, target


@contextmanager
def _restore_and_start(data_dir: Path, target: datetime, *selector: str
                       ) -> Iterator[tuple[GatewayProcess, grpc.Channel]]:
    began = time.monotonic()
    restored = datagw("restore", "--data-dir", str(data_dir), "--to", target.isoformat(),
                      *selector)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    restore_s = time.monotonic() - began
    with gateway_process(data_dir, "--shards", "2", ephemeral=False) as gw, \
            grpc.insecure_channel(gw.address) as channel:
        admin_pb2_grpc.AdminServiceStub(channel).GetTopology(admin_pb2.GetTopologyRequest())
        print(f"RTO {' '.join(selector) or 'everything'}: restore {restore_s:.1f}s, serving "
              f"{time.monotonic() - began:.1f}s after the restore began")
        yield gw, channel


def test_one_shard_restored_to_a_point_in_time(
        before_and_after: tuple[Path, Written, Written, datetime]) -> None:
    data_dir, before, after, target = before_and_after
    with _restore_and_start(data_dir, target, "--shard", "1") as (gw, channel):
        # RPO: everything acknowledged before T is there, on both shards.
        for shard in (0, 1):
            assert all(_exists(channel, o) for o in before.orders[shard])
        # Shard 1 went back to T; shard 0 kept what came after.
        assert not any(_exists(channel, o) for o in after.orders[1])
        assert all(_exists(channel, o) for o in after.orders[0])
        assert not any(_stream_exists(channel, *s) for s in after.streams[1])
        assert all(_stream_exists(channel, *s) for s in before.streams[1] + after.streams[0])
        _settled(channel)
        report = _verify(gw)
        assert report["clean"] is True, report
        stock = inventory_pb2_grpc.InventoryServiceStub(channel).GetStock(
            inventory_pb2.GetStockRequest(sku=SKU)).stock
        # The orders shard 1 lost gave their units back.
        standing = len(before.orders[0]) + len(before.orders[1]) + len(after.orders[0])
        assert (stock.on_hand, stock.reserved) == (STOCK - 2 * standing, 0)
        rows = _reconciliations(data_dir)
    assert [(r["keyspace"], r["shard"]) for r in rows] == [("commerce", 1)]
    actions = " ".join(json.loads(rows[0]["actions"]))
    assert "analytics: removed" in actions and "given back" in actions
    # The payments of the lost orders are left for an operator, said so.
    assert len(json.loads(rows[0]["unreconciled"])) == len(after.orders[1])


def test_everything_restored_to_a_point_in_time(
        before_and_after: tuple[Path, Written, Written, datetime]) -> None:
    data_dir, before, after, target = before_and_after
    with _restore_and_start(data_dir, target) as (gw, channel):
        for shard in (0, 1):
            assert all(_exists(channel, o) for o in before.orders[shard])
            assert not any(_exists(channel, o) for o in after.orders[shard])
        _settled(channel)
        report = _verify(gw)
        assert report["clean"] is True, report
        stock = inventory_pb2_grpc.InventoryServiceStub(channel).GetStock(
            inventory_pb2.GetStockRequest(sku=SKU)).stock
        standing = len(before.orders[0]) + len(before.orders[1])
        assert (stock.on_hand, stock.reserved) == (STOCK - 2 * standing, 0)
        rows = _reconciliations(data_dir)
    assert {(r["keyspace"], r["shard"]) for r in rows} >= {("commerce", 0), ("commerce", 1)}
