"""The event retention job on real shards: stream metadata and domain policies
are enforced by one run, and nothing the relay (or a live projection) has
not read yet is ever removed (docs/erasure.md)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import grpc
from datagw.v1 import eventstore_pb2 as pb
from datagw.v1 import eventstore_pb2_grpc, inventory_pb2
from google.protobuf.duration_pb2 import Duration

from gateway.domain.events.retention import RetentionJob
from gateway.policy.registry import PolicyRegistry
from gateway.records.events import Cursor
from gateway.runtime.server import Gateway
from gateway.runtime.services import POLICY_CATALOG
from gateway.storage.postgres import retention_store
from gateway.storage.postgres.pool import Shard
from tests.commerce import Shop
from tests.eventstore import append, event, ref
from tests.helpers import eventually, metric
from tests.policy_fixtures import copy_policies, edit

DELETED = "datagw_retention_events_deleted_total"


def stub(channel: grpc.aio.Channel) -> eventstore_pb2_grpc.EventStoreServiceStub:
    return eventstore_pb2_grpc.EventStoreServiceStub(channel)


def job(gateway: Gateway) -> RetentionJob:
    return gateway.wiring.retention


def shard_of(gateway: Gateway, e: pb.RecordedEvent) -> Shard:
    return gateway.backends.keyspaces[e.position.keyspace].shards[e.position.shard]


async def on(shard: Shard, query: str, *args: object) -> list[asyncpg.Record]:
    """Rows straight from a shard's primary, behind the gateway's back."""
    conn = await asyncpg.connect(shard.dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def written(channel: grpc.aio.Channel, stream: pb.StreamRef, count: int
                  ) -> list[pb.RecordedEvent]:
    """Append `count` events to `stream`; all of its events as read back."""
    await stub(channel).AppendToStream(append(stream, [event(n=n) for n in range(count)]))
    return await stored(channel, stream)


async def stored(channel: grpc.aio.Channel, stream: pb.StreamRef) -> list[pb.RecordedEvent]:
    read = await stub(channel).ReadStream(pb.ReadStreamRequest(stream=stream, limit=1000))
    return list(read.events)


async def revisions(gateway: Gateway, e: pb.RecordedEvent) -> list[int]:
    """The revisions of e's stream still in the events table."""
    rows = await on(shard_of(gateway, e),
                    "SELECT stream_revision FROM events WHERE stream_id = $1 ORDER BY 1",
                    e.stream)
    return [r["stream_revision"] for r in rows]


async def backdate(gateway: Gateway, e: pb.RecordedEvent, days: float) -> None:
    await on(shard_of(gateway, e),
             "UPDATE events SET created_at = now() - make_interval(secs => $2) "
             "WHERE event_id = $1::uuid", e.event_id, days * 86400)


async def settled(gateway: Gateway, events: list[pb.RecordedEvent]) -> None:
    """Wait until the relay and every live projection have read `events`
    (the floor below which retention may delete)."""
    async def floor_passed() -> bool:
        projected = await job(gateway).projection_floors()
        for e in events:
            at = Cursor(e.position.commit, e.position.position)
            async with shard_of(gateway, e).connection("test") as conn:
                relayed = await retention_store.relayed_through(conn)
            source = projected.get((e.position.keyspace, e.position.shard))
            if relayed is None or relayed < at or (source is not None and source < at):
                return False
        return True

    await eventually(floor_passed, "the relay and projections read the events", 30)


async def test_stream_metadata_is_enforced_by_one_run(
    gateway: Gateway, channel: grpc.aio.Channel, uid: str
) -> None:
    es = stub(channel)
    capped, aged, deleted = ref(f"{uid}-capped"), ref(f"{uid}-aged"), ref(f"{uid}-deleted")
    capped_events = await written(channel, capped, 5)
    await es.SetStreamMetadata(pb.SetStreamMetadataRequest(
        stream=capped, retention=pb.StreamRetention(max_count=2)))
    aged_events = await written(channel, aged, 3)
    await es.SetStreamMetadata(pb.SetStreamMetadataRequest(
        stream=aged, retention=pb.StreamRetention(max_age=Duration(seconds=3600))))
    for e in aged_events[:2]:
        await backdate(gateway, e, days=1)
    deleted_events = await written(channel, deleted, 3)
    await es.DeleteStream(pb.DeleteStreamRequest(stream=deleted))
    everything = capped_events + aged_events + deleted_events
    await settled(gateway, everything)
    before = sum(metric(DELETED, keyspace="commerce", shard=str(s), rule="stream")
                 for s in (0, 1))

    await job(gateway).run_once()

    assert await revisions(gateway, capped_events[0]) == [3, 4]
    assert await revisions(gateway, aged_events[0]) == [2]
    assert await revisions(gateway, deleted_events[0]) == []
    after = sum(metric(DELETED, keyspace="commerce", shard=str(s), rule="stream")
                for s in (0, 1))
    assert after - before >= 2 + 3 + 3 + 3 - 2 - 1
    # What reads return is what is kept; the soft-deleted stream comes back
    # with its next append, which the next run leaves alone.
    assert [e.stream_revision for e in await stored(channel, capped)] == [3, 4]
    revived = await written(channel, deleted, 1)
    assert [e.stream_revision for e in revived] == [3]
    await settled(gateway, revived)
    await job(gateway).run_once()
    assert await revisions(gateway, revived[0]) == [3]


