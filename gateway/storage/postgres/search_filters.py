"""A search's filters as SQL conditions on `products`, grouped by facet.

Facet counts need each facet's own filter apart (a facet is counted with
every filter but its own: search_facets.py); the result pages apply them all
(catalog_store.search_products). Each "any of" filter is one condition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.records.catalog import PriceBand, SearchQuery

Arg = Callable[[Any], str]

# In stock: the product_stock projection (catalog migration "product_stock")
# holds a row per sku with stock; a product without one is not in stock.
IN_STOCK = ("EXISTS (SELECT 1 FROM product_stock AS st"
            " WHERE st.sku = products.sku AND st.in_stock)")


@dataclass(frozen=True)
class SearchFilters:
    """`base` applies to every count; each facet's condition is None when
    the search does not filter by it."""

    base: list[str]
    category: str | None
    brand: str | None
    price: str | None
    in_stock: bool

    def facet_conditions(self, in_stock: str) -> dict[str, str | None]:
        """The facet filters by facet name; `in_stock` is the stock condition
        in the caller's FROM (a join or IN_STOCK)."""
        return {"category": self.category, "brand": self.brand, "price": self.price,
                "in_stock": in_stock if self.in_stock else None}

    def for_text(self) -> tuple[list[str], list[str]]:
        """Every condition, for a text search's pages: those the text index
        holds next to the words (category, brand), and the others."""
        held = [c for c in (self.category, self.brand) if c]
        return held, [c for c in self.all() if c not in held]

    def all(self) -> list[str]:
        """Every condition, for the result pages."""
        return [*self.base, *(c for c in self.facet_conditions(IN_STOCK).values() if c)]


def price_condition(bands: tuple[PriceBand, ...], arg: Arg) -> str | None:
    if not bands:
        return None
    parts = [f"(price_minor >= {arg(b.low)}::bigint"
             + (f" AND price_minor < {arg(b.high)}::bigint)" if b.high is not None else ")")
             for b in bands]
    return f"({' OR '.join(parts)})"


def search_filters(q: SearchQuery, arg: Arg) -> SearchFilters:
    """The conditions of `q`'s filters (not of its text), their values
    passed through `arg`."""
    base: list[str] = []
    if not q.include_inactive:
        base.append("active")
    if q.min_price is not None:
        base.append(f"price_minor >= {arg(q.min_price)}")
    if q.max_price is not None:
        base.append(f"price_minor <= {arg(q.max_price)}")

    def any_of(column: str, one: str, many: tuple[str, ...]) -> str | None:
        values = sorted({v for v in (one, *many) if v})
        if not values:
            return None
        if len(values) == 1:  # the column's own index, as before facet filters
            return f"{column} = {arg(values[0])}"
        return f"{column} = ANY({arg(values)}::text[])"

    return SearchFilters(base, any_of("category", q.category, q.categories),
                         any_of("brand", q.brand, q.brands),
                         price_condition(q.price_bands, arg), q.in_stock)
