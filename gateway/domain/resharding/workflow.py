"""Resharding workflows: moving one range of keyspace ids to another shard online.

A workflow (records.resharding) goes through phases that any gateway can
resume, since each is recorded in the control table (catalog keyspace)
before and after it runs, and each is safe to run again:

- copying: the source starts capturing the range's changes (fence.py's
  trigger logs which rows change), then every row of the range is copied
  to the target from one REPEATABLE READ snapshot; log entries visible in
  that snapshot are covered by the copy and dropped with it.
- catching_up: the captured changes are applied to the target, state by
  state (range_copy.apply_changes), until the operator asks to switch.
  A verify (asked for, and before every switch) applies every change
  visible in one source snapshot and then compares per table the rows of
  the range on both sides, counted and summed, in that snapshot.
- switching: the cutover. The source freezes the range (its fence refuses
  the range's writes from now on, after waiting for the writes in flight),
  the last changes are applied, the target takes ownership (and captures
  the range for a reverse), the map's version is bumped in the control
  table, and the source gives the range up. Writes of the range wait
  meanwhile (idempotency.run_transaction retries a frozen range) and then
  go to the target; reads never wait.
- switched: the target serves; its changes flow back to the source, so
  `reverse` (the same cutover the other way) stays possible until cleanup.
- cleaning: once the readers of the source's log (the relay, the catalog's
  projections) have passed the range's last event there, the source's
  copy of the range is deleted: done.
- cancel (before a switch): the target's copy is deleted and the capture
  stopped: cancelled.

A failure before the cutover's map bump rolls the cutover back (the source
serves again, and once it is thawed the workflow is back in the phase the
switch or reverse was asked in, with the error); after it (or when the
bump's answer was lost and the map moved), the cutover is finished forward. A
gateway that dies mid-cutover leaves the phase as it was: the next driver
runs the cutover again from the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import asyncpg

from gateway.errors import (
    DatagwError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    Violations,
)
from gateway.records.events import Cursor
from gateway.records.resharding import ALLOWED, Action, Phase, TableCheck, Workflow
from gateway.storage.postgres import (
    control_store,
    fence,
    projection_store,
    range_copy,
    relay_store,
)
from gateway.storage.postgres.fence import COPIER_SETTING
from gateway.storage.postgres.keyspace_id import KeyRange, RangeError
from gateway.storage.postgres.migrations import migrate
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.storage.postgres.range_map import Handoff, RangeMap
from gateway.tasks import stop_tasks
from gateway.telemetry import RESHARD_PHASE_SECONDS, work_span

log = logging.getLogger(__name__)

# How often the driver looks for work while it drives a workflow, and how
# long its lease on a workflow lasts: a gateway that dies mid-phase is
# replaced within LEASE_S (plus TICK_S).
TICK_S = 0.2
LEASE_S = 5.0
# With no workflow to drive the driver looks this seldom (an idle gateway
# pays a query per look), or once the lease of another driver's workflow
# runs out if that is sooner; a workflow created or asked of here wakes it.
IDLE_TICK_S = 5.0
# Changes applied per batch, and how long one catch-up turn may run before
# the driver looks at the operator's requests again.
APPLY_BATCH = 500
TURN_S = 1.0


class Resharding:
    def __init__(self, control: Shard, keyspaces: dict[str, Keyspace], relay: bool) -> None:
        """`control`: the catalog primary (control tables); `relay`: whether a
        relay reads the shards' events (cleanup waits for it)."""
        self._control = control
        self._keyspaces = {n: ks for n, ks in keyspaces.items() if ks.sharded}
        self._relay = relay
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._task: asyncio.Task[None] | None = None
        # Set by what gives the driver work: an idle driver wakes at once.
        self._work = asyncio.Event()
        # Starts one more shard server for a keyspace and returns its number;
        # only embedded mode can (runtime/growth.py sets it).
        self._grow: Callable[[str], Awaitable[int]] | None = None
        self._growing = asyncio.Lock()

    def allow_growth(self, grow: Callable[[str], Awaitable[int]]) -> None:
        self._grow = grow

    async def add_server(self, keyspace: str) -> int:
        """Start one more (spare) shard server for `keyspace`; its number."""
        if keyspace not in self._keyspaces:
            raise InvalidArgument([FieldViolation(
                "keyspace", f"must be a sharded keyspace: {', '.join(sorted(self._keyspaces))}")])
        if self._grow is None:
            raise FailedPrecondition(
                "only embedded mode starts shard servers itself; list the new server in "
                f"postgres.keyspaces.{keyspace}.shards without a range (a spare) and restart "
                "the gateways", reason="NOT_EMBEDDED", metadata={"keyspace": keyspace})
        async with self._growing:
            return await self._grow(keyspace)

    # -- the operator's side ----------------------------------------------------

    async def create(self, keyspace: str, key_range: str, target: int,
                     name: str = "") -> Workflow:
        """A new workflow moving `key_range` to shard `target`; the source is
        the shard serving the range now."""
        # Violations name the fields of AdminService.CreateReshardWorkflow.
        v = Violations()
        ks = self._keyspaces.get(keyspace)
        if ks is None:
            v.add("keyspace", f"must be a sharded keyspace: {', '.join(sorted(self._keyspaces))}")
        rng: KeyRange | None = None
        try:
            rng = KeyRange.parse(key_range)
        except RangeError as exc:
            v.add("key_range", str(exc))
        if ks is not None and not 0 <= target < len(ks.shards):
            v.add("target_shard", f"must be a shard of {keyspace!r}: 0 to {len(ks.shards) - 1}")
        if name and (len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum()):
            v.add("workflow", "at most 64 letters, digits, '-' or '_'")
        v.raise_if_any()
        assert ks is not None and rng is not None
        await ks.refresh_map()
        source = ks.map.owner_of(rng)
        if source is None:
            raise FailedPrecondition(
                f"range {rng} is served by more than one shard in map version "
                f"{ks.map.version} ({ks.map.describe()}); move one shard's part at a time",
                reason="RANGE_SPANS_SHARDS", metadata={"key_range": str(rng)})
        if source == target:
            raise FailedPrecondition(
                f"shard {target} serves range {rng} already", reason="RANGE_ALREADY_THERE",
                metadata={"key_range": str(rng), "shard": str(target)})
        wf = Workflow(name or f"reshard-{secrets.token_hex(4)}", keyspace, str(rng), source,
                      target, Phase.COPYING)
        async with self._control.connection("INSERT reshard_workflows") as conn:
            try:
                created = await control_store.insert_workflow(conn, wf)
            except asyncpg.UniqueViolationError:
                created = None
            if created is None:
                active = [w for w in await control_store.list_workflows(conn, keyspace)
                          if w.phase not in (Phase.DONE, Phase.CANCELLED)]
                raise FailedPrecondition(
                    f"keyspace {keyspace!r} has an unfinished workflow "
                    f"({active[0].workflow if active else wf.workflow}); finish or cancel it "
                    "first", reason="WORKFLOW_ACTIVE",
                    metadata={"workflow": active[0].workflow if active else wf.workflow})
        log.info("resharding %s: moving %s range %s from shard %d to shard %d", wf.workflow,
                 keyspace, rng, source, target)
        self._work.set()
        return created

    async def get(self, workflow: str) -> Workflow:
        async with self._control.connection("SELECT reshard_workflows") as conn:
            found = await control_store.get_workflow(conn, workflow)
        if found is None:
            raise NotFound("workflow", workflow)
        return found

    async def workflows(self, keyspace: str = "") -> list[Workflow]:
        async with self._control.connection("SELECT reshard_workflows") as conn:
            return await control_store.list_workflows(conn, keyspace)

    async def ask(self, workflow: str, action: Action) -> Workflow:
        """Record the operator's `action`; the driver carries it out."""
        phases = ALLOWED[action]
        async with self._control.connection("UPDATE reshard_workflows") as conn:
            updated = await control_store.request(conn, workflow, action.value,
                                                  [p.value for p in phases])
        if updated is not None:
            self._work.set()
            return updated
        current = await self.get(workflow)
        raise FailedPrecondition(
            f"workflow {workflow!r} is {current.phase.value}; {action.value} is for a workflow "
            f"that is {' or '.join(p.value for p in phases)}", reason="WRONG_PHASE",
            metadata={"workflow": workflow, "phase": current.phase.value,
                      "action": action.value})

    async def wait(self, workflow: str, phases: tuple[Phase, ...], timeout_s: float) -> Workflow:
        """Poll until the workflow reaches one of `phases` (or has an error)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout_s
        while True:
            wf = await self.get(workflow)
            if wf.phase in phases or loop.time() >= until:
                return wf
            await asyncio.sleep(0.1)

    # -- the driver ------------------------------------------------------------

    def start(self) -> None:
        if self._keyspaces:
            self._task = asyncio.create_task(self._drive())

    async def stop(self) -> None:
        await stop_tasks(self._task, what="resharding driver")
        if self._task is not None:
            try:
                async with self._control.connection("UPDATE reshard_workflows") as conn:
                    await control_store.release(conn, self.owner)
            except DatagwError as exc:
                log.info("resharding leases not released (they expire): %s", exc.message)

    async def _drive(self) -> None:
        while True:
            self._work.clear()
            claimed: control_store.Claimed | None = None
            try:
                async with self._control.connection("CLAIM reshard_workflows") as conn:
                    claimed = await control_store.claim(conn, self.owner, LEASE_S)
                for wf in claimed.workflows:
                    # A claimed workflow is work; a claim of none is a poll (no span).
                    with work_span("reshard step", {
                            "datagw.keyspace": wf.keyspace, "datagw.reshard.workflow": wf.workflow,
                            "datagw.reshard.phase": wf.phase.value}):
                        await self._advance(wf)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("resharding driver: %s", _describe(exc))
            if claimed is not None and not claimed.workflows:
                idle_s = IDLE_TICK_S
                if claimed.lease_left_s is not None:
                    # A dead driver's workflow is taken as its lease runs out.
                    idle_s = min(idle_s, claimed.lease_left_s + TICK_S)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(idle_s):
                        await self._work.wait()
            else:
                await asyncio.sleep(TICK_S)

    async def _save(self, wf: Workflow, consumed: str = "") -> Workflow:
        async with self._control.connection("UPDATE reshard_workflows") as conn:
            if not await control_store.save(conn, wf.workflow, self.owner, wf.phase, wf.detail,
                                            wf.error, consumed):
                raise _LeaseLost(wf.workflow)
        return wf

    async def _advance(self, wf: Workflow) -> None:
        """One turn of work on `wf`, by its phase and the operator's request."""
        ks = self._keyspaces.get(wf.keyspace)
        if ks is None:
            return
        rng = KeyRange.parse(wf.key_range)
        source, target = ks.shards[wf.source], ks.shards[wf.target]
        asked = wf.requested
        try:
            if wf.phase is Phase.COPYING:
                if asked == Action.CANCEL:
                    await self._save(replace(wf, phase=Phase.CANCELLING), asked)
                    return
                await self._copy(ks, wf, rng, source, target)
            elif wf.phase in (Phase.CATCHING_UP, Phase.SWITCHED):
                await self._steady(ks, wf, rng, asked)
            elif wf.phase is Phase.SWITCHING:
                await self._cutover(ks, wf, rng, source, target, Phase.SWITCHED,
                                    Phase.CATCHING_UP)
            elif wf.phase is Phase.REVERSING:
                await self._cutover(ks, wf, rng, target, source, Phase.CATCHING_UP,
                                    Phase.SWITCHED)
            elif wf.phase is Phase.CLEANING:
                await self._clean(wf, rng, source, target)
            elif wf.phase is Phase.CANCELLING:
                await self._cancel(wf, rng, source, target)
        except _LeaseLost:
            log.info("resharding %s: lease lost to another gateway", wf.workflow)
        except (DatagwError, asyncpg.PostgresError, OSError) as exc:
            # Recorded for the operator; the phase is tried again next tick.
            message = _describe(exc)
            if message != wf.error:
                log.warning("resharding %s (%s): %s", wf.workflow, wf.phase.value, message)
                await self._save(replace(wf, error=message))

    async def _copy(self, ks: Keyspace, wf: Workflow, rng: KeyRange, source: Shard,
                    target: Shard) -> None:
        started = asyncio.get_running_loop().time()
        async with target.connection("MIGRATE target") as conn:
            await migrate(conn, ks.name)  # the target's schema, by the normal migrations
        async with source.connection("CAPTURE range") as conn:
            if not await fence.owned_part(conn, rng):
                raise FailedPrecondition(
                    f"shard {wf.source} owns no part of {rng} (its fence says so): the map "
                    "and the shard disagree", reason="RANGE_NOT_OWNED",
                    metadata={"shard": str(wf.source), "key_range": str(rng)})
            await fence.change(conn, rng, capture=wf.workflow)
        async with source.connection("COPY key range") as src, \
                target.connection("COPY key range") as dst:
            async with src.transaction(isolation="repeatable_read", readonly=True):
                # The snapshot's first statement: the changes it sees are in the copy.
                covered = await range_copy.change_ids(src, wf.workflow)
                async with dst.transaction():
                    await dst.execute(COPIER_SETTING)
                    copied = await range_copy.copy_range(src, dst, rng, wf.source)
            await range_copy.forget_changes(src, covered)
        took = asyncio.get_running_loop().time() - started
        RESHARD_PHASE_SECONDS.labels("copy").observe(took)
        log.info("resharding %s: copied %s in %.1fs", wf.workflow, copied, took)
        detail = {**wf.detail, "copied": copied, "copy_s": round(took, 3)}
        wf = await self._save(replace(wf, detail=detail, error=""))
        # The first verify, before the phase says the copy is done.
        wf = await self._verify(wf, rng, source, target)
        await self._save(replace(wf, phase=Phase.CATCHING_UP))

    async def _steady(self, ks: Keyspace, wf: Workflow, rng: KeyRange, asked: str) -> None:
        """The serving side's changes flow to the other; the operator's requests."""
        serving, other = ((ks.shards[wf.source], ks.shards[wf.target])
                          if wf.phase is Phase.CATCHING_UP
                          else (ks.shards[wf.target], ks.shards[wf.source]))
        if asked == Action.CANCEL:
            await self._save(replace(wf, phase=Phase.CANCELLING), asked)
        elif asked == Action.VERIFY:
            wf = await self._verify(wf, rng, serving, other)
            await self._save(wf, asked)
        elif asked in (Action.SWITCH, Action.REVERSE):
            wf = await self._verify(wf, rng, serving, other)
            if not wf.detail["verify"]["clean"]:
                await self._save(replace(wf, error="verify found differences; not switching"),
                                 asked)
                return
            phase = Phase.SWITCHING if asked == Action.SWITCH else Phase.REVERSING
            await self._save(replace(wf, phase=phase), asked)
        elif asked == Action.CLEANUP:
            behind = await self._readers_behind(wf, rng, ks.shards[wf.source])
            if behind:
                await self._save(replace(wf, error="cleanup waits for " + "; ".join(behind)))
                return
            await self._save(replace(wf, phase=Phase.CLEANING, error=""), asked)
        else:
            applied = await self._catch_up(wf, serving, other)
            async with serving.connection("COUNT reshard_changes") as conn:
                waiting = await range_copy.pending(conn, wf.workflow)
            if applied or waiting != wf.detail.get("pending"):
                await self._save(replace(wf, detail={**wf.detail, "pending": waiting,
                                                     "applied": wf.detail.get("applied", 0)
                                                     + applied}))

    async def _catch_up(self, wf: Workflow, serving: Shard, other: Shard) -> int:
        loop = asyncio.get_running_loop()
        until = loop.time() + TURN_S
        applied = 0
        async with serving.connection("APPLY changes") as src, \
                other.connection("APPLY changes") as dst:
            while loop.time() < until:
                n = await range_copy.apply_changes(src, dst, wf.workflow, serving.index,
                                                   APPLY_BATCH)
                applied += n
                if n < APPLY_BATCH:
                    break
        return applied

    async def _verify(self, wf: Workflow, rng: KeyRange, serving: Shard, other: Shard
                      ) -> Workflow:
        """Bring `other` to one snapshot of `serving` and compare the two."""
        started = asyncio.get_running_loop().time()
        checks: list[TableCheck] = []
        async with serving.connection("VERIFY range") as src, \
                other.connection("VERIFY range") as dst:
            applied: list[int] = []
            async with src.transaction(isolation="repeatable_read", readonly=True):
                while await range_copy.apply_changes(src, dst, wf.workflow, serving.index,
                                                     APPLY_BATCH, applied):
                    pass
                for t in range_copy.TABLES:
                    s_rows, s_sum = await range_copy.checksum(src, t.name, rng)
                    d_rows, d_sum = await range_copy.checksum(dst, t.name, rng)
                    checks.append(TableCheck(t.name, s_rows, d_rows, s_sum, d_sum))
            await range_copy.forget_changes(src, applied)
        took = asyncio.get_running_loop().time() - started
        RESHARD_PHASE_SECONDS.labels("verify").observe(took)
        clean = all(c.equal for c in checks)
        report = {"clean": clean, "took_s": round(took, 3), "source": serving.index,
                  "target": other.index,
                  "tables": [{"table": c.table, "source_rows": c.source_rows,
                              "target_rows": c.target_rows, "source_sum": c.source_sum,
                              "target_sum": c.target_sum, "equal": c.equal} for c in checks]}
        if not clean:
            log.warning("resharding %s: verify found differences: %s", wf.workflow,
                        [c.table for c in checks if not c.equal])
        return await self._save(replace(wf, detail={**wf.detail, "verify": report}))

    async def _cutover(self, ks: Keyspace, wf: Workflow, rng: KeyRange, frm: Shard, to: Shard,
                       landed: Phase, back: Phase) -> None:
        """Move serving `rng` from `frm` to `to`: freeze, drain, own, bump,
        disown. Failing before the bump, it is undone and the workflow goes
        `back` with the error (the operator asks again); after it, the next
        turn finishes it."""
        async with self._control.connection("SELECT range_maps") as conn:
            found = await control_store.load_map(conn, ks.name)
        assert found is not None
        current = RangeMap.from_json(*found)
        record: dict[str, Any] | None = None
        if current.owner_of(rng) != to.index:
            record = await self._cut(ks, wf, rng, frm, to, current, back)
            if record is None:
                return
        elif all(c["map_version"] != current.version for c in wf.detail.get("cutovers", [])):
            # Bumped but not recorded (its driver died, or lost the bump's
            # answer): the cleanup still needs the range's last event on
            # `frm`, which has taken no write of the range since its freeze
            # and keeps its rows until the cleanup. The pause is unknown.
            async with frm.connection("SELECT last event") as conn:
                last = await range_copy.last_event(conn, rng)
            record = {"from": frm.index, "to": to.index, "map_version": current.version,
                      "last_event": list(last) if last else None, "started": None}
        # After the bump (now, or by a driver that died after it): finish.
        async with frm.connection("DISOWN range") as conn:
            await fence.disown(conn, rng)
            await range_copy.drop_changes(conn, wf.workflow)
        detail = wf.detail
        if record is not None:
            # The writes of the range waited from the freeze to the disown.
            started = record.pop("started")
            record["pause_ms"] = None
            if started is not None:
                pause = asyncio.get_running_loop().time() - started
                RESHARD_PHASE_SECONDS.labels("cutover").observe(pause)
                record["pause_ms"] = round(pause * 1000, 1)
            detail = {**detail, "cutovers": [*detail.get("cutovers", []), record]}
            log.info("resharding %s: range %s now served by shard %d (map version %d); writes "
                     "paused %s ms", wf.workflow, rng, to.index, record["map_version"],
                     record["pause_ms"])
        await self._save(replace(wf, phase=landed, error="", detail=detail))

    async def _cut(self, ks: Keyspace, wf: Workflow, rng: KeyRange, frm: Shard, to: Shard,
                   current: RangeMap, back: Phase) -> dict[str, Any] | None:
        """Steps 1-4 of the cutover (docs/resharding.md); what to record of
        it, or None when it failed and was undone."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        swapped = bumping = False
        try:
            # What piled up while the switch's verify ran is applied first,
            # with the range still served: the freeze then waits only for the
            # last few changes, and the pause does not grow with the range.
            async with frm.connection("DRAIN changes") as src, \
                    to.connection("DRAIN changes") as dst:
                while await range_copy.apply_changes(src, dst, wf.workflow, frm.index,
                                                     APPLY_BATCH) == APPLY_BATCH:
                    pass
            started = loop.time()
            async with frm.connection("FREEZE range") as conn:
                await fence.change(conn, rng, state="frozen")
                last = await range_copy.last_event(conn, rng)
            async with frm.connection("DRAIN changes") as src, \
                    to.connection("DRAIN changes") as dst:
                while await range_copy.apply_changes(src, dst, wf.workflow, frm.index,
                                                     APPLY_BATCH):
                    pass
            new = current.moved(rng, to.index)
            async with to.connection("OWN range") as conn:
                owner_tx = await fence.own(conn, rng, new.version, capture=wf.workflow)
            if last is not None:
                below = Cursor.below(owner_tx)
                new = new.with_handoff(Handoff(frm.index, to.index, last,
                                               (below.commit, below.position)))
            async with self._control.connection("UPDATE range_maps") as conn:
                bumping = True
                swapped = await control_store.swap_map(conn, ks.name, current.version,
                                                       new.version, new.to_json())
                bumping = False
            if not swapped:
                raise FailedPrecondition(
                    f"range map of {ks.name!r} changed during the cutover (expected version "
                    f"{current.version})", reason="MAP_CHANGED",
                    metadata={"keyspace": ks.name})
        except BaseException as exc:
            # A bump that failed without an answer may have committed:
            # undone, the range would be served by no shard. Left frozen,
            # the next turn finishes it or starts it again.
            if bumping and not swapped:
                swapped = await self._may_have_moved(ks.name, current.version)
            if not swapped:
                thawed = await _undo_freeze(rng, frm, to)
                if thawed and isinstance(exc, (DatagwError, asyncpg.PostgresError, OSError)):
                    # Back to where it was asked: retried every tick, the
                    # cutover would freeze the range's writes again and again
                    # for as long as the cause lasts; the operator asks again
                    # once it is fixed. Not thawed, the range stays in the
                    # cutover, which is tried again until done or undone.
                    await self._save(replace(wf, phase=back,
                                             error=f"cutover undone: {_describe(exc)}"))
                    log.warning("resharding %s: cutover undone: %s", wf.workflow,
                                _describe(exc))
                    return None
            raise
        await ks.refresh_map()
        return {"from": frm.index, "to": to.index, "map_version": new.version,
                "last_event": list(last) if last else None, "started": started}

    async def _may_have_moved(self, keyspace: str, version: int) -> bool:
        """Whether the map is no longer at `version` (or cannot be read)."""
        try:
            async with self._control.connection("SELECT range_maps") as conn:
                found = await control_store.load_map(conn, keyspace)
        except (DatagwError, asyncpg.PostgresError, OSError):
            return True
        return found is None or found[0] != version

    async def _readers_behind(self, wf: Workflow, rng: KeyRange, source: Shard) -> list[str]:
        """The readers of the source's whole log that have not yet passed the
        range's last event there (deleting it earlier would lose it for them)."""
        cutovers = [c for c in wf.detail.get("cutovers", []) if c["from"] == wf.source]
        if not cutovers or not cutovers[-1]["last_event"]:
            return []
        last = Cursor(*cutovers[-1]["last_event"])
        behind: list[str] = []
        if self._relay:
            async with source.connection("SELECT relay_checkpoint") as conn:
                relayed = (await relay_store.load(conn)).at
            if relayed < last:
                behind.append(f"the relay (at {relayed.commit}/{relayed.position}, needs "
                              f"{last.commit}/{last.position})")
        async with self._control.connection("SELECT projection_checkpoints") as conn:
            for name, at in await projection_store.source_checkpoints(conn, wf.keyspace,
                                                                       wf.source):
                if at < last:
                    behind.append(f"projection {name}")
        return behind

    async def _clean(self, wf: Workflow, rng: KeyRange, source: Shard, target: Shard) -> None:
        started = asyncio.get_running_loop().time()
        async with target.connection("END capture") as conn:
            await fence.change(conn, rng, capture=None)
            await range_copy.drop_changes(conn, wf.workflow)
        async with source.connection("DELETE key range") as conn:
            async with conn.transaction():
                deleted = await range_copy.delete_range(conn, rng)
        RESHARD_PHASE_SECONDS.labels("cleanup").observe(
            asyncio.get_running_loop().time() - started)
        await self._save(replace(wf, phase=Phase.DONE, error="",
                                 detail={**wf.detail, "deleted": deleted}))

    async def _cancel(self, wf: Workflow, rng: KeyRange, source: Shard, target: Shard) -> None:
        async with source.connection("END capture") as conn:
            await fence.change(conn, rng, capture=None)
            await range_copy.drop_changes(conn, wf.workflow)
        async with target.connection("DELETE key range") as conn:
            # A cutover undone while the target was down left it owning the
            # range (and capturing what the catch-up wrote there since).
            await fence.disown(conn, rng)
            async with conn.transaction():
                await range_copy.delete_range(conn, rng)
            await range_copy.drop_changes(conn, wf.workflow)
        await self._save(replace(wf, phase=Phase.CANCELLED, error=""))


async def _undo_freeze(rng: KeyRange, frm: Shard, to: Shard) -> bool:
    """A cutover that failed before the map bump: `frm` serves again (False:
    it could not be thawed)."""
    thawed = False
    for shard, undo in ((to, fence.disown), (frm, _thaw)):
        try:
            async with shard.connection("UNDO cutover") as conn:
                await undo(conn, rng)
            thawed = shard is frm
        except (DatagwError, asyncpg.PostgresError, OSError) as exc:
            log.warning("resharding: undoing a failed cutover on %s: %s", shard.name,
                        _describe(exc))
    return thawed


async def _thaw(conn: asyncpg.Connection, rng: KeyRange) -> None:
    await fence.change(conn, rng, state="owned")


class _LeaseLost(Exception):
    pass


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DatagwError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"
