"""Catalog writes record domain events on product-<sku> in the catalog keyspace,
in the write's own transaction; refused and replayed writes record nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from datagw.v1 import catalog_pb2, eventstore_pb2_grpc
from datagw.v1 import eventstore_pb2 as pb
from google.protobuf import json_format

from tests.analytics import relayed_past_now
from tests.eventstore import event, ref
from tests.helpers import STRONG, fails, get, money, product, upsert

pytestmark = pytest.mark.integration
Stub = eventstore_pb2_grpc.EventStoreServiceStub
ACTOR = "svc-merch"


@pytest.fixture(scope="module")
def es(channel: grpc.aio.Channel) -> Stub:
    return eventstore_pb2_grpc.EventStoreServiceStub(channel)


def _stream(sku: str) -> pb.StreamRef:
    return ref(f"product-{sku}", keyspace="catalog")


async def _events(es: Stub, sku: str) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """The product stream's events: (type, payload, metadata) each, oldest first."""
    try:
        response = await es.ReadStream(pb.ReadStreamRequest(stream=_stream(sku)))
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.NOT_FOUND, exc
        return []
    return [(e.event_type, json_format.MessageToDict(e.payload), dict(e.metadata))
            for e in response.events]


def _types(events: list[tuple[str, dict[str, Any], dict[str, str]]]) -> list[str]:
    return [t for t, _, _ in events]


async def test_upserts_record_created_updated_and_price_changed(
        catalog: Any, es: Stub, uid: str) -> None:
    sku = f"EV-U-{uid}"
    await catalog.UpsertProduct(
        catalog_pb2.UpsertProductRequest(product=product(sku, price=money(1000)),
                                         request_id=f"create-{uid}"),
        metadata=(("datagw-actor", ACTOR),))
    await upsert(catalog, product(sku, title="Renamed", price=money(1000)))
    await upsert(catalog, product(sku, title="Renamed", price=money(1250)))

    events = await _events(es, sku)
    assert _types(events) == ["ProductCreated", "ProductUpdated", "ProductUpdated",
                              "ProductPriceChanged"]
    created, renamed, repriced, price = (p for _, p, _ in events)
    assert (created["sku"], created["version"], created["price_minor"]) == (sku, 1, 1000)
    assert (renamed["title"], renamed["version"]) == ("Renamed", 2)
    assert repriced["version"] == 3
    assert price == {"sku": sku, "version": 3, "previous_price_minor": 1000,
                     "previous_currency": "EUR", "price_minor": 1250, "currency": "EUR"}
    meta = events[0][2]
    assert meta["request_id"] == f"create-{uid}"
    assert meta["on_behalf_of"] == ACTOR
    assert meta["actor"]


async def test_delete_records_the_product_as_it_was(catalog: Any, es: Stub, uid: str) -> None:
    sku = f"EV-D-{uid}"
    await upsert(catalog, product(sku, title="Doomed"))
    await catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(sku=sku))
    events = await _events(es, sku)
    assert _types(events) == ["ProductCreated", "ProductDeleted"]
    assert (events[1][1]["title"], events[1][1]["version"]) == ("Doomed", 1)

    # Created again: the stream continues.
    await upsert(catalog, product(sku))
    assert _types(await _events(es, sku)) == ["ProductCreated", "ProductDeleted",
                                              "ProductCreated"]


async def test_refused_and_replayed_writes_record_nothing(
        catalog: Any, es: Stub, uid: str) -> None:
    sku = f"EV-R-{uid}"
    first = catalog_pb2.UpsertProductRequest(product=product(sku), request_id=f"r-{uid}")
    await catalog.UpsertProduct(first)
    await catalog.UpsertProduct(first)  # replayed by request id
    await fails(catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(
        product=product(sku, title="Stale"), expected_version=7)), grpc.StatusCode.ABORTED)
    await fails(catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(
        product=product(sku), expected_version=0)), grpc.StatusCode.ABORTED)
    await fails(catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(
        sku=sku, expected_version=5)), grpc.StatusCode.ABORTED)
    await fails(catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(sku=f"{sku}-none")),
                grpc.StatusCode.NOT_FOUND)
    assert _types(await _events(es, sku)) == ["ProductCreated"]
    assert await _events(es, f"{sku}-none") == []


