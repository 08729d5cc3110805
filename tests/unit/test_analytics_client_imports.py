"""The gateway's ClickHouse client never pulls pandas or numpy into the
serving process (gateway/storage/clickhouse/client.py says why)."""

from __future__ import annotations

import sys

import clickhouse_connect.datatypes  # noqa: F401  (registers the type names)
from clickhouse_connect.datatypes.registry import get_from_name
from clickhouse_connect.driver.insert import InsertContext

import gateway.storage.clickhouse.client  # noqa: F401


def test_an_insert_imports_neither_pandas_nor_numpy() -> None:
    before = set(sys.modules)
    # Rows set as the relay's inserts set them: clickhouse-connect checks
    # them against pandas' and numpy's types, importing both unless told not.
    InsertContext("t", ["a"], [get_from_name("String")]).data = [["x"], ["y"]]
    assert not {"pandas", "numpy"} & (set(sys.modules) - before)
