"""2 -> 4 shards and back while two gateway processes serve orders.

Two `datagw serve` processes share one stack (four commerce shard servers,
two serving at first) and one analytics store (the chdb HTTP front, so the
relay runs in both). While they place orders, append to user streams and
read with every consistency level, and a $all subscriber listens, two
ranges move to the spare shards and then back. Afterwards: no acknowledged
write lost or doubled, nothing oversold, every saga finished, the
subscriber saw every event once in stream order, ClickHouse holds every
event once, and every verify was clean.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
import pytest_asyncio
import yaml
from datagw.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    catalog_pb2,
    common_pb2,
    eventstore_pb2,
    eventstore_pb2_grpc,
    order_pb2,
    user_pb2,
)
from google.protobuf import duration_pb2, struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.records.resharding import Action, Phase
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.storage.clickhouse.server_backend import ClickHouseServerStore
from gateway.storage.postgres import control_store
from gateway.storage.postgres.keyspace_id import KeyRange, keyspace_id
from gateway.storage.postgres.range_map import RangeMap
from tests.chdb_http_front import running_front
from tests.commerce import Shop, reconciled
from tests.e2e.gateway_process import free_port
from tests.reshard_stack import SERVING, reshard_keyspaces, reshard_stack

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOT = Path(__file__).resolve().parents[2]
SKUS = {"load-a": 400, "load-b": 400}
USERS = 24
# Orders allow these two; the user is read bounded_staleness too, and the
# catalog eventual (the levels each domain's policy allows).
LEVELS = [common_pb2.CONSISTENCY_LEVEL_STRONG, common_pb2.CONSISTENCY_LEVEL_READ_YOUR_WRITES]
# (range, to shard): split 2 -> 4, then merge back to 2.
MOVES = [("40-80", 2), ("c0-", 3), ("40-80", 0), ("c0-", 1)]


@contextmanager
def chdb_front() -> Iterator[str]:
    with running_front() as port:
        yield f"http://127.0.0.1:{port}"


async def _config(stack: EmbeddedBackends, clickhouse: str, path: Path) -> None:
    keyspaces = await reshard_keyspaces(stack)
    raw: dict[str, Any] = {
        "postgres": {"keyspaces": {
            ks.name: {"shards": [
                {"primary": dsn, **({"range": str(rng)} if ks.name == "commerce"
                                    and rng is not None else {})}
                for dsn, rng in zip(ks.shard_dsns, SERVING if ks.name == "commerce"
                                    else [None] * len(ks.shard_dsns), strict=True)]}
            for ks in keyspaces.values()}},
        "redis": {"url": stack.valkey.url},
        "clickhouse": {"url": clickhouse, "database": "reshard_load"},
        "sagas": {"lease": "5s", "recovery_interval": "500ms"},
        "logging": {"level": "warning"},
        "policies_dir": str(ROOT / "policies"),
    }
    await asyncio.to_thread(path.write_text, yaml.safe_dump(raw))


@contextmanager
def _gateway(config: Path, log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.runtime.cli", "serve", "--config", str(config),
             "--listen", f"127.0.0.1:{port}", "--metrics-listen", ""],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _serving(address: str, log: Path) -> grpc.aio.Channel:
    channel = grpc.aio.insecure_channel(address)
    health = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=2)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return channel
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(0.5)
    text = await asyncio.to_thread(log.read_text)
    raise AssertionError("gateway did not start:\n" + text[-3000:])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack() -> AsyncIterator[EmbeddedBackends]:
    async with reshard_stack("datagw-reshard-load-") as backends:
        yield backends


def _db(stack: EmbeddedBackends, server: int | None, name: str) -> str:
    base = (stack.postgres if server is None else stack.shards[server]).dsn
    return base.rsplit("/", 1)[0] + f"/{name}"


class Load:
    """What the clients did and what the gateways acknowledged."""

    def __init__(self, shops: list[Shop], streams: list[eventstore_pb2_grpc.EventStoreServiceStub],
                 users: list[str]) -> None:
        self.shops, self.streams, self.users = shops, streams, users
        self.orders: dict[str, str] = {}  # request id -> order id
        self.appended: dict[str, list[str]] = defaultdict(list)  # stream -> event ids in order
        self.revision: dict[str, int] = {}
        self.codes: Counter[str] = Counter()
        self.errors: dict[str, str] = {}
        self.stop = asyncio.Event()

    async def client(self, n: int) -> None:
        shop, events = self.shops[n % 2], self.streams[n % 2]
        i = 0
        while not self.stop.is_set():
            i += 1
            user = self.users[(n * 7 + i) % len(self.users)]
            try:
                if i % 3:
                    await self._order(shop, user, f"load-{n}-{i}")
                else:
                    await self._append(events, user, n, i)
            except grpc.aio.AioRpcError as exc:
                # Out of stock is an answer; anything else is a failure to show.
                self.codes[f"{exc.code().name}"] += 1
                self.errors.setdefault(exc.code().name, str(exc.details()))
            await asyncio.sleep(0.01)

    async def _order(self, shop: Shop, user_id: str, request_id: str) -> None:
        sku = "load-a" if len(self.orders) % 2 else "load-b"
        placed = await shop.place(user_id, {sku: 1}, request_id)
        self.orders[request_id] = placed.order.order_id
        self.codes["OK"] += 1
        level = LEVELS[len(self.orders) % len(LEVELS)]
        got = await shop.orders.GetOrder(order_pb2.GetOrderRequest(
            order_id=placed.order.order_id, read_options=common_pb2.ReadOptions(
                consistency=level, consistency_token=placed.consistency_token)))
        assert got.order.order_id == placed.order.order_id
        user = await shop.users.GetUser(user_pb2.GetUserRequest(
            user_id=user_id, read_options=common_pb2.ReadOptions(
                consistency=common_pb2.CONSISTENCY_LEVEL_BOUNDED_STALENESS,
                max_staleness=duration_pb2.Duration(seconds=5))))
        assert user.user.user_id == user_id
        await shop.catalog.GetProduct(catalog_pb2.GetProductRequest(
            sku=sku, read_options=common_pb2.ReadOptions(
                consistency=common_pb2.CONSISTENCY_LEVEL_EVENTUAL)))

    async def _append(self, events: eventstore_pb2_grpc.EventStoreServiceStub, user: str,
                      n: int, i: int) -> None:
        stream = f"notes-{user}"
        event_id = f"{n:08x}-0000-4000-8000-{i:012x}"
        request = eventstore_pb2.AppendToStreamRequest(
            stream=eventstore_pb2.StreamRef(stream=stream, routing_key=user),
            expected_revision_kind=eventstore_pb2.EXPECTED_REVISION_KIND_ANY,
            events=[eventstore_pb2.EventData(event_id=event_id, event_type="LoadNoted",
                                             payload=struct_pb2.Struct())])
        reply = await events.AppendToStream(request)
        self.appended[stream].append(event_id)
        self.revision[stream] = reply.next_expected_revision
        self.codes["OK"] += 1


async def _subscribe(stub: eventstore_pb2_grpc.EventStoreServiceStub,
                     seen: list[tuple[str, str, int]], stop: asyncio.Event) -> None:
    call = stub.SubscribeToAll(eventstore_pb2.SubscribeToAllRequest())
    async for message in call:
        if message.HasField("event"):
            e = message.event
            seen.append((e.event_id, e.stream, e.stream_revision))
        if stop.is_set():
            call.cancel()
            return


async def _move(control: asyncpg.Connection, admin: admin_pb2_grpc.AdminServiceStub, rng: str,
                target: int) -> dict[str, Any]:
    """One workflow through copy, switch and cleanup: created through a
    gateway's AdminService (which wakes that gateway's driver at once; a row
    written into the control table waits for an idle driver's next look),
    then driven through the control table the way the AdminService methods
    drive it."""
    source = await _owner(control, rng)
    created = await admin.CreateReshardWorkflow(admin_pb2.CreateReshardWorkflowRequest(
        keyspace="commerce", key_range=rng, target_shard=target,
        workflow=f"load-{rng.replace('-', '_')}-{target}"))
    assert created.workflow.source_shard == source, created
    name = created.workflow.workflow
    for want, action in ((Phase.CATCHING_UP, Action.SWITCH), (Phase.SWITCHED, Action.CLEANUP),
                         (Phase.DONE, None)):
        deadline = time.monotonic() + 120
        while True:
            current = await control_store.get_workflow(control, name)
            assert current is not None
            if current.phase is want:
                break
            assert time.monotonic() < deadline, current
            await asyncio.sleep(0.2)
        if action is not None:
            assert await control_store.request(control, name, action.value,
                                               [want.value]) is not None
    return current.detail


async def _owner(control: asyncpg.Connection, rng: str) -> int:
    found = await control_store.load_map(control, "commerce")
    assert found is not None
    owner = RangeMap.from_json(*found).owner_of(KeyRange.parse(rng))
    assert owner is not None
    return owner


async def test_two_gateways_serve_through_a_split_and_a_merge(
        stack: EmbeddedBackends, tmp_path: Path) -> None:
    config = tmp_path / "datagw.yaml"
    with chdb_front() as clickhouse:
        await _config(stack, clickhouse, config)
        with _gateway(config, tmp_path / "a.log") as a, _gateway(config, tmp_path / "b.log") as b:
            channels = [await _serving(a, tmp_path / "a.log"),
                        await _serving(b, tmp_path / "b.log")]
            shops = [Shop.on(c) for c in channels]
            streams = [eventstore_pb2_grpc.EventStoreServiceStub(c) for c in channels]
            for sku, on_hand in SKUS.items():
                await shops[0].stocked(sku, on_hand)
            users = [f"load-user-{i}" for i in range(USERS)]
            for i, u in enumerate(users):
                await shops[i % 2].user(u)
            load = Load(shops, streams, users)
            seen: list[tuple[str, str, int]] = []
            listening = asyncio.Event()
            subscriber = asyncio.create_task(_subscribe(streams[0], seen, listening))
            clients = [asyncio.create_task(load.client(n)) for n in range(6)]
            control = await asyncpg.connect(_db(stack, None, "catalog"))
            details = []
            try:
                await asyncio.sleep(1.0)
                for n, (rng, target) in enumerate(MOVES):
                    details.append(await _move(control, shops[n % 2].admin, rng, target))
                await asyncio.sleep(1.0)
            finally:
                load.stop.set()
                await asyncio.gather(*clients, return_exceptions=True)
                await control.close()
            await _settled(stack, load, seen, subscriber, listening, clickhouse, details)


async def _settled(stack: EmbeddedBackends, load: Load, seen: list[tuple[str, str, int]],
                   subscriber: asyncio.Task[None], stop: asyncio.Event, clickhouse: str,
                   details: list[dict[str, Any]]) -> None:
    assert set(load.codes) <= {"OK", "FAILED_PRECONDITION"}, (load.codes, load.errors)
    assert load.codes["OK"] > 50, load.codes
    assert all(d["verify"]["clean"] for d in details), [d["verify"] for d in details]
    shards = [await asyncpg.connect(_db(stack, i, "commerce")) for i in range(4)]
    inventory = await asyncpg.connect(_db(stack, None, "inventory"))
    # The products the load orders record events too (catalog events).
    catalog = await asyncpg.connect(_db(stack, None, "catalog"))
    try:
        # Every acknowledged order exists exactly once, on the shard serving it.
        found: Counter[str] = Counter()
        for conn in shards:
            found.update(r["order_id"] for r in await conn.fetch("SELECT order_id FROM orders"))
        assert set(load.orders.values()) <= set(found), "acknowledged orders lost"
        assert max(found.values()) == 1, "an order on two shards"
        assert not await shards[2].fetchval("SELECT count(*) FROM orders")
        assert not await shards[3].fetchval("SELECT count(*) FROM orders")
        # Appended events: each stream holds what was acknowledged, once, with
        # revisions that continue across the moves (0, 1, 2, ... no gap).
        for stream, ids in load.appended.items():
            owner = shards[0 if keyspace_id(stream.removeprefix("notes-")) < 0x80 << 56 else 1]
            rows = await owner.fetch(
                "SELECT event_id::text AS id, stream_revision FROM events WHERE stream_id = $1 "
                "AND event_type = 'LoadNoted' ORDER BY stream_revision", stream)
            assert sorted(r["id"] for r in rows) == sorted(ids), stream
            assert [r["stream_revision"] for r in rows] == list(range(len(ids))), stream
        # Every event there is: after the cleanups each lives on one shard
        # only (as appended there, or as a copy a move brought).
        stored: Counter[str] = Counter()
        for conn in [*shards, inventory, catalog]:
            stored.update(r["id"] for r in await conn.fetch(
                "SELECT event_id::text AS id FROM events"))
        assert max(stored.values()) == 1, "an event on two shards after the cleanups"
        native = set(stored)
        # The subscriber: every event once, each stream in revision order.
        for _ in range(120):
            if {e for e, _, _ in seen} >= native:
                break
            await asyncio.sleep(0.5)
        stop.set()
        subscriber.cancel()
        ids = Counter(e for e, _, _ in seen)
        assert not set(ids) - native, "the subscriber got events that do not exist"
        assert not native - set(ids), f"the subscriber missed {len(native - set(ids))} events"
        assert max(ids.values()) == 1, "the subscriber got an event twice"
        last: dict[str, int] = {}
        for _, stream, revision in seen:
            assert revision > last.get(stream, -1), (stream, revision)
            last[stream] = revision
        # ClickHouse: every event once.
        store = ClickHouseServerStore(clickhouse, "reshard_load")
        try:
            deadline = time.monotonic() + 60
            while True:
                result = await store.query(
                    "SELECT count(), uniqExact(toString(event_id)) FROM domain_events")
                total, distinct = result.rows[0]
                if total >= len(native) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            assert (total, distinct) == (len(native), len(native))
        finally:
            store.close()
        # Every saga finishes: one a fence cut short is the recovery loop's
        # (after its lease, 5 s here) on the shard its user moved to.
        for _ in range(120):
            unfinished = [r for conn in shards for r in await conn.fetch(
                "SELECT saga_id, state, steps::text FROM sagas "
                "WHERE state IN ('running', 'compensating')")]
            if not unfinished:
                break
            await asyncio.sleep(0.5)
        assert not unfinished, unfinished
        await reconciled([shards[0], shards[1]], inventory, SKUS)
    finally:
        for conn in [*shards[2:], catalog]:
            await conn.close()
    print(json.dumps([d.get("cutovers") for d in details]))
