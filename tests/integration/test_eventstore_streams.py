"""EventStoreService streams on real shards: appends, idempotency, reads, deletes, audit."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import grpc
import pytest
from datagw.v1 import eventstore_pb2 as pb
from datagw.v1 import eventstore_pb2_grpc, user_pb2
from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration

from gateway.records.events import ENVELOPE, Expected
from gateway.runtime.server import Gateway
from gateway.storage.eventstore import streams
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes
from tests.commerce import Shop, shard_index, shard_rows, user_on_shard
from tests.conftest import SPANS
from tests.eventstore import (
    ANY,
    EXACT,
    NO_STREAM,
    STREAM_EXISTS,
    append,
    event,
    positions,
    ref,
    struct,
)
from tests.helpers import fails, invalid, rewritten_token

pytestmark = pytest.mark.integration
Stub = eventstore_pb2_grpc.EventStoreServiceStub


@pytest.fixture(scope="module")
def es(channel: grpc.aio.Channel) -> Stub:
    return eventstore_pb2_grpc.EventStoreServiceStub(channel)


async def read(es: Stub, stream: str | pb.StreamRef, **kw: object) -> pb.ReadStreamResponse:
    r = ref(stream) if isinstance(stream, str) else stream
    response: pb.ReadStreamResponse = await es.ReadStream(pb.ReadStreamRequest(stream=r, **kw))
    return response


async def test_no_stream_then_exact_then_stream_exists(es: Stub, uid: str) -> None:
    s = f"cart-{uid}"
    first = await es.AppendToStream(append(s, [event(), event()], NO_STREAM))
    assert (first.first_revision, first.next_expected_revision) == (0, 1)
    assert not first.already_appended
    assert first.consistency_token.startswith("v2.commerce.")
    again = await fails(es.AppendToStream(append(s, [event()], NO_STREAM)),
                        grpc.StatusCode.ABORTED)
    assert again.error_info is not None
    assert again.error_info.reason == "WRONG_EXPECTED_VERSION"
    assert again.error_info.metadata["current_revision"] == "1"
    wrong = await fails(es.AppendToStream(append(s, [event()], EXACT, 0)),
                        grpc.StatusCode.ABORTED)
    assert wrong.error_info is not None and wrong.error_info.metadata["current_revision"] == "1"
    exact = await es.AppendToStream(append(s, [event()], EXACT, 1))
    assert (exact.first_revision, exact.next_expected_revision) == (2, 2)
    exists = await es.AppendToStream(append(s, [event()], STREAM_EXISTS))
    assert exists.first_revision == 3
    anyway = await es.AppendToStream(append(s, [event()], ANY))
    assert anyway.first_revision == 4
    assert [e.stream_revision for e in (await read(es, s)).events] == [0, 1, 2, 3, 4]


async def test_stream_exists_and_exact_fail_on_a_missing_stream(es: Stub, uid: str) -> None:
    for kind, revision in ((STREAM_EXISTS, 0), (EXACT, 0)):
        failure = await fails(es.AppendToStream(append(f"none-{uid}", [event()], kind, revision)),
                              grpc.StatusCode.ABORTED)
        assert failure.error_info is not None
        assert failure.error_info.metadata["current_revision"] == "-1"
    await fails(read(es, f"none-{uid}"), grpc.StatusCode.NOT_FOUND)


async def test_re_append_is_idempotent_and_writes_nothing(
        es: Stub, gateway: Gateway, uid: str) -> None:
    s = f"idem-{uid}"
    batch = [event(n=1), event(n=2), event(n=3)]
    await es.AppendToStream(append(s, [event()]))
    first = await es.AppendToStream(append(s, batch, EXACT, 0))
    await es.AppendToStream(append(s, [event()]))
    # The retry's EXACT check would fail now; the ids are recognised first.
    retry = await es.AppendToStream(append(s, batch, EXACT, 0))
    assert retry.already_appended
    assert (retry.first_revision, retry.next_expected_revision) == (1, 3)
    assert (first.first_revision, first.next_expected_revision) == (1, 3)
    # A prefix of the batch is at its place too.
    prefix = await es.AppendToStream(append(s, batch[:2]))
    assert prefix.already_appended and prefix.first_revision == 1
    assert len((await read(es, s)).events) == 5


async def test_concurrent_identical_appends_write_one_set(
        es: Stub, gateway: Gateway, uid: str) -> None:
    s = f"race-{uid}"
    batch = [event(n=n) for n in range(5)]
    results = await asyncio.gather(*(es.AppendToStream(append(s, batch)) for _ in range(8)))
    assert {(r.first_revision, r.next_expected_revision) for r in results} == {(0, 4)}
    assert sum(not r.already_appended for r in results) == 1
    stored = await read(es, s)
    assert [e.event_id for e in stored.events] == [e.event_id for e in batch]
    index = shard_index(gateway, s)
    rows = await shard_rows(gateway, index, "SELECT count(*) AS n FROM events WHERE stream_id = $1",
                            s)
    assert rows[0]["n"] == 5


async def test_partial_overlap_is_already_exists(es: Stub, uid: str) -> None:
    s = f"overlap-{uid}"
    a, b, c = event(), event(), event()
    await es.AppendToStream(append(s, [a, b]))
    for events in ([b, c], [a, c], [b, a], [c, a]):
        failure = await fails(es.AppendToStream(append(s, events)), grpc.StatusCode.ALREADY_EXISTS)
        assert failure.error_info is not None
        assert failure.error_info.reason == "EVENT_IDS_OVERLAP"
    # Ids are unique per shard: another stream routed to the same shard.
    other = ref(f"other-{uid}", routing_key=s)
    elsewhere = await fails(es.AppendToStream(append(other, [a])),
                            grpc.StatusCode.ALREADY_EXISTS)
    assert elsewhere.error_info is not None and elsewhere.error_info.reason == "EVENT_IDS_OVERLAP"
    assert [e.event_id for e in (await read(es, s)).events] == [a.event_id, b.event_id]
    await fails(read(es, other), grpc.StatusCode.NOT_FOUND)


async def test_bad_appends_name_their_fields_and_write_nothing(es: Stub, uid: str) -> None:
    s = f"bad-{uid}"
    same = str(uuid.uuid4())
    await invalid(es.AppendToStream(append(s, [])), "events")
    await invalid(es.AppendToStream(append(s, [event(event_id="nope")])), "events[0].event_id")
    await invalid(es.AppendToStream(append(s, [event(event_id=same), event(event_id=same)])),
                  "events[1].event_id")
    await invalid(es.AppendToStream(append(s, [event("has space")])), "events[0].event_type")
    await invalid(es.AppendToStream(append(s, [event("Noted\n")])), "events[0].event_type")
    newline_key = pb.EventData(event_id=str(uuid.uuid4()), event_type="T", metadata={"k\n": "v"})
    await invalid(es.AppendToStream(append(s, [newline_key])), "events[0].metadata")
    await invalid(es.AppendToStream(append("bad name!", [event()])), "stream.stream")
    await invalid(es.AppendToStream(append(ref(s, keyspace="analytics"), [event()])),
                  "stream.keyspace")
    await invalid(es.AppendToStream(append(s, [event()], EXACT, -1)), "expected_revision")
    await invalid(es.AppendToStream(append(f"user-{uid}", [event()])), "stream.stream")
    await invalid(es.AppendToStream(append(ref(f"stock-{uid}", keyspace="inventory"),
                                           [event()])), "stream.stream")
    reserved = pb.EventData(event_id=str(uuid.uuid4()), event_type="T",
                            payload=struct({ENVELOPE: {"x": 1}}))
    await invalid(es.AppendToStream(append(s, [reserved])), "events[0].payload")
    big = pb.EventData(event_id=str(uuid.uuid4()), event_type="T",
                       payload=struct({"blob": "x" * (65 * 1024)}))
    await invalid(es.AppendToStream(append(s, [big])), "events[0].payload")
    gateway_key = pb.EventData(event_id=str(uuid.uuid4()), event_type="T",
                               metadata={"actor": "me"})
    await invalid(es.AppendToStream(append(s, [gateway_key])), "events[0].metadata")
    orphan = pb.EventData(event_id=str(uuid.uuid4()), event_type="T", pii=struct({"a": "b"}))
    await invalid(es.AppendToStream(append(s, [orphan])), "events[0].pii_user_id")
    await invalid(es.AppendToStream(append(s, [event() for _ in range(1001)])), "events")
    # JSON has no NaN or Infinity: a Struct number that is one (found by
    # test_fuzz_rpcs; was INTERNAL).
    not_a_number = pb.EventData(event_id=str(uuid.uuid4()), event_type="T",
                                payload=struct({"x": [1, float("nan")]}))
    await invalid(es.AppendToStream(append(s, [event(), not_a_number])), "events[1].payload")
    infinite = pb.EventData(event_id=str(uuid.uuid4()), event_type="T",
                            pii=struct({"x": float("-inf")}), pii_user_id=uid)
    await invalid(es.AppendToStream(append(s, [infinite])), "events[0].pii")
    await fails(read(es, s), grpc.StatusCode.NOT_FOUND)


async def test_read_forward_backward_with_from_and_limit(es: Stub, uid: str) -> None:
    s = f"read-{uid}"
    await es.AppendToStream(append(s, [event(n=n) for n in range(10)]))
    fwd = await read(es, s, from_revision=3, limit=4)
    assert [e.stream_revision for e in fwd.events] == [3, 4, 5, 6]
    assert not fwd.end_of_stream and fwd.last_revision == 9
    tail = await read(es, s, from_revision=7, limit=10)
    assert [e.stream_revision for e in tail.events] == [7, 8, 9] and tail.end_of_stream
    back = await read(es, s, direction=pb.READ_DIRECTION_BACKWARD, limit=3)
    assert [e.stream_revision for e in back.events] == [9, 8, 7] and not back.end_of_stream
    start = await read(es, s, direction=pb.READ_DIRECTION_BACKWARD, from_revision=2)
    assert [e.stream_revision for e in start.events] == [2, 1, 0] and start.end_of_stream
    assert start.events[0].payload["n"] == 2
    assert start.events[0].position.keyspace == "commerce"
    await invalid(read(es, s, limit=1001), "limit")


async def test_soft_delete_hides_until_the_next_append_continues(es: Stub, uid: str) -> None:
    s = f"soft-{uid}"
    await es.AppendToStream(append(s, [event(), event()]))
    await fails(es.DeleteStream(pb.DeleteStreamRequest(
        stream=ref(s), expected_revision_kind=EXACT, expected_revision=0)),
        grpc.StatusCode.ABORTED)
    await es.DeleteStream(pb.DeleteStreamRequest(
        stream=ref(s), expected_revision_kind=EXACT, expected_revision=1))
    gone = await fails(read(es, s), grpc.StatusCode.NOT_FOUND)
    assert gone.error_info is not None and gone.error_info.reason == "STREAM_DELETED"
    meta = await es.GetStreamMetadata(pb.GetStreamMetadataRequest(stream=ref(s)))
    assert meta.deleted and not meta.tombstoned and meta.truncate_before == 2
    back = await es.AppendToStream(append(s, [event(n=7)], NO_STREAM))
    assert back.first_revision == 2
    after = await read(es, s)
    assert [(e.stream_revision, e.payload["n"]) for e in after.events] == [(2, 7)]
    assert not (await es.GetStreamMetadata(pb.GetStreamMetadataRequest(stream=ref(s)))).deleted


async def test_tombstone_removes_events_and_the_name_for_ever(
        es: Stub, gateway: Gateway, uid: str) -> None:
    s = f"tomb-{uid}"
    await es.AppendToStream(append(s, [event(), event()]))
    await es.TombstoneStream(pb.TombstoneStreamRequest(stream=ref(s)))
    await es.TombstoneStream(pb.TombstoneStreamRequest(stream=ref(s)))
    gone = await fails(read(es, s), grpc.StatusCode.NOT_FOUND)
    assert gone.error_info is not None and gone.error_info.reason == "STREAM_DELETED"
    for kind in (ANY, NO_STREAM):
        refused = await fails(es.AppendToStream(append(s, [event()], kind)),
                              grpc.StatusCode.FAILED_PRECONDITION)
        assert refused.error_info is not None
        assert refused.error_info.reason == "STREAM_TOMBSTONED"
    await fails(es.DeleteStream(pb.DeleteStreamRequest(stream=ref(s))),
                grpc.StatusCode.FAILED_PRECONDITION)
    rows = await shard_rows(gateway, shard_index(gateway, s),
                            "SELECT count(*) AS n FROM events WHERE stream_id = $1", s)
    assert rows[0]["n"] == 0
    meta = await es.GetStreamMetadata(pb.GetStreamMetadataRequest(stream=ref(s)))
    assert meta.tombstoned and meta.last_revision == 1


# Names outside the grammar: path-like, starting with a separator, control
# characters (a trailing newline too), other scripts, too long, empty.
BAD_NAMES = ["../../etc/passwd", "..", ".", ".hidden", "a/b", "/abs", "a\\b", "-lead",
             "_lead", ":lead", "cart-1\n", "tab\tname", "bell\x07", "caf\u00e9-1",
             "x" * 201, "", "has space"]


def name_calls(es: Stub, stream: str) -> dict[str, Callable[[], Awaitable[object]]]:
    """Every EventStoreService call that takes a stream name, on `stream`
    (each made when called: a gRPC call starts when it is made)."""
    r = ref(stream)
    return {
        "AppendToStream": lambda: es.AppendToStream(append(r, [event()])),
        "ReadStream": lambda: read(es, r),
        "SubscribeToStream": lambda: es.SubscribeToStream(
            pb.SubscribeToStreamRequest(stream=r)).read(),
        "GetStreamMetadata": lambda: es.GetStreamMetadata(pb.GetStreamMetadataRequest(stream=r)),
        "SetStreamMetadata": lambda: es.SetStreamMetadata(pb.SetStreamMetadataRequest(
            stream=r, retention=pb.StreamRetention(max_count=1))),
        "DeleteStream": lambda: es.DeleteStream(pb.DeleteStreamRequest(stream=r)),
        "TombstoneStream": lambda: es.TombstoneStream(pb.TombstoneStreamRequest(stream=r)),
    }


async def stream_rows(gateway: Gateway, names: list[str]) -> int:
    """Rows of `names` in `streams` on every commerce shard."""
    total = 0
    for index in range(len(gateway.backends.keyspaces["commerce"].shards)):
        rows = await shard_rows(gateway, index,
                                "SELECT count(*) AS n FROM streams WHERE stream_id = ANY($1)",
                                names)
        total += rows[0]["n"]
    return total


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
async def test_a_stream_name_outside_the_grammar_is_refused_by_every_call(
        es: Stub, gateway: Gateway, name: str) -> None:
    for method, call in name_calls(es, name).items():
        failure = await invalid(call(), "stream.stream")
        assert failure.error_info is not None, method
        assert failure.error_info.reason == "INVALID_STREAM_NAME", method
    assert await stream_rows(gateway, [name]) == 0


async def test_names_inside_the_grammar_work(es: Stub, shop: Shop, uid: str) -> None:
    # ".." inside a name is no path: without "/" or a backslash and with a
    # letter or digit first, a name is one plain word. User ids may hold "..".
    for name in (f"a..{uid}", f"cat:{uid}:1", f"{uid}.b_c-d", f"{uid}" + "x" * 190):
        await es.AppendToStream(append(name, [event()], NO_STREAM))
        assert len((await read(es, name)).events) == 1
    user = f"ann..{uid}"
    await shop.user(user)
    assert [e.event_type for e in (await read(es, f"user-{user}")).events] == ["UserCreated"]
    trail = await es.GetAuditTrail(pb.GetAuditTrailRequest(
        entity_type=pb.AUDIT_ENTITY_TYPE_USER, entity_id=user))
    assert [e.event_type for e in trail.entries] == ["UserCreated"]


async def test_a_stream_that_never_existed_is_not_found_and_stays_free(
        es: Stub, gateway: Gateway, uid: str) -> None:
    s = f"never-{uid}"
    calls = name_calls(es, s)
    for method in ("GetStreamMetadata", "SetStreamMetadata", "DeleteStream",
                   "TombstoneStream", "ReadStream"):
        missing = await fails(calls[method](), grpc.StatusCode.NOT_FOUND)
        assert missing.error_info is not None and missing.error_info.reason == "STREAM_NOT_FOUND"
        assert missing.resource_info is not None, method
        assert (missing.resource_info.resource_type, missing.resource_info.resource_name) == (
            "stream", s)
    # Nothing was written: no row, so the name is free for its first append.
    assert await stream_rows(gateway, [s]) == 0
    first = await es.AppendToStream(append(s, [event()], NO_STREAM))
    assert first.first_revision == 0
    await es.SetStreamMetadata(pb.SetStreamMetadataRequest(
        stream=ref(s), retention=pb.StreamRetention(max_count=1)))
    await es.TombstoneStream(pb.TombstoneStreamRequest(stream=ref(s)))
    meta = await es.GetStreamMetadata(pb.GetStreamMetadataRequest(stream=ref(s)))
    assert meta.tombstoned and meta.last_revision == 0


async def test_rows_an_older_gateway_made_without_an_event(
        es: Stub, gateway: Gateway, uid: str) -> None:
    # An older gateway made a row for SetStreamMetadata or TombstoneStream
    # before any append. Metadata alone is no stream; a tombstone still
    # holds its name, and says so.
    configured, reserved = f"cfg-{uid}", f"rsv-{uid}"
    for name, meta in ((configured, '{"max_count": 1}'),
                       (reserved, '{"deleted": true, "tombstoned": true}')):
        await shard_rows(gateway, shard_index(gateway, name),
                         "INSERT INTO streams (stream_id, revision, keyspace_id, metadata) "
                         "VALUES ($1, -1, $2, $3::jsonb) RETURNING 1",
                         name, ksid_bytes(keyspace_id(name)), meta)
    calls = name_calls(es, configured)
    for method in ("GetStreamMetadata", "SetStreamMetadata", "DeleteStream",
                   "TombstoneStream"):
        missing = await fails(calls[method](), grpc.StatusCode.NOT_FOUND)
        assert missing.error_info is not None and missing.error_info.reason == "STREAM_NOT_FOUND"
    # Its first append still takes the settings it was given.
    await es.AppendToStream(append(configured, [event(), event()]))
    assert [e.stream_revision for e in (await read(es, configured)).events] == [1]
    meta = await es.GetStreamMetadata(pb.GetStreamMetadataRequest(stream=ref(reserved)))
    assert meta.tombstoned and meta.last_revision == -1
    await es.TombstoneStream(pb.TombstoneStreamRequest(stream=ref(reserved)))
    refused = await fails(es.AppendToStream(append(reserved, [event()])),
                          grpc.StatusCode.FAILED_PRECONDITION)
    assert refused.error_info is not None and refused.error_info.reason == "STREAM_TOMBSTONED"


async def behind_the_api(gateway: Gateway, user_id: str,
                         change: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
    """Run a stream write the API refuses on the domains' streams, as an
    operator could, on `user_id`'s shard."""
    shard = gateway.backends.keyspaces["commerce"].shards[shard_index(gateway, user_id)]
    async with shard.connection("test stream write") as conn:
        async with conn.transaction():
            await change(conn)


