"""Resharding survives crashes: the gateway that drives a workflow is
SIGKILLed in each phase, and (separately) the target shard's server is
killed in the phases that need it; each time the workflow resumes, or rolls
back, and leaves no half state behind.

The gateway that dies is a real `datagw serve` subprocess: its driver holds
the workflow's lease. A second gateway, in this process, takes the workflow
over once that lease has run out. To kill at a known point inside a phase,
the test first holds a lock that the phase's next statement needs (a table
lock, or the fence's advisory lock) and kills once pg_stat_activity shows
that statement waiting for it: the phase's work is half done, as in a real
crash. The lock is let go only after the kill. To die between a step and
its record in the control table, the test holds the workflow's row there
too, lets the step go on, and ends the dead driver's waiting session.

The target's server is killed (SIGKILL, the stack does not restart it) while
the in-process gateway drives; and a relay in front of the catalog loses the
answer of a map bump that committed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import grpc
import pytest
import pytest_asyncio
from datagw.v1 import admin_pb2

from gateway.domain.resharding.workflow import Resharding
from gateway.records.resharding import ALLOWED, FINISHED, Action, Phase, Workflow
from gateway.runtime.config import KeyspaceConfig
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.server import Gateway
from gateway.storage.postgres import control_store, range_copy
from gateway.storage.postgres.fence import FENCE_LOCK
from gateway.storage.postgres.keyspace_id import SPACE, KeyRange, keyspace_id
from gateway.storage.postgres.range_map import RangeMap
from tests.commerce import Shop
from tests.conftest import ROOT, TEST_SAGAS
from tests.e2e.gateway_process import free_port
from tests.helpers import eventually
from tests.reshard_stack import gateway_on, reshard_keyspaces, reshard_stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

# Bounds on waits for a state (never timing assertions): a resumed workflow
# waits out the dead driver's lease (LEASE_S, 5 s) first.
WITHIN_S = 60.0
START_S = 90.0
SHARDS = 4
USERS = 2


@dataclass
class Stack:
    backends: EmbeddedBackends
    keyspaces: dict[str, KeyspaceConfig]

    def dsn(self, shard: int | None) -> str:
        """A commerce shard's primary, or (None) the catalog: the control tables."""
        if shard is None:
            return self.keyspaces["catalog"].shard_dsns[0]
        return self.keyspaces["commerce"].shard_dsns[shard]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack() -> AsyncIterator[Stack]:
    async with reshard_stack("datagw-reshard-crash-") as backends:
        yield Stack(backends, await reshard_keyspaces(backends))


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def _one_failure_stays_alone(stack: Stack) -> AsyncIterator[None]:
    """Each scenario moves a range of its own; one that failed half way must
    not keep the next from creating its workflow (one active per keyspace)."""
    yield
    await _sql(stack.dsn(None), "UPDATE reshard_workflows SET phase = 'cancelled' "
                                "WHERE phase NOT IN ('done', 'cancelled')")


# -- the servers, behind the gateways' backs ------------------------------------

