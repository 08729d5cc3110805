"""The catalog's domain events: what a product write records on the product's stream.

Each write appends in its own transaction (docs/events.md, "Catalog events"):
ProductCreated or ProductUpdated with the product as stored, followed by
ProductPriceChanged when the price or its currency moved, and ProductDeleted
with the product as it was. The stream is `product-<sku>` in the catalog
keyspace, next to the products table. An import records the same events
built in SQL (gateway/storage/postgres/product_events.py, which names the
stream and the types for both).
"""

from __future__ import annotations

from gateway.records.catalog import ProductRecord, ProductWrite
from gateway.storage.eventstore.recorder import NewEvent
from gateway.storage.postgres.product_events import (
    CREATED,
    DELETED,
    PRICE_CHANGED,
    STREAM_PREFIX,
    UPDATED,
)


def stream(sku: str) -> str:
    return f"{STREAM_PREFIX}{sku}"


def recorded(write: ProductWrite) -> list[NewEvent]:
    """The events of a create or a replace, in order."""
    p = write.product
    events = [NewEvent(stream(p.sku), CREATED if write.created else UPDATED,
                       p.to_json())]
    before = write.before
    if before is not None and (before.price_minor, before.currency) != (p.price_minor,
                                                                         p.currency):
        events.append(NewEvent(stream(p.sku), PRICE_CHANGED, {
            "sku": p.sku, "version": p.version,
            "previous_price_minor": before.price_minor, "previous_currency": before.currency,
            "price_minor": p.price_minor, "currency": p.currency}))
    return events


def deleted(before: ProductRecord) -> NewEvent:
    return NewEvent(stream(before.sku), DELETED, before.to_json())