async def test_a_domain_write_to_a_tombstoned_stream_is_refused_and_changes_nothing(
        es: Stub, shop: Shop, gateway: Gateway, uid: str) -> None:
    # A user stream: no projection reads its events, so tombstoning it behind
    # the API leaves no read model that a later rebuild would disagree with.
    user = f"tomb-{uid}"
    created = await shop.user(user)
    stream = f"user-{user}"
    await behind_the_api(gateway, user, lambda conn: streams.tombstone(
        conn, stream, Expected()))
    meta = await es.GetStreamMetadata(pb.GetStreamMetadataRequest(stream=ref(stream)))
    update = user_pb2.UpdateUserRequest(user_id=user, display_name="Renamed",
                                        request_id=f"{uid}-rename")
    for _ in range(2):
        refused = await fails(shop.users.UpdateUser(update), grpc.StatusCode.FAILED_PRECONDITION)
        assert refused.error_info is not None
        assert refused.error_info.reason == "STREAM_TOMBSTONED"
        assert refused.error_info.metadata["stream"] == stream
    # The update's whole transaction rolled back: the user row, the stored
    # response (so the retry above ran again), the stream.
    after = await shop.users.GetUser(user_pb2.GetUserRequest(user_id=user))
    assert (after.user.display_name, after.user.version) == (
        created.display_name, created.version)
    rows = await shard_rows(
        gateway, shard_index(gateway, user),
        """SELECT (SELECT count(*) FROM idempotency_keys WHERE request_id = $1) AS responses,
                  (SELECT count(*) FROM events WHERE stream_id = $2) AS events""",
        f"{uid}-rename", stream)
    assert dict(rows[0]) == {"responses": 0, "events": 0}
    assert await es.GetStreamMetadata(pb.GetStreamMetadataRequest(stream=ref(stream))) == meta


