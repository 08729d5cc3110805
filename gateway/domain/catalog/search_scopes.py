"""Which cached search pages a product write can change.

A search page lists the products that match its filters, so a write can
change it only if the product matched them before or matches them after.
Pages are grouped by the one filter every shop uses to browse, the
category: a page filtered by category C depends on C's generation, and a
page without a category filter (text search across the catalog, brand
only, everything) on the unfiltered scope's, which every write bumps. A
write bumps the unfiltered scope and the scopes of the categories the
product had before and has after, so browsing one category keeps its pages
cached while the rest of the catalog changes. Finer scopes (brand, price
band) would need every combination a page may filter by; the category is
where most cached browsing is, and a write touches at most two of them.

When the categories a write touched are not known (a bulk import, a write
whose outcome is unknown), every page is dropped (the kind's epoch).
"""

from __future__ import annotations

from collections.abc import Iterable

KIND = "search"
UNFILTERED = "*"


def search_scope(category: str, categories: Iterable[str] = ()) -> str:
    """The scope of a page filtered by `category` and any of `categories`
    (none: no category filter). A page over several categories is in the
    unfiltered scope: one scope per page keeps a lookup to one generation,
    and a write to any of them bumps the unfiltered scope too."""
    wanted = {category, *categories} - {""}
    return f"c:{wanted.pop()}" if len(wanted) == 1 else UNFILTERED


def touched_scopes(categories: Iterable[str]) -> set[str]:
    """The scopes a write to products with these categories (before and after) changes."""
    return {UNFILTERED, *(search_scope(c) for c in categories if c)}
