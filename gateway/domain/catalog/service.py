"""Catalog operations: products with cache-aside reads and delete-after-commit writes,
each write recording its domain events (events.py) in its own transaction."""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import asyncpg

from gateway.domain import reads, tokens
from gateway.domain.catalog import events, facets, rules
from gateway.domain.catalog.invalidations import write_identity
from gateway.domain.catalog.search_scopes import KIND as SEARCH
from gateway.domain.catalog.search_scopes import search_scope, touched_scopes
from gateway.domain.one_in_flight import OneInFlight
from gateway.domain.paging import decode_token, encode_token, fingerprint
from gateway.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    Violations,
)
from gateway.policy.decisions import ReadPlan, plan_read
from gateway.policy.model import Consistency
from gateway.policy.registry import PolicyRegistry
from gateway.records.catalog import (
    FacetCounts,
    ProductRecord,
    ProductWrite,
    SearchQuery,
    Suggestion,
)
from gateway.storage.eventstore import recorder
from gateway.storage.eventstore.recorder import EventMeta
from gateway.storage.postgres import catalog_store as store
from gateway.storage.postgres import idempotency
from gateway.storage.postgres import search_words as vocabulary_store
from gateway.storage.postgres.pool import Keyspace
from gateway.storage.redis.cache import TTL, Cache, Entry, Fill, Lookup

log = logging.getLogger(__name__)
T = TypeVar("T")

DOMAIN = "catalog"
# Bump when the cached encoding of a product or a search page changes, so a
# rolling upgrade never reads entries written by another version.
# 2: a product entry is its ProductCodec encoding (the API's Product message).
# 3: entries carry their fresh-until time and generations (stale-while-revalidate,
#    search pages by category).
CACHE_SCHEMA_VERSION = 3
IMPORT_BATCH = 5000
MAX_IMPORT_ERRORS = 1000


@dataclass(frozen=True)
class Loaded(Generic[T]):
    value: T
    # How old the replica that served it was; None: read on the primary.
    replica_age_s: float | None


@dataclass(frozen=True)
class WriteResult:
    product: ProductRecord | None
    created: bool
    consistency_token: str
    # The categories the product had before and has after (None: not known,
    # e.g. a retried request's first answer): the search pages it may change.
    categories: tuple[str, ...] | None = None
    # The write's identity (invalidations.write_identity): its invalidation
    # and the invalidation follower's replay of its events apply once.
    write: str | None = None


@dataclass(frozen=True)
class SearchPage:
    products: list[ProductRecord]
    next_page_token: str
    # When asked for: counts over every match, not only this page.
    facets: FacetCounts | None = None


@dataclass
class ImportReport:
    received: int = 0
    imported: int = 0
    failed: int = 0
    errors: list[tuple[int, str, FieldViolation]] = field(default_factory=list)

    def reject(self, index: int, sku: str, violation: FieldViolation) -> None:
        """Count the row; keep it if it is among the first MAX_IMPORT_ERRORS
        by index (rows the database refuses in one batch are found while
        later rows are being checked)."""
        self.failed += 1
        if len(self.errors) < MAX_IMPORT_ERRORS or index < self.errors[-1][0]:
            bisect.insort(self.errors, (index, sku, violation), key=lambda e: e[0])
            del self.errors[MAX_IMPORT_ERRORS:]


class ProductCodec(Protocol):
    """How a product entry is stored in the cache. The API supplies its
    response encoding (api/convert.py ProductProto), so a cache hit is
    answered with the stored bytes as they are: no decoding of the entry and
    no message built field by field on the hottest read."""

    def encode(self, product: ProductRecord) -> bytes: ...

    def decode(self, raw: bytes) -> ProductRecord: ...