async def test_a_domain_write_brings_a_soft_deleted_stream_back(
        es: Stub, shop: Shop, gateway: Gateway, uid: str) -> None:
    user = f"soft-{uid}"
    stream = f"user-{user}"
    await shop.user(user)
    await behind_the_api(gateway, user, lambda conn: streams.soft_delete(
        conn, stream, Expected()))
    await fails(read(es, stream), grpc.StatusCode.NOT_FOUND)
    await shop.users.UpdateUser(user_pb2.UpdateUserRequest(
        user_id=user, display_name="Back", request_id=f"{uid}-back"))
    # As an AppendToStream would: the revisions continue, the old events stay hidden.
    meta = await es.GetStreamMetadata(pb.GetStreamMetadataRequest(stream=ref(stream)))
    assert not meta.deleted and (meta.last_revision, meta.truncate_before) == (1, 1)
    got = (await read(es, stream)).events
    assert [(e.stream_revision, e.event_type) for e in got] == [(1, "UserUpdated")]


async def test_retention_hides_events_before_the_job_removes_them(
        es: Stub, gateway: Gateway, uid: str) -> None:
    s = f"ret-{uid}"
    await es.AppendToStream(append(s, [event(n=n) for n in range(6)]))
    await es.SetStreamMetadata(pb.SetStreamMetadataRequest(
        stream=ref(s), retention=pb.StreamRetention(max_count=4)))
    assert [e.stream_revision for e in (await read(es, s)).events] == [2, 3, 4, 5]
    # Two events an hour old; a max_age of 30 minutes hides them.
    await shard_rows(gateway, shard_index(gateway, s),
                     "UPDATE events SET created_at = now() - interval '1 hour' "
                     "WHERE stream_id = $1 AND stream_revision IN (2, 3) RETURNING 1", s)
    await es.SetStreamMetadata(pb.SetStreamMetadataRequest(
        stream=ref(s), retention=pb.StreamRetention(max_age=Duration(seconds=1800))))
    # The new retention replaces the old (max_count back to all).
    assert [e.stream_revision for e in (await read(es, s)).events] == [0, 1, 4, 5]
    meta = await es.GetStreamMetadata(pb.GetStreamMetadataRequest(stream=ref(s)))
    assert meta.retention.max_age.seconds == 1800 and meta.retention.max_count == 0
    await invalid(es.SetStreamMetadata(pb.SetStreamMetadataRequest(
        stream=ref(s), retention=pb.StreamRetention(max_count=-1))), "retention.max_count")


