"""Helpers shared by the test modules: building requests, decoding errors, metrics."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import grpc
import pytest
from datagw.errors import decode as decode_call
from datagw.errors import details
from datagw.v1 import admin_pb2, catalog_pb2, common_pb2
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2

from gateway.domain import tokens
from gateway.runtime.server import Gateway
from gateway.telemetry import REGISTRY

STRONG = common_pb2.ReadOptions(consistency=common_pb2.CONSISTENCY_LEVEL_STRONG)
EVENTUAL = common_pb2.ReadOptions(consistency=common_pb2.CONSISTENCY_LEVEL_EVENTUAL)


def product(sku: str, **fields: Any) -> catalog_pb2.Product:
    """A valid, active product; keyword arguments override any field."""
    values: dict[str, Any] = {
        "sku": sku,
        "title": f"Product {sku}",
        "price": common_pb2.Money(amount_minor=1000, currency_code="EUR"),
        "active": True,
    }
    values.update(fields)
    return catalog_pb2.Product(**values)


def money(amount_minor: int, currency_code: str = "EUR") -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount_minor, currency_code=currency_code)


async def upsert(catalog: Any, p: catalog_pb2.Product, **request: Any
                 ) -> catalog_pb2.UpsertProductResponse:
    response: catalog_pb2.UpsertProductResponse = await catalog.UpsertProduct(
        catalog_pb2.UpsertProductRequest(product=p, **request))
    return response


async def get(catalog: Any, sku: str, read_options: common_pb2.ReadOptions = EVENTUAL
              ) -> catalog_pb2.Product:
    response = await catalog.GetProduct(
        catalog_pb2.GetProductRequest(sku=sku, read_options=read_options))
    found: catalog_pb2.Product = response.product
    return found


@dataclass
class RpcFailure:
    """A failed call's code and decoded google.rpc details."""

    code: grpc.StatusCode
    message: str
    error_info: error_details_pb2.ErrorInfo | None
    bad_request: error_details_pb2.BadRequest | None
    resource_info: error_details_pb2.ResourceInfo | None
    retry_info: error_details_pb2.RetryInfo | None = None

    @property
    def fields(self) -> list[str]:
        return [v.field for v in self.bad_request.field_violations] if self.bad_request else []


M = TypeVar("M", bound=Message)


def decode(err: grpc.aio.AioRpcError) -> RpcFailure:
    # The client package's decoding, so the whole suite exercises it.
    status = decode_call(err).status

    def first(kind: type[M]) -> M | None:
        return next(iter(details(status, kind)), None)

    return RpcFailure(err.code(), err.details() or "", first(error_details_pb2.ErrorInfo),
                      first(error_details_pb2.BadRequest), first(error_details_pb2.ResourceInfo),
                      first(error_details_pb2.RetryInfo))


async def fails(call: Awaitable[Any], code: grpc.StatusCode) -> RpcFailure:
    """Await `call`, which must fail with `code`; its decoded details."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    failure = decode(caught.value)
    assert failure.code == code, f"{failure.code}: {failure.message}"
    assert failure.error_info is not None and failure.error_info.domain == "datagw"
    return failure


async def invalid(call: Awaitable[Any], *fields: str) -> RpcFailure:
    """INVALID_ARGUMENT whose BadRequest names exactly `fields` (in any order)."""
    failure = await fails(call, grpc.StatusCode.INVALID_ARGUMENT)
    assert sorted(failure.fields) == sorted(fields), failure.message
    return failure


def metric(name: str, **labels: str) -> float:
    """The current value of a gateway metric sample (0 before its first increment)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def keyspace_dsn(gateway: Any, keyspace: str) -> str:
    """The DSN of an unsharded keyspace's database: the one a gateway uses
    (through its pooler, say), or for anything else with embedded servers
    (a test's stack of them), on the embedded PostgreSQL server."""
    if isinstance(gateway, Gateway):
        return str(gateway.backends.keyspaces[keyspace].single.dsn)
    return str(gateway.embedded.postgres.dsn).rsplit("/", 1)[0] + f"/{keyspace}"


