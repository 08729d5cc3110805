"""A search's filters as SQL conditions on `products`, grouped by facet.

Facet counts need each facet's own filter apart (a facet is counted with
every filter but its own: search_facets.py); the result pages apply them all
(catalog_store.search_products). Each "any of" filter is one condition.
A text search's bounded reads (relevance, facets) go through `examined`.
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


# The facets a search may filter by; category and brand are held by the
# text search indexes next to the words (the search_title_vector migration).
FACETS = ("category", "brand", "price", "in_stock")
_HELD = ("category", "brand")


@dataclass(frozen=True)
class SearchFilters:
    """`base` applies to every count; each facet's condition is None when
    the search does not filter by it."""

    base: list[str]
    category: str | None
    brand: str | None
    price: str | None
    in_stock: bool

    def _facets(self) -> dict[str, str | None]:
        return {"category": self.category, "brand": self.brand, "price": self.price,
                "in_stock": IN_STOCK if self.in_stock else None}

    def has(self, facet: str) -> bool:
        return self._facets()[facet] is not None

    def for_text(self, without: str | None = None) -> tuple[list[str], list[str]]:
        """The conditions, less facet `without`'s (a facet is counted with
        every filter but its own), split for `examined`: those the text
        index holds next to the words (category, brand), and the others."""
        facets = {n: c for n, c in self._facets().items() if c and n != without}
        return ([c for n, c in facets.items() if n in _HELD],
                [*self.base, *(c for n, c in facets.items() if n not in _HELD)])

    def all(self) -> list[str]:
        """Every condition, for the result pages."""
        return [*self.base, *(c for c in self._facets().values() if c)]


@dataclass(frozen=True)
class Examined:
    """What a bounded read of a search examines: `rows`, a FROM item named
    `products` holding at most its cap of products, and `passes`, the
    condition those of them that are results pass."""

    rows: str
    passes: str


def examined(text: str | None, held: list[str], checked: list[str], cap: str) -> Examined:
    """The first `cap` products matching the text condition `text` (a
    vector @@ query) and the conditions `held`; of those, the ones passing
    `checked` are the results. So a read's cost is bounded by `cap` however
    selective `checked` is: a price band or the in-stock flag, checked on
    every match of a common word, could read 100,000 of them to find a page.
    Without text every condition applies while reading (the category's,
    the brand's or the price's index finds the rows)."""
    if text is None:
        where = " AND ".join([*held, *checked]) or "true"
        return Examined(f"(SELECT * FROM products WHERE {where} LIMIT {cap}) AS products",
                        "true")
    # The LIMIT also keeps `checked` out of the scan: PostgreSQL would AND
    # the price index's bitmap into it, 16 ms for a price band's 225,000
    # rows on 1,000,000 products.
    return Examined(
        f"(SELECT * FROM products WHERE {' AND '.join([text, *held])} LIMIT {cap}) AS products",
        " AND ".join(checked) or "true")


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