async def test_personal_data_is_sealed_read_back_and_erased(
        es: Stub, gateway: Gateway, uid: str) -> None:
    user = f"pu-{uid}"
    s = ref(f"profile-{uid}", routing_key=user)
    sealed = pb.EventData(event_id=str(uuid.uuid4()), event_type="AddressSet",
                          payload=struct({"country": "DE"}),
                          pii=struct({"street": "1 Main St"}), pii_user_id=user)
    await es.AppendToStream(append(s, [sealed, event()]))
    got = (await read(es, s)).events
    assert dict(got[0].pii) == {"street": "1 Main St"} and not got[0].pii_erased
    assert dict(got[0].payload) == {"country": "DE"}
    assert not got[1].HasField("pii") and not got[1].pii_erased
    index = shard_index(gateway, user)
    raw = await shard_rows(gateway, index,
                           "SELECT payload::text AS p FROM events WHERE event_id = $1",
                           uuid.UUID(sealed.event_id))
    assert "Main St" not in raw[0]["p"] and ENVELOPE in raw[0]["p"]
    await shard_rows(gateway, index,
                     "UPDATE user_keys SET key = NULL, erased_at = now() WHERE user_id = $1 "
                     "RETURNING 1", user)
    erased = (await read(es, s)).events[0]
    assert erased.pii_erased and not erased.HasField("pii")
    assert dict(erased.payload) == {"country": "DE"}
    elsewhere = pb.EventData(event_id=str(uuid.uuid4()), event_type="T",
                             pii=struct({"a": "b"}), pii_user_id=f"other-{uid}")
    await invalid(es.AppendToStream(append(f"misrouted-{uid}", [elsewhere])),
                  "events[0].pii_user_id")


