"""The catalog cache's product encoding (api.convert.ProductProto): a record
survives the trip whole, and the stored bytes are the Product GetProduct
answers with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from datagw.v1 import catalog_pb2

from gateway.api.convert import ProductProto, product_out
from gateway.records.catalog import ProductRecord

PRODUCT = ProductRecord(
    sku="SKU-1", title="Kettle", description="Boils water", category="kitchen",
    brand="acme", price_minor=1999, currency="EUR", attributes={"colour": "red", "l": "1.7"},
    active=False, version=7,
    created_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    # Another zone: the same instant comes back in UTC.
    updated_at=datetime(2026, 2, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=2))),
)


def test_a_product_survives_the_cache_encoding() -> None:
    assert ProductProto.decode(ProductProto.encode(PRODUCT)) == PRODUCT


def test_missing_times_stay_missing() -> None:
    bare = ProductRecord(sku="SKU-2", title="t", description="", category="c", brand="b",
                         price_minor=0, currency="")
    assert ProductProto.decode(ProductProto.encode(bare)) == bare


def test_the_stored_bytes_are_the_response_product() -> None:
    response = catalog_pb2.GetProductResponse()
    response.product.MergeFromString(ProductProto.encode(PRODUCT))
    assert response == catalog_pb2.GetProductResponse(product=product_out(PRODUCT))