async def _import(catalog: Any, rows: list[catalog_pb2.Product]) -> Any:
    async def stream() -> AsyncIterator[catalog_pb2.ImportProductsRequest]:
        yield catalog_pb2.ImportProductsRequest(products=rows)
    return await catalog.ImportProducts(stream())


async def test_import_records_one_event_per_product_and_price_moves(
        catalog: Any, es: Stub, uid: str) -> None:
    new = [product(f"EV-I-{uid}-{i}", price=money(100 + i)) for i in range(3)]
    report = await _import(catalog, new)  # all new: the COPY path
    assert report.imported_count == 3
    for i, p in enumerate(new):
        events = await _events(es, p.sku)
        assert _types(events) == ["ProductCreated"]
        assert events[0][1]["price_minor"] == 100 + i
        assert events[0][1]["version"] == 1

    # Existing and new mixed: the staging path; one price moves, one is new.
    again = [product(new[0].sku, price=money(100)), product(new[1].sku, price=money(999)),
             product(f"EV-I-{uid}-new")]
    report = await _import(catalog, again)
    assert report.imported_count == 3
    assert _types(await _events(es, new[0].sku)) == ["ProductCreated", "ProductUpdated"]
    moved = await _events(es, new[1].sku)
    assert _types(moved) == ["ProductCreated", "ProductUpdated", "ProductPriceChanged"]
    assert (moved[2][1]["previous_price_minor"], moved[2][1]["price_minor"]) == (101, 999)
    assert _types(await _events(es, f"EV-I-{uid}-new")) == ["ProductCreated"]
    assert _types(await _events(es, new[2].sku)) == ["ProductCreated"]


async def test_product_streams_are_the_catalogs_own(es: Stub, uid: str) -> None:
    failure = await fails(es.AppendToStream(pb.AppendToStreamRequest(
        stream=_stream(f"EV-W-{uid}"), events=[event()])), grpc.StatusCode.INVALID_ARGUMENT)
    assert "stream.stream" in failure.fields


async def _tombstone(gateway: Any, sku: str) -> None:
    """Behind the API's back, as docs/events.md describes."""
    async with gateway.backends.keyspaces["catalog"].single.connection("test") as conn:
        await conn.execute(
            "UPDATE streams SET metadata = metadata || '{\"tombstoned\": true}' "
            "WHERE stream_id = $1", f"product-{sku}")


async def test_a_tombstoned_product_stream_refuses_the_write(
        catalog: Any, uid: str, gateway: Any) -> None:
    sku = f"EV-T-{uid}"
    await upsert(catalog, product(sku, title="Before"))
    await _tombstone(gateway, sku)
    failure = await fails(upsert(catalog, product(sku, title="After")),
                          grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.error_info is not None
    assert failure.error_info.reason == "STREAM_TOMBSTONED"
    assert (await get(catalog, sku, STRONG)).title == "Before"


async def test_an_import_rejects_only_the_row_whose_stream_is_tombstoned(
        catalog: Any, es: Stub, uid: str, gateway: Any) -> None:
    sku = f"EV-TI-{uid}"
    await upsert(catalog, product(sku, title="Before"))
    await _tombstone(gateway, sku)
    report = await _import(catalog, [product(sku, title="After"),
                                     product(f"{sku}-ok", title="Fine")])
    assert (report.imported_count, report.failed_count) == (1, 1)
    assert [e.sku for e in report.errors] == [sku]
    assert (await get(catalog, sku, STRONG)).title == "Before"
    assert _types(await _events(es, f"{sku}-ok")) == ["ProductCreated"]


async def test_an_import_of_new_products_rejects_a_tombstoned_stream(
        catalog: Any, es: Stub, uid: str, gateway: Any) -> None:
    # Deleted, so the batch is all new SKUs (the COPY path), but its stream
    # is tombstoned: that row is refused, the rest land with their events.
    sku = f"EV-TN-{uid}"
    await upsert(catalog, product(sku))
    await catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(sku=sku))
    await _tombstone(gateway, sku)
    report = await _import(catalog, [product(sku), product(f"{sku}-ok")])
    assert (report.imported_count, report.failed_count) == (1, 1)
    assert [e.sku for e in report.errors] == [sku]
    await fails(get(catalog, sku, STRONG), grpc.StatusCode.NOT_FOUND)
    assert _types(await _events(es, f"{sku}-ok")) == ["ProductCreated"]


