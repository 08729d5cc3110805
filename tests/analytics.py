"""Helpers for the analytics tests: the gateway's store and a generated data set."""

from __future__ import annotations

from gateway.runtime.server import Gateway
from gateway.storage.clickhouse.store import AnalyticsStore


def analytics_store(gateway: Gateway) -> AnalyticsStore:
    assert gateway.backends is not None and gateway.backends.clickhouse is not None
    return gateway.backends.clickhouse
