"""Deterministic synthetic catalog: products and a search query mix.

Words follow a Zipf-like distribution (weight 1/rank), so a few words are in
most products and most words are rare, as in real catalog text. Everything is
derived from a seed, so every run loads and queries the same catalog.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from datagw.v1 import catalog_pb2, common_pb2

SEED = 20240601
VOCABULARY_SIZE = 20_000
CATEGORY_COUNT = 50
BRAND_COUNT = 500

# The head of the vocabulary: real product words, so titles read naturally.
_HEAD = [
    "black", "white", "steel", "cotton", "wireless", "portable", "classic", "premium",
    "compact", "organic", "leather", "stainless", "waterproof", "vintage", "modern", "digital",
    "smart", "ergonomic", "lightweight", "durable", "rechargeable", "outdoor", "kitchen",
    "travel", "heavy", "soft", "natural", "wooden", "glass", "ceramic", "bamboo", "adjustable",
    "foldable", "insulated", "bluetooth", "magnetic", "professional", "handmade", "eco",
    "large", "small", "mini", "deluxe", "slim", "thermal", "silver", "golden", "red", "blue",
    "green", "grey", "pink", "navy", "charcoal", "walnut", "oak", "maple", "linen", "wool",
    "silk", "denim", "canvas", "nylon", "carbon", "titanium", "aluminum", "copper", "brass",
    "marble", "granite", "rubber", "silicone", "vegan", "kids", "baby", "pet", "garden",
    "office", "gaming", "studio", "home", "family", "deluxe", "set", "pack", "kit", "bundle",
    "pair", "collection", "edition", "series", "original", "signature", "everyday",
    "essential", "ultra", "pro", "plus", "max", "lite", "air", "core", "prime"
]
_CONSONANTS = "bcdfghjklmnprstvz"
_VOWELS = "aeiou"
_CATEGORIES = (
    "Kitchen", "Dining", "Bedding", "Bath", "Furniture", "Lighting", "Decor", "Garden",
    "Outdoor", "Tools", "Hardware", "Automotive", "Electronics", "Computers", "Phones",
    "Audio", "Cameras", "Gaming", "Toys", "Baby", "Books", "Music", "Movies", "Office",
    "Art Supplies", "Crafts", "Sports", "Fitness", "Cycling", "Camping", "Fishing", "Pets",
    "Health", "Beauty", "Skincare", "Fragrance", "Jewelry", "Watches", "Shoes", "Bags",
    "Luggage", "Menswear", "Womenswear", "Kidswear", "Grocery", "Beverages", "Snacks",
    "Cleaning", "Storage", "Party",
)
_COLORS = ("black", "white", "red", "blue", "green", "grey", "navy", "beige", "pink", "olive")
_SIZES = ("XS", "S", "M", "L", "XL", "one size")
_MATERIALS = ("cotton", "steel", "wood", "glass", "plastic", "leather", "wool", "bamboo")


def _pseudo_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """Pronounceable made-up words (2-4 syllables), none repeated or in `taken`."""
    out: list[str] = []
    while len(out) < count:
        word = "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS)
                       for _ in range(rng.randint(2, 4)))
        if rng.random() < 0.4:
            word += rng.choice("nrstlk")
        if word not in taken:
            taken.add(word)
            out.append(word)
    return out


def _zipf_cum_weights(n: int, s: float) -> list[float]:
    return list(accumulate(1.0 / (rank + 1) ** s for rank in range(n)))


@dataclass(frozen=True)
class Catalog:
    """The vocabulary, categories and brands of one seed, ranked by frequency."""

    words: list[str]
    categories: list[str]
    brands: list[str]
    word_weights: list[float] = field(repr=False)
    category_weights: list[float] = field(repr=False)
    brand_weights: list[float] = field(repr=False)

    @classmethod
    def build(cls, seed: int = SEED) -> Catalog:
        rng = random.Random(seed)
        head = list(dict.fromkeys(_HEAD))
        taken = set(head)
        words = head + _pseudo_words(rng, VOCABULARY_SIZE - len(head), taken)
        brands = [w.capitalize() for w in _pseudo_words(rng, BRAND_COUNT, taken)]
        categories = list(_CATEGORIES[:CATEGORY_COUNT])
        return cls(
            words=words, categories=categories, brands=brands,
            word_weights=_zipf_cum_weights(len(words), 1.0),
            category_weights=_zipf_cum_weights(len(categories), 0.7),
            brand_weights=_zipf_cum_weights(len(brands), 1.0),
        )

    def product(self, rng: random.Random, index: int) -> catalog_pb2.Product:
        brand = rng.choices(self.brands, cum_weights=self.brand_weights)[0]
        category = rng.choices(self.categories, cum_weights=self.category_weights)[0]
        title_words = rng.choices(self.words, cum_weights=self.word_weights,
                                  k=rng.randint(3, 6))
        desc_words = rng.choices(self.words, cum_weights=self.word_weights,
                                 k=rng.randint(15, 50))
        # Sentences of 5-12 words read like product copy and keep phrases short.
        sentences, i = [], 0
        while i < len(desc_words):
            n = rng.randint(5, 12)
            chunk = desc_words[i:i + n]
            sentences.append(" ".join(chunk).capitalize() + ".")
            i += n
        # Log-normal prices: many cheap products, a long tail of expensive ones.
        price = min(2_000_000, max(99, int(rng.lognormvariate(math.log(3000), 1.2))))
        attributes = {"color": rng.choice(_COLORS), "size": rng.choice(_SIZES)}
        if rng.random() < 0.5:
            attributes["material"] = rng.choice(_MATERIALS)
        return catalog_pb2.Product(
            sku=sku(index),
            title=f"{brand} " + " ".join(title_words).title() + f" {category}",
            description=" ".join(sentences),
            category=category,
            brand=brand,
            price=common_pb2.Money(amount_minor=price, currency_code="USD"),
            attributes=attributes,
            active=rng.random() >= 0.03,
        )


def sku(index: int) -> str:
    return f"SKU{index:08d}"


CHUNK = 25_000


def generate_chunk(args: tuple[int, int, int]) -> list[bytes]:
    """Serialized ImportProductsRequest messages for products [start, stop).

    Each chunk has its own RNG seeded from (seed, chunk start), so chunks can be
    generated in parallel and still give the same catalog.
    """
    seed, start, stop = args
    catalog = _catalog_for(seed)
    rng = random.Random(seed * 1_000_003 + start)
    return [catalog_pb2.ImportProductsRequest(product=catalog.product(rng, i)).SerializeToString()
            for i in range(start, stop)]


_CATALOGS: dict[int, Catalog] = {}


def _catalog_for(seed: int) -> Catalog:
    if seed not in _CATALOGS:
        _CATALOGS[seed] = Catalog.build(seed)
    return _CATALOGS[seed]


# -- the search query mix -----------------------------------------------------

STRONG = common_pb2.ReadOptions(consistency=common_pb2.CONSISTENCY_LEVEL_STRONG)
EVENTUAL = common_pb2.ReadOptions(consistency=common_pb2.CONSISTENCY_LEVEL_EVENTUAL)

RELEVANCE = catalog_pb2.PRODUCT_SORT_RELEVANCE
PRICE_ASC = catalog_pb2.PRODUCT_SORT_PRICE_ASC
PRICE_DESC = catalog_pb2.PRODUCT_SORT_PRICE_DESC
NEWEST = catalog_pb2.PRODUCT_SORT_NEWEST


@dataclass(frozen=True)
class SearchSession:
    """One query a user runs, and how many pages they follow."""

    kind: str
    request: catalog_pb2.SearchProductsRequest
    pages: int


def misspelt(rng: random.Random, word: str) -> str:
    """`word` with one typing slip: a letter dropped, doubled or swapped with
    the next (never the first letter: people rarely slip there)."""
    i = rng.randrange(1, len(word) - 1)
    slip = rng.choice(("drop", "double", "swap"))
    if slip == "drop":
        return word[:i] + word[i + 1:]
    if slip == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


@dataclass(frozen=True)
class WordBands:
    """Words drawn by how many products hold them: common = ranks 3-30 (a
    large share of the products), medium = 100-600, rare = 3000-15000 (a
    few hundred products in a million)."""

    rng: random.Random
    words: list[str]

    def common(self) -> str:
        return self.words[self.rng.randint(3, 30)]

    def medium(self) -> str:
        return self.words[self.rng.randint(100, 600)]

    def rare(self) -> str:
        return self.words[self.rng.randint(3000, min(15000, len(self.words) - 1))]


def query_mix(catalog: Catalog, seed: int = SEED, scale: float = 1.0) -> list[SearchSession]:
    """A realistic mix: common and rare words, two words, filters, sorts, deep pages.

    Word ranks: common = 3-30 (in a large share of products), medium = 100-600,
    rare = 3000-15000 (a few hundred products in a million).
    """
    rng = random.Random(seed + 7)
    bands = WordBands(rng, catalog.words)
    common, medium, rare = bands.common, bands.medium, bands.rare

    def price_range() -> tuple[int, int]:
        low = rng.choice((500, 1000, 2000, 5000, 10000))
        return low, low * rng.choice((2, 3, 5))

    def long(pick: Callable[[], str]) -> str:
        """A word of five letters or more (shorter ones are not corrected)."""
        while len(word := pick()) < 5:
            pass
        return word

    def req(**kw: Any) -> catalog_pb2.SearchProductsRequest:
        return catalog_pb2.SearchProductsRequest(page_size=20, **kw)

    def category() -> str:
        return rng.choice(catalog.categories[:30])

    def brand() -> str:
        return catalog.brands[rng.randint(0, 100)]

    builders: list[tuple[str, int, int, Callable[[], catalog_pb2.SearchProductsRequest]]] = [
        # kind, how many sessions, pages per session, request builder
        ("common word", 8, 1, lambda: req(query=common(), sort=RELEVANCE)),
        ("rare word", 8, 1, lambda: req(query=rare(), sort=RELEVANCE)),
        ("two words", 6, 1, lambda: req(query=f"{common()} {medium()}", sort=RELEVANCE)),
        ("two rare-ish words", 4, 1, lambda: req(query=f"{medium()} {rare()}")),
        ("category, newest", 4, 1, lambda: req(category=category(), sort=NEWEST)),
        ("category + price, price asc", 4, 1, lambda: _priced(
            req(category=category(), sort=PRICE_ASC), price_range())),
        ("brand, price desc", 4, 1, lambda: req(brand=brand(), sort=PRICE_DESC)),
        ("word + category", 4, 1, lambda: req(query=common(), category=category())),
        ("price range, price asc", 3, 1, lambda: _priced(req(sort=PRICE_ASC), price_range())),
        ("word, newest", 3, 1, lambda: req(query=medium(), sort=NEWEST)),
        ("deep: common word", 2, 0, lambda: req(query=common(), sort=RELEVANCE)),
        ("deep: category, newest", 2, 0, lambda: req(category=category(), sort=NEWEST)),
        ("deep: price range", 2, 0, lambda: _priced(req(sort=PRICE_ASC), price_range())),
        ("deep: word, price desc", 2, 0, lambda: req(query=medium(), sort=PRICE_DESC)),
        # Last, so the kinds above draw the same queries as before these existed.
        # Typo tolerance: corrected through the search vocabulary.
        ("typo: medium word", 6, 1,
         lambda: req(query=misspelt(rng, long(medium)), sort=RELEVANCE)),
        ("typo: rare word", 6, 1, lambda: req(query=misspelt(rng, long(rare)), sort=RELEVANCE)),
        ("typo: word + common word", 4, 1,
         lambda: req(query=f"{common()} {misspelt(rng, long(medium))}", sort=RELEVANCE)),
        # Facet counts with the first page, and facet filters.
        ("facets: common word", 4, 1,
         lambda: req(query=common(), sort=RELEVANCE, include_facets=True)),
        ("facets: rare word", 4, 1,
         lambda: req(query=rare(), sort=RELEVANCE, include_facets=True)),
        ("facets: category, newest", 4, 1,
         lambda: req(category=category(), sort=NEWEST, include_facets=True)),
        ("facets: word + two brands + in stock", 4, 1,
         lambda: req(query=medium(), brands=[brand(), brand()], in_stock=True,
                     include_facets=True)),
        ("facets: common word + price band", 4, 1,
         lambda: req(query=common(), include_facets=True, price_bands=[
             catalog_pb2.PriceBand(min_price_minor=2500, max_price_minor=5000)])),
    ]
    sessions: list[SearchSession] = []
    for kind, count, pages, build in builders:
        n = max(1, round(count * scale))
        for _ in range(n):
            request = build()
            sessions.append(SearchSession(kind, request, pages or rng.randint(5, 10)))
    return sessions


def suggest_prefixes(catalog: Catalog, seed: int = SEED,
                     scale: float = 1.0) -> list[catalog_pb2.SuggestProductsRequest]:
    """What a search box sends while a shopper types: the first 1-6 letters
    of common, medium and rare words, alone and after a whole word."""
    rng = random.Random(seed + 11)
    words = catalog.words
    out = []
    for _ in range(max(1, round(40 * scale))):
        rank = rng.choice((rng.randint(0, 30), rng.randint(100, 600),
                           rng.randint(3000, min(15000, len(words) - 1))))
        typed = words[rank][:rng.randint(1, 6)]
        if rng.random() < 0.3:
            typed = f"{words[rng.randint(0, 30)]} {typed}"
        out.append(catalog_pb2.SuggestProductsRequest(prefix=typed, read_options=STRONG))
    return out


def _priced(
    request: catalog_pb2.SearchProductsRequest, bounds: tuple[int, int]
) -> catalog_pb2.SearchProductsRequest:
    request.min_price_minor, request.max_price_minor = bounds
    return request