async def _sql(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


@asynccontextmanager
async def _holding(dsn: str, statement: str) -> AsyncIterator[asyncpg.Connection]:
    """`statement` run on a session of its own that keeps what it locked
    until the block ends, the server dies, or the session is terminated."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
        yield conn
    finally:
        conn.terminate()


def _row_lock(table: str, column: str, value: str) -> str:
    return f"BEGIN; SELECT 1 FROM {table} WHERE {column} = '{value}' FOR UPDATE"


def _table_lock(table: str) -> str:
    # SHARE: the workflow's writes to `table` wait; reads do not.
    return f"BEGIN; LOCK TABLE {table} IN SHARE MODE"


# Every fence change (freeze, own, disown, end of capture) takes the fence's
# lock exclusively: held shared, the change waits.
FENCE_SHARED = f"SELECT pg_advisory_lock_shared({FENCE_LOCK})"


async def _waits(dsn: str, statement_part: str) -> bool:
    """Whether a session of another client waits for a lock in a statement
    containing `statement_part`."""
    rows = await _sql(
        dsn, """SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                AND pid <> pg_backend_pid() AND strpos(query, $1) > 0""", statement_part)
    return bool(rows)


async def _cut_waiting(dsn: str, statement_part: str) -> None:
    """End the sessions waiting in a statement containing `statement_part`:
    what they were sent never commits."""
    await _sql(dsn, """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                       WHERE wait_event_type = 'Lock' AND strpos(query, $1) > 0""",
               statement_part)


async def _until_waits(dsn: str, statement_part: str, what: str) -> None:
    await eventually(lambda: _waits(dsn, statement_part), what, within_s=WITHIN_S)


async def _workflow(stack: Stack, name: str) -> Workflow:
    conn = await asyncpg.connect(stack.dsn(None))
    try:
        found = await control_store.get_workflow(conn, name)
    finally:
        await conn.close()
    assert found is not None
    return found


async def _lease_owner(stack: Stack, name: str) -> str:
    rows = await _sql(stack.dsn(None),
                      "SELECT lease_owner FROM reshard_workflows WHERE workflow = $1", name)
    return str(rows[0]["lease_owner"])


async def _map(stack: Stack) -> RangeMap:
    conn = await asyncpg.connect(stack.dsn(None))
    try:
        found = await control_store.load_map(conn, "commerce")
    finally:
        await conn.close()
    assert found is not None
    return RangeMap.from_json(*found)


Owned = tuple[int, int, str, str | None]


async def _ranges(stack: Stack, shard: int, rng: KeyRange) -> list[Owned]:
    """(start, end, state, capture) of the shard's owned rows overlapping `rng`."""
    out: list[Owned] = []
    for r in await _sql(stack.dsn(shard), "SELECT start_ksid, end_ksid, state, capture "
                                          "FROM shard_ranges ORDER BY start_ksid"):
        start = int.from_bytes(r["start_ksid"], "big")
        end = SPACE if r["end_ksid"] is None else int.from_bytes(r["end_ksid"], "big")
        if start < rng.end and rng.start < end:
            out.append((start, end, str(r["state"]), r["capture"]))
    return out


async def _frozen(stack: Stack, shard: int, rng: KeyRange) -> bool:
    return any(state == "frozen" for _, _, state, _ in await _ranges(stack, shard, rng))


async def _rows_of(stack: Stack, shard: int, table: str, rng: KeyRange) -> int:
    start, end = range_copy.bounds(rng)
    rows = await _sql(stack.dsn(shard), f"SELECT count(*) AS n FROM {table} WHERE "
                      "keyspace_id >= $1 AND ($2::bytea IS NULL OR keyspace_id < $2)",
                      start, end)
    return int(rows[0]["n"])


async def _assert_settled(stack: Stack, rng: KeyRange, owner: int, orders: list[str],
                          *, alone: bool, down: tuple[int, ...] = ()) -> None:
    """Exactly `owner` owns `rng` (no shard has it frozen), the control map
    agrees, and each of `orders` is there once. `alone`: no other shard
    keeps rows of the range (after a cleanup or a cancel). `down`: shards
    whose server is down, not asked."""
    for shard in range(SHARDS):
        if shard in down:
            continue
        rows = await _ranges(stack, shard, rng)
        assert all(state == "owned" for _, _, state, _ in rows), (shard, rows)
        if shard != owner:
            assert not rows, f"shard {shard} owns part of {rng} besides shard {owner}: {rows}"
            if alone:
                assert await _rows_of(stack, shard, "orders", rng) == 0, shard
            continue
        # Contiguous owned rows that cover the whole range.
        assert rows and rows[0][0] <= rng.start and rows[-1][1] >= rng.end, (shard, rows)
        assert all(a[1] == b[0] for a, b in itertools.pairwise(rows)), rows
    assert (await _map(stack)).owner_of(rng) == owner
    found = await _sql(stack.dsn(owner), "SELECT order_id, count(*) AS n FROM orders "
                       "WHERE order_id = ANY($1::text[]) GROUP BY order_id", orders)
    assert sorted(r["order_id"] for r in found) == sorted(orders)
    assert all(r["n"] == 1 for r in found)


# -- gateways -------------------------------------------------------------------

@asynccontextmanager
async def _gateway(stack: Stack, tmp: Path) -> AsyncIterator[tuple[Gateway, Shop]]:
    """A gateway in this process: its driver resumes what a dead one left."""
    async with gateway_on(stack.backends, stack.keyspaces, tmp) as running:
        yield running


def _config_file(stack: Stack, tmp: Path) -> Path:
    """The stack's servers as `datagw serve` reads them from a config file."""
    def shards(ks: KeyspaceConfig) -> list[dict[str, str]]:
        if not ks.ranges:
            return [{"primary": dsn} for dsn in ks.shard_dsns]
        # "none": a spare, serving nothing until a range is moved onto it.
        return [{"primary": dsn, "range": str(rng) if rng is not None else "none"}
                for dsn, rng in zip(ks.shard_dsns, ks.ranges, strict=True)]

    keyspaces = {name: {"shards": shards(ks)} for name, ks in stack.keyspaces.items()}
    config = {"policies_dir": str(ROOT / "policies"),
              "logging": {"level": "info", "format": "text"},
              "redis": {"url": stack.backends.valkey.url},
              "sagas": {"lease": f"{TEST_SAGAS.lease_s:g}s", "recovery_interval": "500ms"},
              "postgres": {"keyspaces": keyspaces}}
    path = tmp / "datagw.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


@dataclass
class Doomed:
    """A `datagw serve` process, to be SIGKILLed."""

    process: asyncio.subprocess.Process
    log: Path

    @property
    def owner_mark(self) -> str:
        # Its driver's lease owner is host:pid:random.
        return f":{self.process.pid}:"

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()


@asynccontextmanager
async def _doomed_gateway(stack: Stack, tmp: Path) -> AsyncIterator[tuple[Doomed, Shop]]:
    port = free_port()
    log = tmp / "doomed.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.runtime.cli", "serve", "--config",
            str(_config_file(stack, tmp)), "--listen", f"127.0.0.1:{port}",
            "--metrics-listen", "", "--data-dir", str(tmp / "data"),
            stdout=out, stderr=asyncio.subprocess.STDOUT)
    doomed = Doomed(process, log)
    try:
        async def serving() -> bool:
            if process.returncode is not None:
                pytest.fail("datagw exited during start-up:\n" + log.read_text())
            return "datagw serving:" in log.read_text()

        await eventually(serving, "datagw serve is serving", within_s=START_S)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield doomed, Shop.on(channel)
    finally:
        await doomed.kill()