async def sql(gateway: Any, keyspace: str, query: str, *args: Any) -> Any:
    """Run one statement straight on a keyspace's database, behind the gateway's back
    (no named prepared statements: the DSN may lead through a transaction pooler)."""
    conn = await asyncpg.connect(keyspace_dsn(gateway, keyspace), statement_cache_size=0)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, within_s: float = 10.0
) -> None:
    """Poll `check` until it holds, for state a background loop updates.

    The limit only bounds how long a failing test takes; it is not a timing
    assertion.
    """
    loop = asyncio.get_running_loop()
    give_up = loop.time() + within_s
    while not await check():
        if loop.time() > give_up:
            pytest.fail(f"still not true after {within_s:g}s: {what}")
        await asyncio.sleep(0.05)


async def race_writes_and_reads(catalog: Any, sku: str, rounds: int, checks: int) -> None:
    """Eventual readers on both sides of each write, so some hold the old value
    in memory or in flight while it commits; once a write has returned, every
    eventual read must return what it wrote (no stale value is put back)."""
    await upsert(catalog, product(sku, title="v1"))
    batch = catalog_pb2.BatchGetProductsRequest(skus=[sku], read_options=EVENTUAL)
    for round_ in range(2, rounds + 2):
        results = await asyncio.gather(
            get(catalog, sku), get(catalog, sku), catalog.BatchGetProducts(batch),
            upsert(catalog, product(sku, title=f"v{round_}")),
            get(catalog, sku), get(catalog, sku), catalog.BatchGetProducts(batch),
        )
        written = results[3].product
        assert written.version == round_
        for _ in range(checks):
            got = await get(catalog, sku)
            assert (got.title, got.version) == (written.title, written.version)


def rewritten_token(token: str, index: int, value: Any) -> str:
    """A page token (plain base64 JSON, not sealed) with part `index` of its
    key replaced, as a caller may forge one."""
    body = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    body["k"][index] = value
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode()


def explain_request(method: str, request: Message) -> admin_pb2.ExplainCallRequest:
    """AdminService.ExplainCall's request for `request` to `method`."""
    packed = any_pb2.Any()
    packed.Pack(request)
    return admin_pb2.ExplainCallRequest(method=method, request=packed)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


@contextlib.contextmanager
def frozen(pid: int | None) -> Iterator[None]:
    """A server and every process it forked stopped with SIGSTOP (a hang, not
    a crash: its sockets stay open and nothing answers), continued on leaving.
    Each of PostgreSQL's backends leads a process group of its own, so they
    are signalled one by one; the postmaster first, so it forks no more."""
    assert pid is not None
    stopped = [pid]
    os.kill(pid, signal.SIGSTOP)
    stopped += _children(pid)
    for child in stopped[1:]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGSTOP)
    try:
        yield
    finally:
        for each in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, signal.SIGCONT)


def same_answer(first: Message, retry: Message, keyspace: str, shard: int = 0, *,
                ordered: bool = True) -> None:
    """A replayed write answers what the first did; only its consistency
    token is fresh (a position read after the replay, at or past the first
    one's commit when `ordered`, without the first transaction's commit
    bounds)."""
    a, b = type(first)(), type(retry)()
    a.CopyFrom(first)
    b.CopyFrom(retry)
    a.ClearField("consistency_token")  # type: ignore[arg-type]
    b.ClearField("consistency_token")  # type: ignore[arg-type]
    assert a == b
    was = tokens.position_for(first.consistency_token, keyspace, shard)  # type: ignore[attr-defined]
    now = tokens.position_for(retry.consistency_token, keyspace, shard)  # type: ignore[attr-defined]
    assert was is not None and now is not None
    assert now.lsn >= was.lsn or not ordered


def query_sync(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Rows of one statement on its own connection, from a test without an
    event loop of its own (the embedded backends' synchronous tests)."""
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(run())
