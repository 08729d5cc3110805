"""AnalyticsService.IngestEvents into the embedded ClickHouse engine: each
event judged on its own, batches written once even when a call is retried."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from datagw.v1 import analytics_pb2 as pb
from datagw.v1 import analytics_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.domain.analytics.ingest import BehaviourEvent
from gateway.domain.analytics.reports import AnalyticsDomain
from gateway.errors import Unavailable
from gateway.runtime.server import Gateway
from gateway.storage.clickhouse.server_backend import ClickHouseServerStore
from tests.analytics import analytics_store
from tests.helpers import invalid


@pytest.fixture(scope="module")
def analytics(channel: grpc.aio.Channel) -> analytics_pb2_grpc.AnalyticsServiceStub:
    return analytics_pb2_grpc.AnalyticsServiceStub(channel)


def at(delta: timedelta = timedelta()) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(datetime.now(UTC) + delta)
    return out


def event(session: str, **fields: Any) -> pb.BehaviourEvent:
    """A valid page view; keyword arguments override any field."""
    values: dict[str, Any] = {"event_id": str(uuid.uuid4()),
                              "type": pb.BEHAVIOUR_EVENT_TYPE_PAGE_VIEW, "occur_time": at(),
                              "session_id": session, "page": "/home"}
    values.update(fields)
    return pb.BehaviourEvent(**values)


async def rows_of(gateway: Gateway, session: str) -> list[tuple[Any, ...]]:
    result = await analytics_store(gateway).query(
        "SELECT event_id, event_type, user_id, sku, query, page, quantity, properties "
        "FROM clickstream WHERE session_id = {s:String} ORDER BY occurred_at, event_id",
        {"s": session})
    return result.rows


async def test_each_event_is_checked_on_its_own(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, gateway: Gateway, uid: str
) -> None:
    s = f"{uid}-check"
    good = [
        event(s, user_id=f"{uid}-ada"),
        event(s, type=pb.BEHAVIOUR_EVENT_TYPE_PRODUCT_VIEW, sku="MUG-1", page="",
              properties={"ref": "mail"}),
        event(s, type=pb.BEHAVIOUR_EVENT_TYPE_SEARCH, query="blue mug", page=""),
        event(s, type=pb.BEHAVIOUR_EVENT_TYPE_ADD_TO_CART, sku="MUG-1", quantity=2),
        event(s, type=pb.BEHAVIOUR_EVENT_TYPE_REMOVE_FROM_CART, sku="MUG-1"),
        event(s, type=pb.BEHAVIOUR_EVENT_TYPE_CHECKOUT_START, page="",
              occur_time=at(timedelta(minutes=4))),
    ]
    bad = [  # (event, the field at fault)
        (event(s, event_id="not-a-uuid"), "event_id"),
        (event(s, type=pb.BEHAVIOUR_EVENT_TYPE_UNSPECIFIED), "type"),
        (event(s, type=99), "type"),
        (pb.BehaviourEvent(event_id=str(uuid.uuid4()), type=pb.BEHAVIOUR_EVENT_TYPE_PAGE_VIEW,
                           session_id=s, page="/x"), "occur_time"),
        (event(s, occur_time=at(timedelta(minutes=6))), "occur_time"),
        (event(s, occur_time=at(-timedelta(days=91))), "occur_time"),
        (event(s, session_id=""), "session_id"),
        (event(s, user_id="no spaces"), "user_id"),
        (event(s, type=pb.BEHAVIOUR_EVENT_TYPE_PRODUCT_VIEW), "sku"),
        (event(s, type=pb.BEHAVIOUR_EVENT_TYPE_SEARCH, query="  "), "query"),
        (event(s, page=""), "page"),
        (event(s, page="/" + "p" * 2048), "page"),
        (event(s, type=pb.BEHAVIOUR_EVENT_TYPE_ADD_TO_CART, sku="MUG-1"), "quantity"),
        (event(s, quantity=-1), "quantity"),
        (event(s, properties={f"k{n}": "v" for n in range(33)}), "properties"),
        (event(s, properties={"k" * 65: "v"}), "properties"),
        # A trailing newline is no part of an id.
        (event(s, event_id=str(uuid.uuid4()) + "\n"), "event_id"),
        (event(s, user_id="ada\n"), "user_id"),
        (event(s, type=pb.BEHAVIOUR_EVENT_TYPE_PRODUCT_VIEW, sku="MUG-1\n", page=""), "sku"),
    ]
    first = good[:3] + [e for e, _ in bad]
    second = [pb.BehaviourEvent(), *good[3:]]
    response = await analytics.IngestEvents(iter([
        pb.IngestEventsRequest(events=first), pb.IngestEventsRequest(),
        pb.IngestEventsRequest(events=second)]))
    assert (response.accepted, response.rejected) == (len(good), len(bad) + 1)
    assert [(r.index, r.event_id, r.field) for r in response.rejections] == [
        (3 + i, e.event_id, field) for i, (e, field) in enumerate(bad)] + [
        (len(first), "", "event_id")]
    assert all(r.description for r in response.rejections)
    assert "5 minutes" in response.rejections[4].description
    rows = await rows_of(gateway, s)
    assert sorted(r[0].hex for r in rows) == sorted(e.event_id.replace("-", "") for e in good)
    cart = next(r for r in rows if r[1] == "add_to_cart")
    assert cart[3:7] == ("MUG-1", "", "/home", 2)
    assert next(r for r in rows if r[1] == "product_view")[7] == {"ref": "mail"}
    assert next(r for r in rows if r[1] == "page_view")[2] == f"{uid}-ada"


async def test_an_occur_time_that_is_no_timestamp_is_rejected_on_it(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, gateway: Gateway, uid: str
) -> None:
    # Read as they came, nanos 1e9 would store the event a second later and
    # -1 a millisecond earlier; a Timestamp's nanos are 0-999999999.
    s = f"{uid}-nanos"
    now = at().seconds
    bad = [event(s, occur_time=Timestamp(seconds=now, nanos=nanos))
           for nanos in (-1, -999_999_999, 1_000_000_000, 2**31 - 1)]
    bad.append(event(s, occur_time=Timestamp(seconds=253_402_300_800)))  # year 10000
    good = event(s, occur_time=Timestamp(seconds=now, nanos=999_999_999))
    response = await analytics.IngestEvents(iter([pb.IngestEventsRequest(events=[*bad, good])]))
    assert (response.accepted, response.rejected) == (1, len(bad))
    assert [(r.index, r.event_id, r.field) for r in response.rejections] == [
        (i, e.event_id, "occur_time") for i, e in enumerate(bad)]
    assert all("nanos 0-999999999" in r.description for r in response.rejections)
    assert [r[0].hex for r in await rows_of(gateway, s)] == [good.event_id.replace("-", "")]


async def test_a_retried_call_is_written_once(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, gateway: Gateway, uid: str
) -> None:
    s = f"{uid}-retry"
    # 25,000 events: batches of 10,000, 10,000 and 5,000 rows.
    events = [event(s) for _ in range(25_000)]
    messages = [pb.IngestEventsRequest(events=events[i:i + 7_000])
                for i in range(0, len(events), 7_000)]
    for _ in range(2):
        response = await analytics.IngestEvents(iter(messages))
        assert (response.accepted, response.rejected) == (25_000, 0)
        count = await analytics_store(gateway).query(
            "SELECT count(), uniqExact(event_id) FROM clickstream WHERE session_id = {s:String}",
            {"s": s})
        assert count.rows == [(25_000, 25_000)]


async def test_only_the_first_hundred_rejections_are_described(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, uid: str
) -> None:
    bad = [event(f"{uid}-many", session_id="") for _ in range(150)]
    response = await analytics.IngestEvents(iter([pb.IngestEventsRequest(events=bad)]))
    assert (response.accepted, response.rejected) == (0, 150)
    assert [r.index for r in response.rejections] == list(range(100))


async def test_empty_calls_and_messages_are_fine(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub
) -> None:
    response = await analytics.IngestEvents(iter([]))
    assert (response.accepted, response.rejected) == (0, 0)
    response = await analytics.IngestEvents(iter([pb.IngestEventsRequest()] * 3))
    assert (response.accepted, response.rejected) == (0, 0)


async def test_a_message_over_ten_thousand_events_fails_the_call(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, uid: str
) -> None:
    one = event(f"{uid}-big")
    await invalid(analytics.IngestEvents(iter([pb.IngestEventsRequest(events=[one] * 10_001)])),
                  "events")


async def test_an_unreachable_store_is_unavailable(gateway: Gateway) -> None:
    # A real client for a ClickHouse server that is not there.
    down = ClickHouseServerStore("http://127.0.0.1:9", connect_timeout_s=1.0)
    domain = AnalyticsDomain(gateway.policies, down)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)

    async def one_message() -> AsyncIterator[list[BehaviourEvent]]:
        yield [BehaviourEvent(str(uuid.uuid4()), "page_view", now_ms, "", "s", "", "", "/", 0,
                              {})]

    with pytest.raises(Unavailable):
        await domain.ingest(one_message())
    with pytest.raises(Unavailable):
        await domain.conversion_funnel(now_ms - 1000, now_ms)
    with pytest.raises(Unavailable):
        await domain.run_query("SELECT 1", {}, 0, None)
    down.close()