# -- one scenario's range, users and orders --------------------------------------

@dataclass
class Move:
    name: str
    rng: KeyRange
    source: int
    target: int
    users: list[str]
    orders: list[str]

    @classmethod
    def of(cls, name: str, key_range: str, source: int, target: int) -> Move:
        rng = KeyRange.parse(key_range)
        users: list[str] = []
        n = 0
        while len(users) < USERS:
            if rng.contains(keyspace_id(f"{name}-{n}")):
                users.append(f"{name}-{n}")
            n += 1
        return cls(name, rng, source, target, users, [])

    @property
    def sku(self) -> str:
        return f"{self.name}-sku"

    async def open_shop(self, shop: Shop) -> None:
        await shop.stocked(self.sku, 1000)
        for user in self.users:
            await shop.user(user)

    async def place(self, shop: Shop, when: str) -> None:
        """An order per user, each acknowledged."""
        for user in self.users:
            placed = await shop.place(user, {self.sku: 1}, f"{self.name}-{when}-{user}")
            self.orders.append(placed.order.order_id)

    async def create(self, shop: Shop) -> None:
        """The workflow, created through the doomed gateway's API, which
        wakes its driver: it claims the workflow at once (one written
        straight into the control table waits for an idle driver's next
        look, IDLE_TICK_S)."""
        created = await shop.admin.CreateReshardWorkflow(admin_pb2.CreateReshardWorkflowRequest(
            keyspace="commerce", key_range=str(self.rng), target_shard=self.target,
            workflow=self.name))
        assert created.workflow.source_shard == self.source, created

    async def ask(self, stack: Stack, action: Action) -> None:
        conn = await asyncpg.connect(stack.dsn(None))
        try:
            asked = await control_store.request(conn, self.name, action.value,
                                                [p.value for p in ALLOWED[action]])
        finally:
            await conn.close()
        assert asked is not None, f"{action} refused"

    async def reaches(self, stack: Stack, phase: Phase) -> None:
        async def there() -> bool:
            wf = await _workflow(stack, self.name)
            assert wf.phase not in FINISHED or phase in FINISHED, wf
            return wf.phase is phase and not wf.requested

        await eventually(there, f"{self.name} is {phase.value}", within_s=WITHIN_S)