async def test_events_the_relay_has_not_copied_are_kept(
    gateway: Gateway, channel: grpc.aio.Channel, uid: str
) -> None:
    assert gateway.wiring.relay is not None
    stream = ref(f"{uid}-unrelayed")
    await gateway.wiring.relay.stop()
    try:
        events = await written(channel, stream, 4)
        await stub(channel).SetStreamMetadata(pb.SetStreamMetadataRequest(
            stream=stream, retention=pb.StreamRetention(max_count=1)))
        async with shard_of(gateway, events[0]).connection("test") as conn:
            relayed = await retention_store.relayed_through(conn)
        assert relayed is not None
        assert all(Cursor(e.position.commit, e.position.position) > relayed for e in events)
        await job(gateway).run_once()
        assert await revisions(gateway, events[0]) == [0, 1, 2, 3]
    finally:
        gateway.wiring.relay.start()
    await settled(gateway, events)
    await job(gateway).run_once()
    assert await revisions(gateway, events[0]) == [3]


async def test_a_database_without_a_relay_checkpoint_keeps_everything(gateway: Gateway) -> None:
    # A database without the relay's table (every event keyspace has one
    # now; an empty schema first on the search path stands in): to the job
    # that reads as "nothing relayed yet".
    async with gateway.backends.keyspaces["catalog"].single.connection("test") as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute("CREATE SCHEMA no_relay")
            await conn.execute("SET LOCAL search_path = no_relay")
            assert await retention_store.relayed_through(conn) is None
        finally:
            await tx.rollback()


async def test_the_inventory_policy_removes_only_old_stock_events(
    gateway: Gateway, shop: Shop, channel: grpc.aio.Channel, uid: str
) -> None:
    sku = f"{uid}-ret"
    for n, on_hand in enumerate((5, 7)):
        await shop.inventory.SetStock(inventory_pb2.SetStockRequest(
            sku=sku, on_hand=on_hand, request_id=f"{uid}-stock-{n}"))
    stock = await stored(channel, ref(f"stock-{sku}", keyspace="inventory"))
    assert len(stock) == 2
    # inventory.yaml keeps events 400 days.
    await backdate(gateway, stock[0], days=401)
    await backdate(gateway, stock[1], days=399)
    # Just as old, but of domains that keep their events: a service's own
    # stream next to the stock, and a user's stream on a commerce shard.
    own = await written(channel, ref(f"{uid}-ledger", keyspace="inventory"), 1)
    await backdate(gateway, own[0], days=500)
    await shop.user(f"{uid}-old")
    user = await stored(channel, ref(f"user-{uid}-old"))
    await backdate(gateway, user[0], days=500)
    await settled(gateway, stock + own + user)
    before = metric(DELETED, keyspace="inventory", shard="0", rule="inventory")

    await job(gateway).run_once()

    assert await revisions(gateway, stock[0]) == [1]
    assert await revisions(gateway, own[0]) == [0]
    assert await revisions(gateway, user[0]) == [0]
    assert metric(DELETED, keyspace="inventory", shard="0", rule="inventory") - before >= 1


async def test_a_policy_for_the_events_domain_covers_the_services_own_streams(
    gateway: Gateway, shop: Shop, channel: grpc.aio.Channel, tmp_path: Path, uid: str
) -> None:
    policies = copy_policies(tmp_path)
    edit(policies / "events.yaml", "cache: off", "cache: off\nretention:\n  events: 30d")
    keyspaces = gateway.backends.keyspaces
    strict = RetentionJob(PolicyRegistry(policies, POLICY_CATALOG),
                          [keyspaces["commerce"], keyspaces["inventory"]],
                          [s for ks in keyspaces.values() for s in ks.shards],
                          gateway.wiring.retention.settings, gateway.wiring.retention.rows)
    assert [(r.domain, r.others) for r in strict.rules()] == [
        ("inventory", False), ("events", True)]
    own = await written(channel, ref(f"{uid}-journal"), 2)
    await backdate(gateway, own[0], days=31)
    await shop.user(f"{uid}-keeps")
    user = await stored(channel, ref(f"user-{uid}-keeps"))
    await backdate(gateway, user[0], days=31)
    await settled(gateway, own + user)

    await strict.run_once()

    assert await revisions(gateway, own[0]) == [1]
    assert await revisions(gateway, user[0]) == [0]

