"""The catalog's value types: a product, a search and its hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ProductRecord:
    sku: str
    title: str
    description: str
    category: str
    brand: str
    price_minor: int
    currency: str
    attributes: dict[str, str] = field(default_factory=dict)
    active: bool = True
    version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in _FIELDS}
        out["created_at"] = self.created_at.isoformat() if self.created_at else None
        out["updated_at"] = self.updated_at.isoformat() if self.updated_at else None
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProductRecord:
        values = {k: data[k] for k in _FIELDS}
        return cls(
            **values,
            created_at=datetime.fromisoformat(data["created_at"]) if data["created_at"] else None,
            updated_at=datetime.fromisoformat(data["updated_at"]) if data["updated_at"] else None,
        )


@dataclass(frozen=True)
class ProductWrite:
    """A product as a write stored it, and the row it replaced (None: the
    write created it)."""

    product: ProductRecord
    created: bool
    before: ProductRecord | None = None


_FIELDS = (
    "sku", "title", "description", "category", "brand", "price_minor", "currency",
    "attributes", "active", "version",
)


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    category: str = ""
    brand: str = ""
    min_price: int | None = None
    max_price: int | None = None
    sort: str = "relevance"
    limit: int = 20
    include_inactive: bool = False
    # The sort key of the last row of the previous page: (value, sku).
    after: tuple[Any, str] | None = None
    # Groups of words a query word may stand for (the catalog policy's
    # search.synonyms), lower-cased.
    synonyms: tuple[tuple[str, ...], ...] = ()
    # Facet filters, each "any of" (docs/api.md, facets): categories and
    # brands add to `category` and `brand`; a price band is [low, high),
    # high None for none; in_stock keeps products the product_stock
    # projection holds as in stock.
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    price_bands: tuple[PriceBand, ...] = ()
    in_stock: bool = False


@dataclass(frozen=True)
class PriceBand:
    low: int
    high: int | None


@dataclass(frozen=True)
class FacetCounts:
    """Counts over the matches of a search (the first `counted` found when
    `approximate`), each facet with every filter but its own applied."""

    brands: list[tuple[str, int]]
    categories: list[tuple[str, int]]
    price_bands: list[tuple[PriceBand, int]]
    in_stock: int
    out_of_stock: int
    total: int
    approximate: bool
    counted: int

    def to_json(self) -> dict[str, Any]:
        return {"b": self.brands, "c": self.categories,
                "p": [[b.low, b.high, n] for b, n in self.price_bands],
                "s": [self.in_stock, self.out_of_stock], "t": self.total,
                "a": self.approximate, "n": self.counted}

    @staticmethod
    def from_json(d: dict[str, Any]) -> FacetCounts:
        return FacetCounts([(v, n) for v, n in d["b"]], [(v, n) for v, n in d["c"]],
                           [(PriceBand(lo, hi), n) for lo, hi, n in d["p"]],
                           d["s"][0], d["s"][1], d["t"], d["a"], d["n"])


@dataclass(frozen=True)
class SearchHit:
    product: ProductRecord
    # The sort key of this row, for the next page's cursor.
    key: tuple[Any, str]


@dataclass(frozen=True)
class Suggestion:
    """A completion of a typed prefix (SuggestProducts): the prefix's last
    word completed from the search vocabulary."""

    text: str
    word: str
    products: int