# -- the gateway SIGKILLed in each phase -------------------------------------------

Step = Callable[[Stack, Move, Shop], Awaitable[None]]


def _asking(action: Action) -> Step:
    async def ask(stack: Stack, move: Move, shop: Shop) -> None:
        await move.ask(stack, action)

    return ask


async def _creating(stack: Stack, move: Move, shop: Shop) -> None:
    await move.create(shop)


async def _placing(stack: Stack, move: Move, shop: Shop) -> None:
    await move.place(shop, "captured")  # its captured change is applied, and waits


@dataclass(frozen=True)
class Kill:
    """Where the driving gateway dies, and where the workflow goes after."""

    phase: str
    key_range: str
    # Asked of the doomed gateway first, each awaited to the phase it leads to.
    before: tuple[tuple[Action, Phase], ...]
    # The pause: a lock held on the server `on` (source, target or the
    # catalog), `sets_off` run, and a statement containing `waits` waiting
    # for the lock.
    on: str
    lock: str
    sets_off: Step
    waits: str
    resumes_as: Phase
    # Asked of the second gateway after the resume, each to its phase.
    then: tuple[tuple[Action, Phase], ...]


SWITCHED = ((Action.SWITCH, Phase.SWITCHED),)
CLEANED = ((Action.CLEANUP, Phase.DONE),)
# The copy first empties the target's rows of the range, children first; a
# catch-up applies a captured change, deletes before upserts; a cleanup (or
# a cancel) deletes the range children first; every change of ownership
# takes the fence's lock.
KILLS = [
    Kill("copying", "00-08", (), "target", _table_lock("idempotency_keys"), _creating,
         "DELETE FROM idempotency_keys", Phase.CATCHING_UP, SWITCHED + CLEANED),
    Kill("catching_up", "08-10", (), "target", _table_lock("orders"), _placing,
         "DELETE FROM orders", Phase.CATCHING_UP, SWITCHED + CLEANED),
    # The source has frozen the range; the target is taking it.
    Kill("switching", "10-18", (), "target", FENCE_SHARED, _asking(Action.SWITCH),
         "pg_advisory_xact_lock", Phase.SWITCHED, CLEANED),
    # The target owns the range too; the map's bump waits.
    Kill("switching_before_bump", "40-48", (), "catalog",
         _row_lock("range_maps", "keyspace", "commerce"), _asking(Action.SWITCH),
         "UPDATE range_maps", Phase.SWITCHED, CLEANED),
    # The map is bumped and the source gave the range up; it is dropping its
    # captured changes (none left: nothing was written since the catch-up).
    Kill("switching_after_bump", "18-20", (), "source", _table_lock("reshard_changes"),
         _asking(Action.SWITCH), "reshard_changes", Phase.SWITCHED, CLEANED),
    # The target's changes flow back to the source.
    Kill("switched", "20-28", SWITCHED, "source", _table_lock("orders"), _placing,
         "DELETE FROM orders", Phase.SWITCHED, CLEANED),
    # The target has frozen the range; the source is taking it back.
    Kill("reversing", "28-30", SWITCHED, "source", FENCE_SHARED, _asking(Action.REVERSE),
         "pg_advisory_xact_lock", Phase.CATCHING_UP, ((Action.CANCEL, Phase.CANCELLED),)),
    Kill("cleaning", "30-38", SWITCHED, "source", _table_lock("orders"), _asking(Action.CLEANUP),
         "DELETE FROM orders", Phase.DONE, ()),
    Kill("cancelling", "38-40", (), "target", _table_lock("orders"),
         _asking(Action.CANCEL), "DELETE FROM orders", Phase.CANCELLED, ()),
]