async def test_the_relay_delivers_catalog_events_to_clickhouse_once(
        catalog: Any, uid: str, gateway: Any) -> None:
    sku = f"EV-C-{uid}"
    await upsert(catalog, product(sku, price=money(500)))
    await upsert(catalog, product(sku, price=money(700)))
    await catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(sku=sku))
    await relayed_past_now(gateway, list(gateway.backends.keyspaces["catalog"].shards))
    assert gateway.backends.clickhouse is not None
    result = await gateway.backends.clickhouse.query(
        """SELECT event_type, stream_revision, payload FROM domain_events
           WHERE keyspace = 'catalog' AND stream_id = {s:String} ORDER BY stream_revision""",
        {"s": f"product-{sku}"})
    rows = [(t, int(r), json.loads(p)) for t, r, p in result.rows]
    assert [(t, r) for t, r, _ in rows] == [
        ("ProductCreated", 0), ("ProductUpdated", 1), ("ProductPriceChanged", 2),
        ("ProductDeleted", 3)]
    assert (rows[2][2]["previous_price_minor"], rows[2][2]["price_minor"]) == (500, 700)


async def test_an_import_of_a_deleted_product_continues_its_stream(
        catalog: Any, es: Stub, uid: str) -> None:
    # All rows are new products (the COPY path), but one stream exists: the
    # events' COPY falls back to the statement, which continues it.
    gone = f"EV-G-{uid}"
    await upsert(catalog, product(gone))
    await catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(sku=gone))
    report = await _import(catalog, [product(gone), product(f"EV-G-{uid}-fresh")])
    assert report.imported_count == 2
    assert _types(await _events(es, gone)) == ["ProductCreated", "ProductDeleted",
                                               "ProductCreated"]
    assert _types(await _events(es, f"EV-G-{uid}-fresh")) == ["ProductCreated"]


def _same_but_sku(payload: dict[str, Any], sku: str) -> dict[str, Any]:
    """The payload with its SKU and times left out, and the times' format checked
    to be what Python's isoformat writes (the import builds them in SQL)."""
    for key in ("created_at", "updated_at"):
        if key in payload:
            assert datetime.fromisoformat(payload[key]).isoformat() == payload[key], payload
    assert payload["sku"] == sku
    return {k: v for k, v in payload.items() if k not in ("sku", "created_at", "updated_at")}


async def test_an_import_records_what_a_single_write_records(
        catalog: Any, es: Stub, uid: str) -> None:
    # The import builds its events in SQL, a single write in Python: the
    # same types and payloads, on the COPY path (new SKUs) and the upsert's.
    fields = {"title": "Jug", "description": "A jug", "category": "kitchen", "brand": "Acme",
              "attributes": {"colour": "blue", "size": "1l"}, "price": money(1999, "USD")}
    one, bulk = f"EV-P-{uid}-one", f"EV-P-{uid}-bulk"
    await upsert(catalog, product(one, **fields))
    await _import(catalog, [product(bulk, **fields)])
    moved = {**fields, "title": "Renamed", "active": False, "price": money(2500, "EUR")}
    await upsert(catalog, product(one, **moved))
    await _import(catalog, [product(bulk, **moved)])

    single, imported = await _events(es, one), await _events(es, bulk)
    assert _types(imported) == _types(single) == [
        "ProductCreated", "ProductUpdated", "ProductPriceChanged"]
    for (_, a, _), (_, b, _) in zip(single, imported, strict=True):
        assert _same_but_sku(b, bulk) == _same_but_sku(a, one)
    stored = await get(catalog, bulk, STRONG)
    assert (datetime.fromisoformat(imported[0][1]["created_at"])
            == stored.create_time.ToDatetime(tzinfo=UTC))
    assert (datetime.fromisoformat(imported[1][1]["updated_at"])
            == stored.update_time.ToDatetime(tzinfo=UTC))
