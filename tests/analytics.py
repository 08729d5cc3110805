"""Helpers for the analytics tests: the gateway's store and a generated data set.

The data set is what the relay and IngestEvents would have written: orders
(+1 rows, and -1 rows with the placement's time and amounts for the
cancelled ones), their lines, and behaviour events, over a few days, four
categories and two currencies, from a seeded random generator. The tests
compute the expected report answers from these Python objects on their
own, never with SQL.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.records.events import Cursor
from gateway.runtime.server import Gateway
from gateway.storage.clickhouse.store import AnalyticsStore
from gateway.storage.postgres import relay_store
from gateway.storage.postgres.pool import Shard
from tests.helpers import eventually

ORDER_COLUMNS = ("order_id", "user_id", "occurred_at", "currency", "total_minor", "items",
                 "sign", "keyspace", "shard", "position")
LINE_COLUMNS = ("order_id", "line", "user_id", "occurred_at", "currency", "sku", "title",
                "category", "quantity", "revenue_minor", "sign", "keyspace", "shard", "position")
CLICK_COLUMNS = ("event_id", "event_type", "occurred_at", "user_id", "session_id", "sku",
                 "query", "page", "quantity", "properties", "ingested_at")
CATEGORIES = ("books", "garden", "kitchen", "toys")
CURRENCIES = ("EUR", "USD")
SHIPPING_MINOR = 499
# The keyspace column of the rows the tests load: never a real keyspace, so
# the relay, which checks which of its own rows landed, never sees them.
SOURCE = "analytics-test"


def analytics_store(gateway: Gateway) -> AnalyticsStore:
    assert gateway.backends.clickhouse is not None
    return gateway.backends.clickhouse


@dataclass(frozen=True)
class Line:
    sku: str
    title: str
    category: str
    quantity: int
    unit_minor: int

    @property
    def revenue_minor(self) -> int:
        return self.quantity * self.unit_minor


@dataclass(frozen=True)
class Order:
    order_id: str
    user_id: str
    at: datetime
    currency: str
    lines: tuple[Line, ...]
    cancelled: bool

    @property
    def total_minor(self) -> int:
        """What the customer paid: the lines plus shipping."""
        return sum(line.revenue_minor for line in self.lines) + SHIPPING_MINOR


@dataclass(frozen=True)
class Click:
    event_type: str
    at: datetime
    user_id: str  # "" when not signed in
    sku: str


@dataclass(frozen=True)
class DataSet:
    start: datetime  # midnight UTC of the first day
    days: int
    orders: list[Order]
    clicks: list[Click]

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)


def generate(prefix: str, start: datetime, days: int = 5, seed: int = 7) -> DataSet:
    rng = random.Random(seed)
    products = [(f"{prefix}-sku-{i}", CATEGORIES[i % len(CATEGORIES)], rng.randint(150, 4000))
                for i in range(12)]
    users = [f"{prefix}-u{n}" for n in range(30)]

    def moment(day: int) -> datetime:
        return start + timedelta(days=day, seconds=rng.randint(0, 86_399),
                                 milliseconds=rng.randint(0, 999))

    def title(sku: str, at: datetime) -> str:
        # A renamed product: reports show the title of its latest sale.
        return f"{sku} (new name)" if at >= start + timedelta(days=2) else f"{sku} (old name)"

    orders = []
    for n in range(250):
        at = moment(rng.randrange(days))
        picked = rng.sample(products, rng.randint(1, 3))
        orders.append(Order(
            f"{prefix}-o{n}", rng.choice(users), at, rng.choice(CURRENCIES),
            tuple(Line(sku, title(sku, at), category, rng.randint(1, 4), price)
                  for sku, category, price in picked),
            cancelled=rng.random() < 0.15))
    clicks = []
    for day in range(days):
        for user in users:
            viewed = rng.random() < 0.6
            if viewed:
                for _ in range(rng.randint(1, 3)):
                    clicks.append(Click("product_view", moment(day), user,
                                        rng.choice(products)[0]))
            # Some add to the cart without a product view (not in the funnel).
            if (viewed and rng.random() < 0.5) or rng.random() < 0.1:
                clicks.append(Click("add_to_cart", moment(day), user, rng.choice(products)[0]))
            if rng.random() < 0.3:
                clicks.append(Click("page_view", moment(day), user, ""))
        for _ in range(10):
            clicks.append(Click("product_view", moment(day), "", rng.choice(products)[0]))
    return DataSet(start, days, orders, clicks)


async def load(store: AnalyticsStore, data: DataSet) -> None:
    orders: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    for position, o in enumerate(data.orders):
        for sign in (1, -1) if o.cancelled else (1,):
            orders.append((o.order_id, o.user_id, o.at, o.currency, o.total_minor, len(o.lines),
                           sign, SOURCE, 0, position))
            lines.extend((o.order_id, i, o.user_id, o.at, o.currency, line.sku, line.title,
                          line.category, line.quantity, line.revenue_minor, sign, SOURCE, 0,
                          position) for i, line in enumerate(o.lines))
    await store.insert("orders", ORDER_COLUMNS, orders)
    await store.insert("order_lines", LINE_COLUMNS, lines)
    await store.insert("clickstream", CLICK_COLUMNS, [
        (str(uuid.uuid4()), c.event_type, c.at, c.user_id, f"s-{c.user_id or 'anon'}", c.sku, "",
         "/home" if c.event_type == "page_view" else "", 1 if c.event_type == "add_to_cart" else 0,
         {}, c.at) for c in data.clicks])


def quiet_days_ago(days: int) -> datetime:
    """Midnight UTC `days` ago: inside the clickstream's 90-day retention and
    far from the rows other tests write now."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days)


def event_sources(gateway: Gateway) -> list[Shard]:
    """Every shard holding events: what the relay copies from."""
    return [s for k in gateway.opened.event_keyspaces for s in gateway.backends.keyspaces[k].shards]


async def relayed_past_now(gateway: Gateway, shards: list[Shard] | None = None) -> None:
    """Until every committed event (as of now) of `shards` (default: all) is relayed."""
    for shard in shards or event_sources(gateway):
        async with shard.connection("test") as conn:
            last = await conn.fetchrow(
                "SELECT tx_id::text::bigint AS c, position FROM events "
                "ORDER BY tx_id DESC, position DESC LIMIT 1")
        if last is None:
            continue
        target = Cursor(last["c"], last["position"])

        async def passed(shard: Shard = shard, target: Cursor = target) -> bool:
            async with shard.connection("test") as conn:
                cp = await relay_store.load(conn)
            return cp.pending is None and cp.at >= target

        await eventually(passed, f"relay of {shard.name} reaches {target}", within_s=30)