async def _verified(resharding: Resharding, name: str) -> Workflow:
    """A fresh verify of the workflow's range, once it has run."""
    await resharding.ask(name, Action.VERIFY)

    async def done() -> bool:
        return not (await resharding.get(name)).requested

    await eventually(done, f"{name}: the verify ran", within_s=WITHIN_S)
    return await resharding.get(name)


@pytest.mark.parametrize("kill", KILLS, ids=[k.phase for k in KILLS])
async def test_the_driving_gateway_is_killed(kill: Kill, stack: Stack, tmp_path: Path) -> None:
    move = Move.of(f"gk-{kill.phase.replace('_', '-')}", kill.key_range, 0, 2)
    paused_on = stack.dsn({"source": move.source, "target": move.target}.get(kill.on))
    async with _doomed_gateway(stack, tmp_path) as (doomed, shop):
        await move.open_shop(shop)
        await move.place(shop, "before")
        if kill.sets_off is not _creating:
            await move.create(shop)
            await move.reaches(stack, Phase.CATCHING_UP)
        for action, phase in kill.before:
            await move.ask(stack, action)
            await move.reaches(stack, phase)
        async with _holding(paused_on, kill.lock):
            await kill.sets_off(stack, move, shop)
            await _until_waits(paused_on, kill.waits,
                               f"{move.name}: the {kill.phase} step waits for the test's lock")
            wf = await _workflow(stack, move.name)
            assert wf.phase.value == kill.phase.split("_before")[0].split("_after")[0], wf
            assert doomed.owner_mark in await _lease_owner(stack, move.name)
            if kill.phase in ("switching", "switching_before_bump"):
                assert await _frozen(stack, move.source, move.rng)
                assert (await _map(stack)).owner_of(move.rng) == move.source
            if kill.phase == "switching_before_bump":
                assert await _ranges(stack, move.target, move.rng)  # both own it now
            if kill.phase == "switching_after_bump":
                assert (await _map(stack)).owner_of(move.rng) == move.target
            if kill.phase == "reversing":
                assert await _frozen(stack, move.target, move.rng)
            await doomed.kill()
    await _resume(stack, tmp_path, move, kill.resumes_as, kill.then)


async def _resume(stack: Stack, tmp: Path, move: Move, resumes_as: Phase,
                  then: tuple[tuple[Action, Phase], ...]) -> None:
    """A second gateway takes the dead one's workflow over, which reaches
    `resumes_as`; it is asked `then`, and the range settles on one shard."""
    async with _gateway(stack, tmp) as (gateway, shop):
        resharding = gateway.wiring.resharding

        async def taken_over() -> bool:
            return await _lease_owner(stack, move.name) == resharding.owner

        await eventually(taken_over, "the second gateway takes the workflow over",
                         within_s=WITHIN_S)
        wf = await resharding.wait(move.name, (resumes_as,), WITHIN_S)
        assert wf.phase is resumes_as, wf
        if wf.phase not in FINISHED:
            await move.place(shop, "after")
            wf = await _verified(resharding, move.name)
            assert wf.detail["verify"]["clean"], wf.detail["verify"]
        for action, phase in then:
            await resharding.ask(move.name, action)
            wf = await resharding.wait(move.name, (phase,), WITHIN_S)
            assert wf.phase is phase, wf
        assert wf.error == "", wf
        owner = move.target if wf.phase is Phase.DONE else move.source
        await _assert_settled(stack, move.rng, owner, move.orders, alone=True)
        assert not any(capture for _, _, _, capture in await _ranges(stack, owner, move.rng))