async def test_domain_streams_route_by_their_names(
        es: Stub, shop: Shop, gateway: Gateway, uid: str) -> None:
    for index in (0, 1):
        user = user_on_shard(gateway, f"route-{uid}", index)
        await shop.user(user)
        got = await read(es, f"user-{user}")
        assert [e.event_type for e in got.events] == ["UserCreated"]
        assert got.events[0].position.shard == index
    await invalid(read(es, "order-nothex"), "stream.stream")
    await invalid(read(es, ref(f"user-{uid}", routing_key="someone-else")),
                  "stream.routing_key")


async def test_audit_trail_pages_through_who_did_what(
        es: Stub, shop: Shop, channel: grpc.aio.Channel, uid: str) -> None:
    user = f"audit-{uid}"
    await shop.users.CreateUser(user_pb2.CreateUserRequest(
        user_id=user, email=f"{uid}@example.com", display_name="A", request_id=f"c-{uid}"),
        metadata=(("datagw-actor", "svc-accounts"),))
    for n in range(2):
        await shop.users.UpdateUser(user_pb2.UpdateUserRequest(
            user_id=user, display_name=f"B{n}", request_id=f"u{n}-{uid}"))
    request = pb.GetAuditTrailRequest(entity_type=pb.AUDIT_ENTITY_TYPE_USER, entity_id=user,
                                      page_size=2)
    first = await es.GetAuditTrail(request)
    assert [e.event_type for e in first.entries] == ["UserCreated", "UserUpdated"]
    # The actor is the authenticated caller; the header is only "on behalf of".
    assert (first.entries[0].actor, first.entries[0].on_behalf_of) == (
        "local:loopback", "svc-accounts")
    assert (first.entries[1].actor, first.entries[1].on_behalf_of) == ("local:loopback", "")
    assert first.entries[0].request_id == f"c-{uid}"
    assert len(first.entries[0].trace_id) == 32 and first.entries[0].span_id
    assert first.next_page_token
    request.page_token = first.next_page_token
    second = await es.GetAuditTrail(request)
    assert [(e.event_type, e.revision) for e in second.entries] == [("UserUpdated", 2)]
    # In clear, or (once users seal it) decrypted under "pii".
    change = json_format.MessageToDict(second.entries[0].change)
    assert change.get("display_name", change.get("pii", {}).get("display_name")) == "B1"
    assert not second.next_page_token
    await fails(es.GetAuditTrail(pb.GetAuditTrailRequest(
        entity_type=pb.AUDIT_ENTITY_TYPE_USER, entity_id=f"nobody-{uid}")),
        grpc.StatusCode.NOT_FOUND)
    await invalid(es.GetAuditTrail(pb.GetAuditTrailRequest(
        entity_type=pb.AUDIT_ENTITY_TYPE_ORDER, entity_id="x")), "entity_id")
    # A trailing newline is no part of an id (a user id would make a stream
    # name outside the grammar).
    await invalid(es.GetAuditTrail(pb.GetAuditTrailRequest(
        entity_type=pb.AUDIT_ENTITY_TYPE_USER, entity_id=f"{user}\n")), "entity_id")
    await invalid(es.GetAuditTrail(pb.GetAuditTrailRequest(
        entity_type=pb.AUDIT_ENTITY_TYPE_ORDER, entity_id="o" + "0" * 32 + "\n")), "entity_id")
    other = pb.GetAuditTrailRequest(entity_type=pb.AUDIT_ENTITY_TYPE_USER, entity_id=f"x{uid}",
                                    page_token=first.next_page_token)
    await invalid(es.GetAuditTrail(other), "page_token")
    request.page_token = rewritten_token(first.next_page_token, 0, 2**63)
    await invalid(es.GetAuditTrail(request), "page_token")


