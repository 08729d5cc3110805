"""The catalog's product events built in SQL, for a catalog import.

One write records its events from Python values (gateway/domain/catalog/
events.py). An import of thousands of products records the same events, with
the same payloads, from the rows it stores, in the statement that stores
them (or the one right after a COPY): no event passes through the gateway's
Python, where building and encoding them cost about as much CPU as the rest
of the import (docs/BENCHMARKS.md).
The two must agree; tests/integration/test_catalog_events.py compares them.

`events(...)` is the `ev` CTE of recorder.append_selected: per product,
ProductCreated or ProductUpdated with the product as stored, then
ProductPriceChanged when the price or its currency moved.
"""

from __future__ import annotations

# The stream and the event types, named here once: the domain's events.py
# uses the same names for the events of one write.
STREAM_PREFIX = "product-"
CREATED = "ProductCreated"
UPDATED = "ProductUpdated"
PRICE_CHANGED = "ProductPriceChanged"
DELETED = "ProductDeleted"


def _iso(column: str) -> str:
    """A timestamptz as Python's datetime.isoformat() writes it in UTC (the
    fraction left out when it is zero), whatever the session's TimeZone."""
    return (f"replace(to_char({column} AT TIME ZONE 'UTC', "
            f"'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || '+00:00'")


def _product_json(p: str) -> str:
    """ProductRecord.to_json() of the products row (or row-shaped CTE) `p`."""
    fields = ", ".join(
        f"'{name}', {p}.{name}" for name in (
            "sku", "title", "description", "category", "brand", "price_minor", "currency",
            "attributes", "active", "version"))
    return (f"jsonb_build_object({fields}, 'created_at', {_iso(p + '.created_at')}, "
            f"'updated_at', {_iso(p + '.updated_at')})")


def events(stored: str, before: str | None) -> str:
    """The `ev` CTE for the rows named `stored` (the products columns and
    `created`), given `before` (sku, price_minor, currency: the rows they
    replaced), or None when every row is new."""
    stream = f"'{STREAM_PREFIX}' || stored.sku"
    arms = [f"""SELECT {stream} AS stream_id, 1 AS n,
           CASE WHEN stored.created THEN '{CREATED}' ELSE '{UPDATED}' END
               AS event_type,
           {_product_json('stored')} AS payload
    FROM {stored} AS stored"""]
    if before is not None:
        arms.append(f"""SELECT {stream}, 2, '{PRICE_CHANGED}',
           jsonb_build_object('sku', stored.sku, 'version', stored.version,
                              'previous_price_minor', before.price_minor,
                              'previous_currency', before.currency,
                              'price_minor', stored.price_minor, 'currency', stored.currency)
    FROM {stored} AS stored JOIN {before} AS before USING (sku)
    WHERE (before.price_minor, before.currency)
          IS DISTINCT FROM (stored.price_minor, stored.currency)""")
    return "ev AS (\n    " + "\n    UNION ALL\n    ".join(arms) + ")"