@pytest.mark.parametrize("phase", ["copying", "switching"])
async def test_the_driving_gateway_is_killed_before_recording_what_it_did(
        phase: str, stack: Stack, tmp_path: Path) -> None:
    """The copy committed on the target, or the map bumped, and the driver
    dies before the control table says so: the next one copies again over
    the copy, or finishes the cutover (and records it: the cleanup waits for
    the readers of the range's last event on the source)."""
    move = Move.of(f"gk-unrecorded-{phase}", {"copying": "48-50", "switching": "50-58"}[phase],
                   0, 2)
    # The driver's next write to the control table once the first lock is
    # let go; the driver claimed the workflow before the first lock paused it.
    record = _row_lock("reshard_workflows", "workflow", move.name)
    if phase == "copying":
        paused_on, first, waits = stack.dsn(move.target), _table_lock("idempotency_keys"), \
            "DELETE FROM idempotency_keys"
    else:
        paused_on, first, waits = stack.dsn(None), \
            _row_lock("range_maps", "keyspace", "commerce"), "UPDATE range_maps"
    async with _doomed_gateway(stack, tmp_path) as (doomed, shop):
        await move.open_shop(shop)
        await move.place(shop, "before")
        if phase == "switching":
            await move.create(shop)
            await move.reaches(stack, Phase.CATCHING_UP)
        async with _holding(paused_on, first) as paused:
            await (move.create(shop) if phase == "copying" else move.ask(stack, Action.SWITCH))
            await _until_waits(paused_on, waits, f"the {phase} step waits for the test's lock")
            async with _holding(stack.dsn(None), record):
                paused.terminate()
                await _until_waits(stack.dsn(None), "SET phase",
                                   "the driver's record waits for the test's lock")
                assert (await _workflow(stack, move.name)).phase.value == phase
                if phase == "copying":
                    assert await _rows_of(stack, move.target, "orders", move.rng) == \
                        len(move.orders)
                else:
                    assert (await _map(stack)).owner_of(move.rng) == move.target
                await doomed.kill()
                # Dead before it sent the record, not while it was waiting.
                await _cut_waiting(stack.dsn(None), "SET phase")
    version = (await _map(stack)).version
    then = CLEANED if phase == "switching" else SWITCHED + CLEANED
    await _resume(stack, tmp_path, move, Phase.CATCHING_UP if phase == "copying"
                  else Phase.SWITCHED, then)
    cutovers = (await _workflow(stack, move.name)).detail["cutovers"]
    assert [c for c in cutovers if c["map_version"] >= version and c["last_event"]], cutovers


# -- the target's server killed ---------------------------------------------------

TARGET_KILLS = {"copying": "80-88", "catching_up": "88-90", "switching": "90-98"}


@pytest.mark.parametrize("phase", list(TARGET_KILLS))
async def test_the_target_server_is_killed(phase: str, stack: Stack, tmp_path: Path) -> None:
    move = Move.of(f"tk-{phase.replace('_', '-')}", TARGET_KILLS[phase], 1, 3)
    target = stack.backends.shards[move.target]
    async with _gateway(stack, tmp_path) as (gateway, shop):
        resharding = gateway.wiring.resharding
        await move.open_shop(shop)
        await move.place(shop, "before")
        # The server dies with the test's lock session on it: nothing to let go.
        if phase == "copying":
            async with _holding(stack.dsn(move.target), _table_lock("idempotency_keys")):
                await resharding.create("commerce", str(move.rng), move.target, move.name)
                await _until_waits(stack.dsn(move.target), "DELETE FROM idempotency_keys",
                                   "the copy waits for the test's lock")
                await asyncio.to_thread(target.kill)
        else:
            await resharding.create("commerce", str(move.rng), move.target, move.name)
            wf = await resharding.wait(move.name, (Phase.CATCHING_UP,), WITHIN_S)
            assert wf.phase is Phase.CATCHING_UP, wf
        if phase == "catching_up":
            await asyncio.to_thread(target.kill)
        if phase == "switching":
            async with _holding(stack.dsn(move.target), FENCE_SHARED):
                await resharding.ask(move.name, Action.SWITCH)
                await _until_waits(stack.dsn(move.target), "pg_advisory_xact_lock",
                                   "the target's taking the range waits for the test's lock")
                assert await _frozen(stack, move.source, move.rng)
                await asyncio.to_thread(target.kill)
        try:
            async def failed() -> bool:
                return bool((await resharding.get(move.name)).error)

            await eventually(failed, "the workflow records the target's failure",
                             within_s=WITHIN_S)
            # A failed cutover is rolled back: the switch may be asked again.
            wf = await resharding.get(move.name)
            assert wf.phase.value == phase.replace("switching", "catching_up"), wf
            # The source serves the range (not frozen, the map unchanged), and
            # its writes go on while the target is down.
            await _assert_settled(stack, move.rng, move.source, move.orders, alone=False,
                                  down=(move.target,))
            await move.place(shop, "target-down")
        finally:
            await asyncio.to_thread(target.start)
        wf = await resharding.wait(move.name, (Phase.CATCHING_UP,), WITHIN_S)
        assert wf.phase is Phase.CATCHING_UP, wf
        await move.place(shop, "target-back")
        await resharding.ask(move.name, Action.SWITCH)
        wf = await resharding.wait(move.name, (Phase.SWITCHED,), WITHIN_S)
        assert wf.phase is Phase.SWITCHED and wf.detail["verify"]["clean"], wf
        await move.place(shop, "after")
        await resharding.ask(move.name, Action.CLEANUP)
        wf = await resharding.wait(move.name, (Phase.DONE,), WITHIN_S)
        assert wf.phase is Phase.DONE and wf.error == "", wf
        await _assert_settled(stack, move.rng, move.target, move.orders, alone=True)


