"""Subscriptions on real shards: late commits, exactly once, resume, checkpoints, wake-ups.

No timing assertions: the overall timeouts only bound how long a broken
test takes to fail.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import asyncpg
import grpc
import pytest
from datagw.v1 import eventstore_pb2 as pb
from datagw.v1 import eventstore_pb2_grpc
from google.protobuf.duration_pb2 import Duration

from gateway.runtime.server import Gateway
from gateway.storage.eventstore import recorder
from gateway.storage.eventstore.recorder import EventMeta, NewEvent
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes
from tests.commerce import user_on_shard
from tests.eventstore import append, event, ref, resume_after
from tests.helpers import fails

pytestmark = pytest.mark.integration
Stub = eventstore_pb2_grpc.EventStoreServiceStub
BOUND_S = 120


@pytest.fixture(scope="module")
def es(channel: grpc.aio.Channel) -> Stub:
    return eventstore_pb2_grpc.EventStoreServiceStub(channel)


class Received:
    """What one subscriber got, in order."""

    def __init__(self) -> None:
        self.events: list[pb.RecordedEvent] = []
        self.checkpoints: list[pb.AllPosition] = []
        self.caught_up: pb.AllPosition | None = None
        # How many events had arrived when each checkpoint came, and the lag
        # it reported (seconds).
        self.events_at_checkpoint: list[int] = []
        self.lags: list[float] = []

    def ids(self) -> list[str]:
        return [e.event_id for e in self.events]


async def subscribe(es: Stub, request: pb.SubscribeToAllRequest, into: Received,
                    done: Callable[[Received], bool]) -> None:
    """Read the subscription into `into` until `done` holds, then cancel it."""
    call = es.SubscribeToAll(request)
    try:
        async with asyncio.timeout(BOUND_S):
            async for msg in call:
                kind = msg.WhichOneof("content")
                if kind == "event":
                    into.events.append(msg.event)
                elif kind == "checkpoint":
                    into.checkpoints.append(msg.checkpoint.position)
                    into.events_at_checkpoint.append(len(into.events))
                    into.lags.append(msg.checkpoint.lag.ToTimedelta().total_seconds())
                elif kind == "caught_up":
                    into.caught_up = msg.caught_up.position
                if done(into):
                    return
    finally:
        call.cancel()


def commit_order(received: list[pb.RecordedEvent]) -> dict[int, list[tuple[int, int]]]:
    by_shard: dict[int, list[tuple[int, int]]] = {}
    for e in received:
        by_shard.setdefault(e.position.shard, []).append((e.position.commit, e.position.position))
    return by_shard


def vector_covers(vector: pb.AllPosition, written: list[pb.RecordedEvent]) -> bool:
    at = {(p.keyspace, p.shard): (p.commit, p.position) for p in vector.shards}
    return all(at.get((e.position.keyspace, e.position.shard), (0, 0))
               >= (e.position.commit, e.position.position) for e in written)


async def test_every_event_exactly_once_in_commit_order_with_a_late_commit(
        es: Stub, gateway: Gateway, uid: str) -> None:
    prefix = f"sub{uid}-"
    flt = pb.EventFilter(stream_prefixes=[prefix])
    users = [user_on_shard(gateway, f"sw-{uid}", i) for i in (0, 1)]
    writers, per_writer = 4, 15
    expected_total = writers * per_writer + 1
    late_id = str(uuid.uuid4())

    # The long transaction: takes its position on shard 0 first, commits last.
    shard0 = gateway.backends.keyspaces["commerce"].shards[0]
    long_conn = await asyncpg.connect(shard0.dsn)
    long_tx = long_conn.transaction()
    await long_tx.start()
    late_ksid = ksid_bytes(keyspace_id(users[0]))
    await long_conn.execute("SELECT 1")
    await recorder.append(long_conn, [NewEvent(f"{prefix}late", "Late", {"late": True})],
                          EventMeta(request_id=late_id), late_ksid)
    late_position = await long_conn.fetchval(
        "SELECT position FROM events WHERE stream_id = $1", f"{prefix}late")

    whole = Received()
    first_part = Received()
    reader_all = asyncio.create_task(subscribe(
        es, pb.SubscribeToAllRequest(filter=flt), whole,
        lambda r: len(r.events) >= expected_total))
    # A subscriber that disconnects part-way, while writers still write.
    reader_part = asyncio.create_task(subscribe(
        es, pb.SubscribeToAllRequest(filter=flt), first_part,
        lambda r: len(r.events) >= 20))

    async def writer(w: int) -> None:
        for n in range(per_writer):
            stream = ref(f"{prefix}{w}-{n % 3}", routing_key=users[w % 2])
            await es.AppendToStream(append(stream, [event("Tick", w=w, n=n)]))

    await asyncio.gather(*(writer(w) for w in range(writers)))
    await reader_part
    await long_tx.commit()
    await long_conn.close()

    # Resume the interrupted subscriber from the last events it received.
    rest = Received()
    missing = expected_total - len(first_part.events)
    await subscribe(es, pb.SubscribeToAllRequest(
        filter=flt, after=resume_after(pb.AllPosition(), first_part.events)), rest,
        lambda r: len(r.events) >= missing and r.caught_up is not None)
    await reader_all

    ids = whole.ids()
    assert len(ids) == len(set(ids)) == expected_total
    resumed = first_part.ids() + rest.ids()
    assert len(resumed) == len(set(resumed)) and set(resumed) == set(ids)
    for received in (whole.events, first_part.events + rest.events):
        for shard, order in commit_order(received).items():
            assert order == sorted(order), f"shard {shard} out of commit order"
    late = next(e for e in whole.events if e.stream == f"{prefix}late")
    assert late.position.position == late_position and late.metadata["request_id"] == late_id
    # While the long transaction was open nothing of shard 0 could pass it
    # (a reader following positions alone would have skipped it for ever)...
    assert all(e.position.shard == 1 for e in first_part.events)
    # ...and once it committed, its event came first on shard 0 (the oldest
    # transaction), before events whose positions are higher and that had
    # committed long before it.
    shard0 = [e for e in whole.events if e.position.shard == 0]
    assert shard0[0].event_id == late.event_id
    assert any(e.position.position > late_position for e in shard0[1:])


async def test_resume_from_a_checkpoint_repeats_and_loses_nothing(
        es: Stub, gateway: Gateway, uid: str) -> None:
    prefix = f"cp{uid}-"
    flt = pb.EventFilter(stream_prefixes=[prefix])
    users = [user_on_shard(gateway, f"cp-{uid}", i) for i in (0, 1)]
    total = 40
    for n in range(total // 2):
        await es.AppendToStream(append(ref(f"{prefix}{n % 4}", routing_key=users[n % 2]),
                                       [event(n=n)]))
    interval = Duration(nanos=20_000_000)
    first = Received()
    await subscribe(es, pb.SubscribeToAllRequest(filter=flt, checkpoint_interval=interval),
                    first, lambda r: r.caught_up is not None and len(r.checkpoints) >= 1)
    assert first.caught_up is not None and first.checkpoints
    # Keep only what came before the last checkpoint, as a client that
    # stores checkpoints would after a crash.
    kept = first.events[:first.events_at_checkpoint[-1]]
    for n in range(total // 2, total):
        await es.AppendToStream(append(ref(f"{prefix}{n % 4}", routing_key=users[n % 2]),
                                       [event(n=n)]))
    rest = Received()
    await subscribe(es, pb.SubscribeToAllRequest(filter=flt, after=first.checkpoints[-1]),
                    rest, lambda r: len(kept) + len(r.events) >= total)
    ids = [e.event_id for e in kept] + rest.ids()
    assert len(ids) == len(set(ids)) == total
    assert sorted(e.payload["n"] for e in kept + rest.events) == list(range(total))


async def test_a_filtered_subscriber_gets_checkpoints_past_skipped_events(
        es: Stub, gateway: Gateway, uid: str) -> None:
    users = [user_on_shard(gateway, f"skip-{uid}", i) for i in (0, 1)]
    written = []
    for n in range(10):
        response = await es.AppendToStream(append(ref(f"skip{uid}-{n}", routing_key=users[n % 2]),
                                                   [event("Skipped")]))
        assert response.first_revision == 0
        read = await es.ReadStream(pb.ReadStreamRequest(
            stream=ref(f"skip{uid}-{n}", routing_key=users[n % 2])))
        written.extend(read.events)
    got = Received()
    await subscribe(es, pb.SubscribeToAllRequest(
        filter=pb.EventFilter(event_types=[f"Never{uid}"]),
        checkpoint_interval=Duration(nanos=50_000_000)), got,
        lambda r: r.caught_up is not None and any(vector_covers(c, written)
                                                  for c in r.checkpoints))
    assert got.events == []
    assert got.caught_up is not None and vector_covers(got.caught_up, written)
    assert {(p.keyspace, p.shard) for p in got.checkpoints[-1].shards} == {
        ("catalog", 0), ("commerce", 0), ("commerce", 1), ("inventory", 0)}


async def test_checkpoints_say_how_far_behind_the_subscriber_is(es: Stub, uid: str) -> None:
    """Events a second old when delivered while more wait: the checkpoints
    sent meanwhile report at least that lag; once caught up, none."""
    kind = f"Backlog{uid}"
    for n in range(10):
        await es.AppendToStream(append(f"backlog{uid}-{n}", [event(kind) for _ in range(200)]))
    await asyncio.sleep(1.0)
    got = Received()
    await subscribe(es, pb.SubscribeToAllRequest(
        filter=pb.EventFilter(event_types=[kind]), checkpoint_interval=Duration(nanos=10_000_000)),
        got, lambda r: len(r.events) == 2000 and r.caught_up is not None
        and r.events_at_checkpoint[-1:] == [2000] and r.lags[-1] == 0)
    behind = [lag for lag, n in zip(got.lags, got.events_at_checkpoint, strict=True) if n < 2000]
    assert behind and max(behind) >= 1.0, got.lags


async def test_a_live_subscriber_is_woken_by_a_new_commit(
        es: Stub, gateway: Gateway, uid: str) -> None:
    prefix = f"live{uid}-"
    got = Received()
    sub = asyncio.create_task(subscribe(
        es, pb.SubscribeToAllRequest(filter=pb.EventFilter(stream_prefixes=[prefix])), got,
        lambda r: len(r.events) == 1))
    while got.caught_up is None:
        assert not sub.done()
        await asyncio.sleep(0.01)
    e = event("Live")
    await es.AppendToStream(append(f"{prefix}x", [e]))
    await sub
    assert got.ids() == [e.event_id]


async def test_stream_subscription_catches_up_then_goes_live(es: Stub, uid: str) -> None:
    s = f"one-{uid}"
    await es.AppendToStream(append(s, [event(n=n) for n in range(3)]))
    await es.AppendToStream(append(f"noise-{uid}", [event()]))
    call = es.SubscribeToStream(pb.SubscribeToStreamRequest(stream=ref(s), after_revision=0))
    seen: list[int] = []
    caught_up_after = -1
    try:
        async with asyncio.timeout(BOUND_S):
            async for msg in call:
                if msg.WhichOneof("content") == "caught_up":
                    caught_up_after = len(seen)
                    await es.AppendToStream(append(s, [event(n=3)]))
                else:
                    assert msg.event.stream == s
                    seen.append(msg.event.stream_revision)
                if len(seen) == 3:
                    break
    finally:
        call.cancel()
    assert seen == [1, 2, 3] and caught_up_after == 2


async def test_bad_subscriptions_are_invalid_argument(es: Stub) -> None:
    bad = pb.SubscribeToAllRequest(checkpoint_interval=Duration(seconds=7200))
    call = es.SubscribeToAll(bad)
    failure = await fails(call.read(), grpc.StatusCode.INVALID_ARGUMENT)
    assert failure.fields == ["checkpoint_interval"]
    tomb = f"tomb-{uuid.uuid4().hex[:8]}"
    # Only a stream that had an event can be tombstoned.
    await es.AppendToStream(append(tomb, [event()]))
    await es.TombstoneStream(pb.TombstoneStreamRequest(stream=ref(tomb)))
    gone = await fails(es.SubscribeToStream(
        pb.SubscribeToStreamRequest(stream=ref(tomb))).read(), grpc.StatusCode.NOT_FOUND)
    assert gone.error_info is not None and gone.error_info.reason == "STREAM_DELETED"