class CatalogDomain:
    def __init__(self, policies: PolicyRegistry, keyspace: Keyspace, cache: Cache,
                 codec: ProductCodec) -> None:
        self._policies = policies
        self._keyspace = keyspace
        self._cache = cache
        self._codec = codec
        # Invalidations that outlive a cancelled caller; kept so they finish.
        self._invalidating: set[asyncio.Task[None]] = set()

    # -- reads ---------------------------------------------------------------

    def _plan(self, level: Consistency | None, max_staleness_s: float | None) -> ReadPlan:
        plan = plan_read(self._policies.get(DOMAIN), level, max_staleness_s)
        reads.annotate(plan, self._keyspace.name)
        return plan

    async def _read(
        self, plan: ReadPlan, operation: str, fn: Callable[[asyncpg.Connection], Awaitable[T]]
    ) -> Loaded[T]:
        """A database read where the plan allows: the primary or a replica."""
        result, node = await reads.read_on_node(plan, self._keyspace.single, "", operation, fn)
        return Loaded(result, node.staleness_s if node.is_replica else None)

    def _ttl(self, ttl_s: float | None = None) -> TTL:
        cache = self._policies.get(DOMAIN).cache
        return TTL(ttl_s if ttl_s is not None else cache.ttl_s, cache.jitter_percent,
                   cache.negative_ttl_s, cache.stale_while_revalidate_s)

    async def _load_product(self, plan: ReadPlan, sku: str) -> Loaded[bytes | None]:
        loaded = await self._read(plan, "SELECT products", lambda c: store.get_product(c, sku))
        product = loaded.value
        return Loaded(self._codec.encode(product) if product else None, loaded.replica_age_s)

    def _fill_ttl(self, plan: ReadPlan, ttl: TTL, replica_age_s: float | None) -> TTL:
        """An entry read from a replica may predate a write that already
        invalidated its key: it lives no longer than the plan allows, and is
        not served stale past that."""
        if replica_age_s is None:
            return ttl
        cap = plan.replica_fill_ttl_s
        return TTL(min(ttl.ttl_s, cap), 0, min(ttl.negative_ttl_s, cap))

    async def _cached(
        self, kind: str, ident: str, plan: ReadPlan,
        loader: Callable[[], Awaitable[Loaded[bytes | None]]], ttl: TTL, scope: str = "",
    ) -> bytes | None:
        """Cache-aside read of one entry: one load across gateways on a miss
        (storage.redis.cache read_through); an expired entry is served within
        the policy's stale-while-revalidate window while it is reloaded.
        Bounded-staleness reads take no entry older than their bound, stale
        or not (strong reads never come here)."""

        async def load() -> Fill:
            loaded = await loader()
            return Fill(loaded.value, self._fill_ttl(plan, ttl, loaded.replica_age_s),
                        loaded.replica_age_s or 0.0)

        return await self._cache.read_through(
            kind, ident, load, max_age_s=plan.max_cache_age_s, serve_stale=ttl.stale_s > 0,
            lease_s=self._policies.get(DOMAIN).cache.lease_s, scope=scope)

    async def get(
        self, sku: str, level: Consistency | None = None, max_staleness_s: float | None = None
    ) -> ProductRecord:
        return self._codec.decode(await self.get_encoded(sku, level, max_staleness_s))

    async def get_encoded(
        self, sku: str, level: Consistency | None = None, max_staleness_s: float | None = None
    ) -> bytes:
        """The product in the codec's encoding: a cache hit's stored bytes as they are.
        The sku is the caller's to check (GetProductRequest's rules in proto/)."""
        plan = self._plan(level, max_staleness_s)
        if plan.use_cache:
            raw = await self._cached("product", sku, plan,
                                     lambda: self._load_product(plan, sku), self._ttl())
        else:
            raw = (await self._load_product(plan, sku)).value
        if raw is None:
            raise NotFound("product", sku)
        return raw

    async def batch_get(
        self, skus: list[str], level: Consistency | None = None,
        max_staleness_s: float | None = None,
    ) -> tuple[list[ProductRecord], list[str]]:
        # 1-100 well-formed SKUs: the caller's to check (BatchGetProductsRequest's
        # rules in proto/; the order saga passes an order's checked lines).
        plan = self._plan(level, max_staleness_s)
        wanted = list(dict.fromkeys(skus))
        found: dict[str, ProductRecord] = {}
        to_load = wanted
        entries: dict[str, Entry] = {}
        if plan.use_cache:
            # Up to 100 keys in different hash slots: concurrent lookups (one
            # round trip of latency on the pool's connections), not 100 in turn.
            looked_up = await asyncio.gather(
                *(self._cache.lookup("product", s, plan.max_cache_age_s) for s in wanted))
            entries = dict(zip(wanted, looked_up, strict=True))
            to_load = []
            for s, e in entries.items():
                if e.state is Lookup.HIT and e.value is not None:
                    found[s] = self._codec.decode(e.value)
                elif e.state is not Lookup.NEGATIVE_HIT:
                    to_load.append(s)
        if to_load:
            batch = await self._read(plan, "SELECT products",
                                     lambda c: store.get_products(c, to_load))
            loaded = {p.sku: p for p in batch.value}
            found.update(loaded)
            ttl = self._fill_ttl(plan, self._ttl(), batch.replica_age_s)
            fills = []
            for s in to_load:
                miss = entries.get(s)
                if miss is not None and miss.state in (Lookup.MISS, Lookup.STALE):
                    product = loaded.get(s)
                    fills.append(self._cache.fill(
                        "product", s, self._codec.encode(product) if product else None,
                        miss.generation, ttl, batch.replica_age_s or 0.0))
            await asyncio.gather(*fills)
        return [found[s] for s in wanted if s in found], [s for s in wanted if s not in found]

    async def search(
        self, q: SearchQuery, page_token: str, level: Consistency | None = None,
        max_staleness_s: float | None = None, facet_size: int = 0,
    ) -> SearchPage:
        """One page of `q`'s results; with facet_size > 0, facet counts too
        (that many brands and categories)."""
        # Each field's own limits are SearchProductsRequest's rules in proto/;
        # only the rules between two fields are checked here.
        v = Violations()
        if q.min_price is not None and q.max_price is not None and q.min_price > q.max_price:
            v.add("max_price_minor", "must be at least min_price_minor")
        facets.check_price_bands(v, q)
        v.raise_if_any()
        plan = self._plan(level, max_staleness_s)
        # Applied to the query alone: a policy change needs no re-index. Not
        # in the shape, so a change reaches cached pages within search_ttl
        # and leaves page tokens valid.
        q = replace(q, synonyms=self._policies.get(DOMAIN).search.synonyms)
        shape = {"t": q.text, "c": q.category, "b": q.brand, "lo": q.min_price,
                 "hi": q.max_price, "s": q.sort, "n": q.limit, "i": q.include_inactive,
                 "cs": sorted(set(q.categories)), "bs": sorted(set(q.brands)),
                 "pb": sorted({(b.low, b.high or -1) for b in q.price_bands}),
                 "st": q.in_stock}
        # Facets are not in the fingerprint: a client asks for them on the
        # first page only, and the token must still fit the next pages.
        fp = fingerprint(shape)
        if page_token:
            key = decode_token(page_token, fp)
            q = replace(q, after=self._cursor_key(q, key))

        async def count_facets() -> Loaded[FacetCounts] | None:
            if not facet_size:
                return None
            return await self._read(plan, "FACETS products", lambda c: store.search_facet_counts(
                c, q, facets.PRICE_BAND_BOUNDS, facet_size, facets.FACET_SAMPLE))

        async def run() -> Loaded[bytes | None]:
            # Two reads on two connections at once: the page and the counts.
            found, counted = await asyncio.gather(
                self._read(plan, "SEARCH products", lambda c: store.search_products(c, q)),
                count_facets())
            hits = found.value
            more = len(hits) > q.limit
            hits = hits[: q.limit]
            token = ""
            if more:
                last = hits[-1].key
                value = last[0].isoformat() if isinstance(last[0], datetime) else last[0]
                token = encode_token(fp, [value, last[1]])
            page = {"p": [h.product.to_json() for h in hits], "t": token,
                    "f": counted.value.to_json() if counted else None}
            ages = [a for a in (found.replica_age_s,
                                counted.replica_age_s if counted else None) if a is not None]
            return Loaded(json.dumps(page, separators=(",", ":")).encode(),
                          max(ages) if ages else None)

        search_ttl = self._policies.get(DOMAIN).cache.search_ttl_s
        if plan.use_cache and search_ttl > 0:
            ident = hashlib.sha256(f"{fp}|{page_token}|{facet_size}".encode()).hexdigest()[:32]
            raw = await self._cached(SEARCH, ident, plan, run, self._ttl(search_ttl),
                                     search_scope(q.category, q.categories))
        else:
            raw = (await run()).value
        assert raw is not None
        page = json.loads(raw)
        counts = page.get("f")
        return SearchPage([ProductRecord.from_json(p) for p in page["p"]], page["t"],
                          FacetCounts.from_json(counts) if counts else None)

    async def suggest(
        self, prefix: str, limit: int, level: Consistency | None = None,
        max_staleness_s: float | None = None,
    ) -> list[Suggestion]:
        """Completions of the last word of `prefix` from the search vocabulary,
        the rest kept as typed. Not cached: one index range of the vocabulary
        costs less than a cache round trip would save, and every write would
        drop the entries. The fields' limits are SuggestProductsRequest's
        rules in proto/."""
        words = prefix.split()
        if not words or prefix[-1].isspace():
            return []
        last = words[-1]
        typed = prefix.rstrip()[:-len(last)]
        found = await self._read(self._plan(level, max_staleness_s), "SUGGEST search_words",
                                 lambda c: vocabulary_store.completions(c, last, limit))
        return [Suggestion(typed + word, word, n) for word, n in found.value]

    @staticmethod
    def _cursor_key(q: SearchQuery, key: list[Any]) -> tuple[Any, str]:
        bad = Violations()
        sort = q.sort if (q.sort != "relevance" or q.text) else "newest"
        try:
            value, sku = key
            if not isinstance(sku, str):
                raise TypeError
            if sort == "newest":
                value = datetime.fromisoformat(value)
            elif sort == "relevance":
                value = float(value)
            elif not isinstance(value, int):
                raise TypeError
            elif not 0 <= value <= rules.MAX_PRICE_MINOR:
                raise ValueError  # stored prices are in range: a forged token
        except (TypeError, ValueError):
            bad.add("page_token", "is damaged; start again without a page token")
            bad.raise_if_any()
        return value, sku

    # -- writes --------------------------------------------------------------

    async def _after_commit(
        self, skus: list[str], categories: tuple[str, ...] | None, write: str | None,
    ) -> None:
        # Delete-after-commit: readers that loaded the old row cannot refill
        # it (see storage.redis.cache), and the search pages the write can
        # change are invalidated (search_scopes; all of them when the
        # categories are not known). The invalidation follower
        # (invalidations.py) does the same from the write's events, durably.
        await self._cache.invalidate("product", skus, write)
        if categories is None:
            await self._cache.invalidate_kind(SEARCH)
        else:
            await self._cache.invalidate_scopes(SEARCH, touched_scopes(categories), write)

    async def _after_commit_surely(
        self, skus: list[str], categories: tuple[str, ...] | None = None,
        write: str | None = None,
    ) -> None:
        """_after_commit, run to its end even if the caller is cancelled meanwhile."""
        task = asyncio.ensure_future(self._after_commit(skus, categories, write))
        self._invalidating.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._invalidating.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.warning("cache invalidation of %d sku(s) failed", len(skus),
                            exc_info=t.exception())

        task.add_done_callback(done)
        await asyncio.shield(task)

    async def upsert(
        self, product: ProductRecord, *, has_price: bool, expected_version: int | None,
        request_id: str,
    ) -> WriteResult:
        v = Violations()
        # expected_version and request_id: UpsertProductRequest's rules in proto/.
        rules.check_product(v, product, "product", has_price=has_price)
        v.raise_if_any()
        body = {"p": product.to_json(), "ev": expected_version}
        return await self._write_then_invalidate([product.sku], self._write(
            "UpsertProduct", request_id, body,
            lambda conn: self._upsert_tx(conn, product, expected_version, EventMeta(request_id)),
        ))

    async def _upsert_tx(
        self, conn: asyncpg.Connection, product: ProductRecord, expected: int | None,
        meta: EventMeta,
    ) -> WriteResult:
        write = await self._store_product(conn, product, expected)
        await recorder.append(conn, events.recorded(write), meta, None)
        before = (write.before.category,) if write.before is not None else ()
        return WriteResult(write.product, write.created, "", (*before, write.product.category),
                           write_identity(False, write.product.to_json()))

    async def _store_product(
        self, conn: asyncpg.Connection, product: ProductRecord, expected: int | None
    ) -> ProductWrite:
        """Create or replace the product, its row locked first: the version
        check and the events see the row the write replaces."""
        while True:
            before = await store.lock_product(conn, product.sku)
            if expected is not None:
                self._check_version(product.sku, expected, before.version if before else 0)
            if before is not None:
                return ProductWrite(await store.upsert_product(conn, product), False, before)
            # FOR UPDATE cannot lock a row that does not exist yet, so creating
            # is a plain INSERT: an upsert would overwrite a concurrent
            # creator's row once it committed. If one did, lock its row and
            # decide again.
            inserted = await store.insert_product(conn, product)
            if inserted is not None:
                return ProductWrite(inserted, True)

    @staticmethod
    def _check_version(sku: str, expected: int, current: int) -> None:
        if expected != current:
            raise Aborted(
                f"product {sku!r} is at version {current}, not {expected}",
                reason="VERSION_MISMATCH",
                metadata={"sku": sku, "expected_version": str(expected),
                          "current_version": str(current)},
            )

    async def delete(self, sku: str, *, expected_version: int | None, request_id: str) -> str:
        # sku, expected_version and request_id: DeleteProductRequest's rules in proto/.

        async def tx(conn: asyncpg.Connection) -> WriteResult:
            before = await store.lock_product(conn, sku)
            if before is None:
                raise NotFound("product", sku)
            if expected_version is not None:
                self._check_version(sku, expected_version, before.version)
            await store.delete_product(conn, sku)
            await recorder.append(conn, [events.deleted(before)], EventMeta(request_id), None)
            return WriteResult(None, False, "", (before.category,),
                               write_identity(True, before.to_json()))

        result = await self._write_then_invalidate([sku], self._write(
            "DeleteProduct", request_id, {"sku": sku, "ev": expected_version}, tx))
        return result.consistency_token

    async def _write_then_invalidate(
        self, skus: list[str], write: Awaitable[WriteResult]
    ) -> WriteResult:
        """Run a write, then delete its cache entries even if the caller gives up.

        A cancellation (the caller's deadline) or a lost connection can strike
        after the COMMIT landed; skipping the delete then would serve the old
        row until the TTL. The errors below are raised before any commit.
        """
        try:
            result = await write
        except (InvalidArgument, NotFound, AlreadyExists, Aborted):
            raise
        except BaseException:
            await self._after_commit_surely(skus)
            raise
        await self._after_commit_surely(skus, result.categories, result.write)
        return result

    async def _write(
        self, method: str, request_id: str, body: dict[str, Any],
        tx: Callable[[asyncpg.Connection], Awaitable[WriteResult]],
    ) -> WriteResult:
        """Run `tx` in one transaction on the primary, idempotent by request_id."""
        def encode(r: WriteResult) -> dict[str, Any]:
            return {"product": r.product.to_json() if r.product else None, "created": r.created}

        def decode(d: dict[str, Any]) -> WriteResult:
            p = d.get("product")
            return WriteResult(ProductRecord.from_json(p) if p else None, bool(d["created"]), "")

        result, lsn = await idempotency.run_idempotent(
            self._keyspace.single, method, request_id, body, tx, encode, decode)
        return replace(result, consistency_token=tokens.encode(self._keyspace.name, 0, lsn))

    async def import_products(
        self, messages: AsyncIterator[Sequence[tuple[ProductRecord, bool]]]
    ) -> ImportReport:
        """Validate each row, load valid ones with COPY in batches, report the
        rest. A batch is written while the next one is read and checked."""
        report = ImportReport()
        batch: dict[str, tuple[int, ProductRecord]] = {}
        writer = OneInFlight()
        try:
            async for rows in messages:
                for product, has_price in rows:
                    index = report.received
                    report.received += 1
                    v = Violations()
                    rules.check_product(v, product, "product", has_price=has_price)
                    if v.items:
                        report.reject(index, product.sku, v.items[0])
                        continue
                    # A repeated SKU in one batch: the later row wins, as it would
                    # had the rows been applied one by one, so the earlier counts
                    # as imported.
                    if product.sku in batch:
                        report.imported += 1
                    batch[product.sku] = (index, product)
                    if len(batch) >= IMPORT_BATCH:
                        await writer.submit(self._import_batch(batch, report))
                        batch = {}
            if batch:
                await writer.submit(self._import_batch(batch, report))
            await writer.wait()
        except BaseException:
            writer.cancel()
            raise
        return report

    async def _import_batch(
        self, batch: dict[str, tuple[int, ProductRecord]], report: ImportReport
    ) -> None:
        products = [p for _, p in batch.values()]
        try:
            async with self._keyspace.single.connection("COPY products") as conn:
                async with conn.transaction():
                    await store.import_products(conn, products, EventMeta())
                report.imported += len(products)
        except (asyncpg.PostgresError, FailedPrecondition) as exc:
            # One bad row fails the whole COPY (or one tombstoned stream the
            # batch's events); redo the batch row by row so the good rows
            # still land and the bad one is named.
            log.info("import batch failed (%s); retrying row by row", type(exc).__name__)
            await self._import_rows(batch, report)
        finally:
            # Rows may have landed even if the import was cancelled midway.
            await self._after_commit_surely(list(batch))

    async def _import_rows(
        self, batch: dict[str, tuple[int, ProductRecord]], report: ImportReport
    ) -> None:
        async with self._keyspace.single.connection("UPSERT products") as conn:
            for index, product in batch.values():
                try:
                    async with conn.transaction():
                        await self._upsert_tx(conn, product, None, EventMeta())
                    report.imported += 1
                except asyncpg.PostgresError as exc:
                    report.reject(index, product.sku, FieldViolation(
                        "product", f"rejected by the database ({type(exc).__name__})"))
                except FailedPrecondition as exc:  # its event stream is tombstoned
                    report.reject(index, product.sku, FieldViolation("product", exc.message))
