"""`datagw serve --workers 2`: two processes on one port, one of them running
the background jobs, metrics added up; a worker killed mid-saga is replaced
and what it had in flight is settled without oversell; subscriptions and the
relay work whichever worker a caller reaches."""

from __future__ import annotations

import asyncio
import os
import signal
import urllib.request
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from datagw.v1 import (
    analytics_pb2,
    analytics_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    eventstore_pb2_grpc,
)
from datagw.v1 import eventstore_pb2 as es_pb
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from gateway.runtime.config import Config
from tests.e2e.gateway_process import GatewayProcess, free_port, gateway_process
from tests.e2e.test_saga_crash import place_until_killed, settled_and_reconciled
from tests.eventstore import append, event
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

CHANNELS = 12


def _sockets_of(pid: int) -> set[int]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _accepted_on(port: int) -> set[int]:
    """Inodes of the established connections whose local end is `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01":  # ESTABLISHED
                    found.add(int(fields[9]))
    return found


def connections_per_worker(gw: GatewayProcess) -> dict[int, int]:
    accepted = _accepted_on(gw.port)
    pids = [gw.process.pid, *gw.worker_pids.values()]
    return {pid: len(_sockets_of(pid) & accepted) for pid in pids}


def samples(port: int) -> list[Sample]:
    """Every sample of /metrics."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return [sample for family in text_string_to_metric_families(text)
            for sample in family.samples]


def scrape(port: int) -> dict[str, float]:
    """Every sample of /metrics, summed over labels by name."""
    totals: dict[str, float] = {}
    for sample in samples(port):
        totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


@asynccontextmanager
async def channels(address: str, n: int) -> AsyncIterator[list[grpc.aio.Channel]]:
    """`n` channels, each on a connection of its own."""
    opened = [grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
              for _ in range(n)]
    try:
        yield opened
    finally:
        for channel in opened:
            await channel.close()