async def test_read_all_pages_resume_from_the_position_vector(
        es: Stub, gateway: Gateway, uid: str) -> None:
    written: list[str] = []
    for n in range(12):
        user = user_on_shard(gateway, f"ra{n}-{uid}", n % 2)
        e = event("Tick", n=n)
        await es.AppendToStream(append(ref(f"all{uid}-{n}", routing_key=user), [e]))
        written.append(e.event_id)
    flt = pb.EventFilter(stream_prefixes=[f"all{uid}-"])
    after = pb.AllPosition()
    seen: list[pb.RecordedEvent] = []
    for _ in range(20):
        page = await es.ReadAll(pb.ReadAllRequest(after=after, limit=5, filter=flt))
        assert len(page.events) <= 5
        seen.extend(page.events)
        after = page.position
        if page.end_of_all:
            break
    assert sorted(e.event_id for e in seen) == sorted(written)
    assert {e.position.shard for e in seen} == {0, 1}
    for shard in (0, 1):
        mine = [p[2:] for p in positions(seen) if p[:2] == ("commerce", shard)]
        assert mine == sorted(mine) and len(set(mine)) == len(mine)
    assert {(p.keyspace, p.shard) for p in after.shards} == {
        ("catalog", 0), ("commerce", 0), ("commerce", 1), ("inventory", 0)}
    again = await es.ReadAll(pb.ReadAllRequest(after=after, filter=flt))
    assert list(again.events) == []
    await invalid(es.ReadAll(pb.ReadAllRequest(after=pb.AllPosition(shards=[
        pb.ShardPosition(keyspace="commerce", shard=9)]))), "after.shards[0]")


async def test_an_append_is_traced_with_its_stream_and_shard(
        es: Stub, gateway: Gateway, uid: str) -> None:
    s = f"traced-{uid}"
    await es.AppendToStream(append(s, [event(), event()]))
    spans = [sp for sp in SPANS.get_finished_spans() if sp.name == "eventstore append"
             and sp.attributes is not None and sp.attributes.get("datagw.stream") == s]
    assert len(spans) == 1
    attributes = spans[0].attributes
    assert attributes is not None
    assert attributes["datagw.keyspace"] == "commerce"
    assert attributes["datagw.shard"] == shard_index(gateway, s)
    assert attributes["datagw.events"] == 2
    assert spans[0].parent is not None