async def test_a_cutover_undone_without_its_dead_target_leaves_the_target_no_range(
        stack: Stack, tmp_path: Path) -> None:
    """Two faults in one cutover: the target took the range and died, and the
    map's bump failed (its catalog session was cut). The cutover is undone
    on the source alone; the target, back, still says it owns the range
    until the workflow is cancelled."""
    move = Move.of("tk-double", "98-a0", 1, 3)
    target = stack.backends.shards[move.target]
    async with _gateway(stack, tmp_path) as (gateway, shop):
        resharding = gateway.wiring.resharding
        await move.open_shop(shop)
        await move.place(shop, "before")
        await resharding.create("commerce", str(move.rng), move.target, move.name)
        wf = await resharding.wait(move.name, (Phase.CATCHING_UP,), WITHIN_S)
        assert wf.phase is Phase.CATCHING_UP, wf
        async with _holding(stack.dsn(None), _row_lock("range_maps", "keyspace", "commerce")):
            await resharding.ask(move.name, Action.SWITCH)
            await _until_waits(stack.dsn(None), "UPDATE range_maps",
                               "the map's bump waits for the test's lock")
            assert await _ranges(stack, move.target, move.rng)
            await asyncio.to_thread(target.kill)
            await _cut_waiting(stack.dsn(None), "UPDATE range_maps")
        try:
            async def rolled_back() -> bool:
                wf = await resharding.get(move.name)
                return wf.phase is Phase.CATCHING_UP and bool(wf.error)

            await eventually(rolled_back, "the cutover is undone", within_s=WITHIN_S)
            assert not await _frozen(stack, move.source, move.rng)
            assert (await _map(stack)).owner_of(move.rng) == move.source
            await move.place(shop, "target-down")
        finally:
            await asyncio.to_thread(target.start)
        await resharding.ask(move.name, Action.CANCEL)
        wf = await resharding.wait(move.name, (Phase.CANCELLED,), WITHIN_S)
        assert wf.phase is Phase.CANCELLED, wf
        await _assert_settled(stack, move.rng, move.source, move.orders, alone=True)


async def test_a_cutover_whose_source_dies_is_finished_once_the_source_is_back(
        stack: Stack, tmp_path: Path) -> None:
    """The source froze the range and died: the cutover cannot be undone
    there, so it is tried again until the source is back, and the range is
    never left frozen."""
    move = Move.of("sk-switching", "a8-b0", 1, 3)
    source = stack.backends.shards[move.source]
    async with _gateway(stack, tmp_path) as (gateway, shop):
        resharding = gateway.wiring.resharding
        await move.open_shop(shop)
        await move.place(shop, "before")
        await resharding.create("commerce", str(move.rng), move.target, move.name)
        wf = await resharding.wait(move.name, (Phase.CATCHING_UP,), WITHIN_S)
        assert wf.phase is Phase.CATCHING_UP, wf
        try:
            async with _holding(stack.dsn(move.target), FENCE_SHARED):
                await resharding.ask(move.name, Action.SWITCH)
                await _until_waits(stack.dsn(move.target), "pg_advisory_xact_lock",
                                   "the target's taking the range waits for the test's lock")
                assert await _frozen(stack, move.source, move.rng)
                await asyncio.to_thread(source.kill)
                await _cut_waiting(stack.dsn(move.target), "pg_advisory_xact_lock")

            async def failed() -> bool:
                return bool((await resharding.get(move.name)).error)

            await eventually(failed, "the workflow records the source's failure",
                             within_s=WITHIN_S)
        finally:
            await asyncio.to_thread(source.start)

        async def settled() -> bool:
            wf = await resharding.get(move.name)
            return wf.phase in (Phase.CATCHING_UP, Phase.SWITCHED) and \
                not await _frozen(stack, move.source, move.rng)

        await eventually(settled, "the range is served again", within_s=WITHIN_S)
        wf = await resharding.get(move.name)
        owner = move.target if wf.phase is Phase.SWITCHED else move.source
        await _assert_settled(stack, move.rng, owner, move.orders, alone=False)
        await move.place(shop, "after")