async def _get_missing(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await catalog_pb2_grpc.CatalogServiceStub(channel).GetProduct(
            catalog_pb2.GetProductRequest(sku="NO-SUCH-SKU"))
    assert failed.value.code() is grpc.StatusCode.NOT_FOUND


async def test_two_workers_share_the_port_and_their_metrics(tmp_path: Path) -> None:
    metrics_port = free_port()
    with gateway_process(tmp_path, "--metrics-listen", f"127.0.0.1:{metrics_port}",
                         workers=2) as gw:
        before = scrape(metrics_port).get("datagw_rpc_requests_total", 0.0)
        async with channels(gw.address, CHANNELS) as opened:
            await asyncio.gather(*(_get_missing(c) for c in opened))
            # Both processes accepted some of the connections (the kernel
            # spreads them; all twelve on one would be a 1 in 2,048 chance).
            spread = connections_per_worker(gw)
            assert all(n > 0 for n in spread.values()), spread
            assert sum(spread.values()) == CHANNELS, spread

        async def counted() -> bool:
            totals = scrape(metrics_port)
            return totals.get("datagw_rpc_requests_total", 0.0) - before == CHANNELS

        # /metrics (the first worker's) counts the calls both workers served.
        await eventually(counted, f"{CHANNELS} calls counted over both workers")
        async def one_runs_the_jobs() -> bool:
            return scrape(metrics_port).get("datagw_background_jobs") == 1

        await eventually(one_runs_the_jobs, "exactly one worker running the background jobs")

        # Process metrics of each worker, not only of the one serving /metrics.
        found = samples(metrics_port)
        memory = {s.labels["pid"] for s in found if s.name == "process_resident_memory_bytes"}
        assert memory == {str(pid) for pid in [gw.process.pid, *gw.worker_pids.values()]}
        assert [s.value for s in found if s.name == "datagw_build_info"] == [1.0]
        assert [s.value for s in found if s.name == "datagw_rpc_max_concurrent"] == [
            2.0 * Config().max_concurrent_rpcs]
        assert not [s.name for s in found if s.name.endswith("_created")]


async def test_a_worker_killed_mid_saga_is_replaced_and_its_sagas_settled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAGW_SAGAS__LEASE", "2s")
    monkeypatch.setenv("DATAGW_SAGAS__RECOVERY_INTERVAL", "500ms")
    with gateway_process(tmp_path, ephemeral=False, workers=2) as gw:
        killed = gw.worker_pids[1]
        kill = asyncio.Event()

        async def killer() -> None:
            await kill.wait()
            os.kill(killed, signal.SIGKILL)

        confirmed, _ = await asyncio.gather(place_until_killed(gw.address, kill, channels=8),
                                            killer())
        index, pid = await asyncio.to_thread(gw.next_worker_line)
        assert (index, pid != killed) == (1, True)
        # The group serves on, and settles what the dead worker left: every
        # saga completed or compensated, stock neither lost nor oversold.
        order_ids, recovered = await settled_and_reconciled(gw.address, tmp_path)
        assert {order_id for _, _, order_id in confirmed.values()} <= order_ids
        # The kill caught sagas in flight that only the recovery loop settled.
        assert recovered >= 1


async def _channel_on(gw: GatewayProcess, pid: int, opened: list[grpc.aio.Channel]
                      ) -> grpc.aio.Channel:
    """A new channel whose connection the worker `pid` accepted (channels
    that landed elsewhere are kept open in `opened`, to be closed later)."""
    for _ in range(64):
        before = _sockets_of(pid) & _accepted_on(gw.port)
        channel = grpc.aio.insecure_channel(gw.address,
                                            options=[("grpc.use_local_subchannel_pool", 1)])
        await channel.channel_ready()
        opened.append(channel)
        if _sockets_of(pid) & _accepted_on(gw.port) - before:
            return channel
    raise AssertionError(f"no connection reached worker pid {pid}")


async def test_subscriptions_and_the_relay_work_across_workers(tmp_path: Path) -> None:
    """Appends served by one worker reach a subscriber served by the other,
    each once and in order, and ClickHouse (relayed by whichever worker runs
    the background jobs) gets every one of them once, whichever worker is
    asked."""
    kind = "CrossWorker"
    with gateway_process(tmp_path, workers=2) as gw:
        opened: list[grpc.aio.Channel] = []
        try:
            first = await _channel_on(gw, gw.process.pid, opened)
            other = await _channel_on(gw, gw.worker_pids[1], opened)
            writer = eventstore_pb2_grpc.EventStoreServiceStub(other)
            call = eventstore_pb2_grpc.EventStoreServiceStub(first).SubscribeToAll(
                es_pb.SubscribeToAllRequest(filter=es_pb.EventFilter(event_types=[kind])))
            ids = [str(uuid.uuid4()) for _ in range(60)]
            for n in range(0, len(ids), 3):
                await writer.AppendToStream(append(
                    f"cross-{n % 4}", [event(kind, event_id=i) for i in ids[n:n + 3]]))
            got: list[str] = []
            async with asyncio.timeout(60):
                async for msg in call:
                    if msg.WhichOneof("content") == "event":
                        got.append(msg.event.event_id)
                    if len(got) == len(ids):
                        break
            call.cancel()
            # Every event once; each stream's in its order (streams on
            # different shards interleave as they commit).
            assert sorted(got) == sorted(ids)
            for stream in range(4):
                mine = [i for n in range(0, len(ids), 3) if n % 4 == stream
                        for i in ids[n:n + 3]]
                assert [i for i in got if i in mine] == mine

            for channel in (first, other):
                analytics = analytics_pb2_grpc.AnalyticsServiceStub(channel)

                async def relayed(analytics: Any = analytics) -> bool:
                    response = await analytics.RunQuery(analytics_pb2.RunQueryRequest(
                        sql="SELECT count(), uniqExact(event_id) FROM domain_events "
                            "WHERE event_type = {kind:String}", parameters={"kind": kind}))
                    count, distinct = (int(getattr(v, v.WhichOneof("kind")))
                                       for v in response.rows[0].values)
                    assert count == distinct, (count, distinct)
                    return count == len(ids)

                await eventually(relayed, "every appended event in ClickHouse once",
                                 within_s=60)
        finally:
            for channel in opened:
                await channel.close()