# -- the map's bump committed, its answer lost --------------------------------------

class AnswerCut:
    """A TCP relay to a server that can drop the next answer of the session
    that sent a given statement, and close it: the statement committed, and
    its client only knows the connection broke."""

    def __init__(self, upstream_port: int, marker: bytes) -> None:
        self._upstream = upstream_port
        self._marker = marker
        self._armed = False
        self._server: asyncio.Server | None = None
        self.cut = asyncio.Event()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def arm(self) -> None:
        self._armed = True

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _session(self, client_r: asyncio.StreamReader,
                       client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self._upstream)
        marked = False

        async def up() -> None:
            nonlocal marked
            while data := await client_r.read(65536):
                marked = marked or self._marker in data
                server_w.write(data)
                await server_w.drain()

        async def down() -> None:
            while data := await server_r.read(65536):
                if marked and self._armed and not self.cut.is_set():
                    self.cut.set()
                    return
                client_w.write(data)
                await client_w.drain()

        pumps = [asyncio.create_task(up()), asyncio.create_task(down())]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            client_w.close()
            server_w.close()


async def test_a_map_bump_whose_answer_is_lost_is_finished_not_undone(
        stack: Stack, tmp_path: Path) -> None:
    """The control table took the bump but the driver never heard so: it
    must not thaw the source and disown the target (the map names the
    target: no shard would serve the range); it finishes the cutover."""
    move = Move.of("lost-bump", "a0-a8", 1, 3)
    catalog = stack.keyspaces["catalog"]
    upstream = int(catalog.shard_dsns[0].rsplit(":", 1)[1].split("/", 1)[0])
    cut = AnswerCut(upstream, b"UPDATE range_maps")
    port = await cut.start()
    keyspaces = {**stack.keyspaces, "catalog": KeyspaceConfig(
        "catalog", (catalog.shard_dsns[0].replace(f":{upstream}/", f":{port}/"),))}
    relayed = Stack(stack.backends, keyspaces)
    try:
        async with _gateway(relayed, tmp_path) as (gateway, shop):
            resharding = gateway.wiring.resharding
            await move.open_shop(shop)
            await move.place(shop, "before")
            await resharding.create("commerce", str(move.rng), move.target, move.name)
            wf = await resharding.wait(move.name, (Phase.CATCHING_UP,), WITHIN_S)
            assert wf.phase is Phase.CATCHING_UP, wf
            async with _holding(stack.dsn(None), _row_lock("range_maps", "keyspace", "commerce")):
                await resharding.ask(move.name, Action.SWITCH)
                await _until_waits(stack.dsn(None), "UPDATE range_maps",
                                   "the map's bump waits for the test's lock")
                cut.arm()
            await asyncio.wait_for(cut.cut.wait(), WITHIN_S)
            assert (await _map(stack)).owner_of(move.rng) == move.target
            wf = await resharding.wait(move.name, (Phase.SWITCHED,), WITHIN_S)
            assert wf.phase is Phase.SWITCHED, wf
            await _assert_settled(stack, move.rng, move.target, move.orders, alone=False)
            await move.place(shop, "after")
            await resharding.ask(move.name, Action.CLEANUP)
            wf = await resharding.wait(move.name, (Phase.DONE,), WITHIN_S)
            assert wf.phase is Phase.DONE, wf
            await _assert_settled(stack, move.rng, move.target, move.orders, alone=True)
    finally:
        await cut.stop()
