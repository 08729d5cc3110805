"""`datagw reshard ...`: resharding workflows of a running gateway, over gRPC.

The command is a client of AdminService like any other (how it reaches the
gateway: admin_client.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC

import grpc
from datagw.v1 import admin_pb2, admin_pb2_grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.runtime.admin_client import (
    as_json,
    channel,
    connection_args,
    describe_error,
)

# Each call's deadline; a wait polls with fresh calls.
CALL_TIMEOUT_S = 30.0
# Starting a PostgreSQL server (initdb, replicas) takes seconds, not 30 at most.
ADD_SERVER_TIMEOUT_S = 120.0
POLL_S = 0.5

_PHASE = admin_pb2.ReshardPhase
# Where a workflow rests until the operator asks for more: what --wait waits for.
SETTLED = frozenset({_PHASE.Value("RESHARD_PHASE_CATCHING_UP"),
                     _PHASE.Value("RESHARD_PHASE_SWITCHED"),
                     _PHASE.Value("RESHARD_PHASE_DONE"),
                     _PHASE.Value("RESHARD_PHASE_CANCELLED")})
ACTIONS = {"verify": admin_pb2.RESHARD_ACTION_VERIFY, "switch": admin_pb2.RESHARD_ACTION_SWITCH,
           "reverse": admin_pb2.RESHARD_ACTION_REVERSE,
           "cleanup": admin_pb2.RESHARD_ACTION_CLEANUP, "cancel": admin_pb2.RESHARD_ACTION_CANCEL}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    connection_args(common)
    common.add_argument("--json", action="store_true",
                        help="print the response as JSON (proto field names)")
    waits = argparse.ArgumentParser(add_help=False)
    waits.add_argument("--wait", action="store_true",
                       help="poll until the workflow settles (catching_up, switched, done, "
                            "cancelled, with no action pending) or records an error")
    waits.add_argument("--wait-timeout", type=float, default=3600.0, metavar="SECONDS",
                       help="give up waiting after this long (default 3600)")
    reshard = sub.add_parser(
        "reshard", help="move a range of keyspace ids to another shard (a running gateway)",
        description="Resharding workflows of a running gateway (docs/resharding.md). "
                    "Exit status: 0 ok, 1 the gateway refused or failed (or a waited-for "
                    "workflow recorded an error, or the wait timed out), 2 usage.")
    actions = reshard.add_subparsers(dest="reshard_command", required=True)
    create = actions.add_parser("create", parents=[common, waits],
                                help="start moving a range (it is copied, then kept caught up)")
    create.add_argument("--keyspace", default="commerce",
                        help="the sharded keyspace (default commerce)")
    create.add_argument("--range", dest="key_range", required=True,
                        help='keyspace ids in hex, e.g. "40-80", "-40", "c0-"')
    create.add_argument("--to", dest="to_shard", type=int, required=True,
                        help="the shard to move it to (from 0)")
    create.add_argument("--name", default="", help="the workflow's name (default: made up)")
    grow = actions.add_parser("add-server", parents=[common],
                              help="embedded mode: start one more (spare) shard server")
    grow.add_argument("--keyspace", default="commerce",
                      help="the sharded keyspace (default commerce)")
    show = actions.add_parser("show", parents=[common], help="one workflow")
    show.add_argument("workflow")
    listing = actions.add_parser("list", parents=[common], help="workflows, newest first")
    listing.add_argument("--keyspace", default="", help="only this keyspace's")
    for name, text in (("verify", "compare both sides' rows of the range"),
                       ("switch", "cut over to the target (after a clean verify)"),
                       ("reverse", "cut back over to the source (after a clean verify)"),
                       ("cleanup", "delete the source's copy: the move is final"),
                       ("cancel", "before a switch: delete the target's copy and stop")):
        action = actions.add_parser(name, parents=[common, waits], help=text)
        action.add_argument("workflow")


def run(args: argparse.Namespace) -> int:
    with channel(args) as open_channel:
        stub = admin_pb2_grpc.AdminServiceStub(open_channel)
        try:
            return _run(stub, args)
        except grpc.RpcError as err:
            print(describe_error(err, "reshard"), file=sys.stderr)
            return 1


def _run(stub: admin_pb2_grpc.AdminServiceStub, args: argparse.Namespace) -> int:
    command = args.reshard_command
    if command == "list":
        listed = stub.ListReshardWorkflows(
            admin_pb2.ListReshardWorkflowsRequest(keyspace=args.keyspace),
            timeout=CALL_TIMEOUT_S)
        print(as_json(listed) if args.json else format_list(listed.workflows))
        return 0
    if command == "add-server":
        added = stub.AddShardServer(admin_pb2.AddShardServerRequest(keyspace=args.keyspace),
                                    timeout=ADD_SERVER_TIMEOUT_S)
        print(as_json(added) if args.json else
              f"shard server {added.shard} started (a spare: move a range onto it with "
              f"`datagw reshard create --range R --to {added.shard}`)")
        return 0
    if command == "show":
        wf = stub.GetReshardWorkflow(admin_pb2.GetReshardWorkflowRequest(
            workflow=args.workflow), timeout=CALL_TIMEOUT_S).workflow
    elif command == "create":
        wf = stub.CreateReshardWorkflow(admin_pb2.CreateReshardWorkflowRequest(
            keyspace=args.keyspace, key_range=args.key_range, target_shard=args.to_shard,
            workflow=args.name), timeout=CALL_TIMEOUT_S).workflow
    else:
        wf = stub.ReshardWorkflowAction(admin_pb2.ReshardWorkflowActionRequest(
            workflow=args.workflow, action=ACTIONS[command]), timeout=CALL_TIMEOUT_S).workflow
    status = 0
    if getattr(args, "wait", False):
        wf, status = wait(lambda: stub.GetReshardWorkflow(admin_pb2.GetReshardWorkflowRequest(
            workflow=wf.workflow), timeout=CALL_TIMEOUT_S).workflow, args.wait_timeout)
    print(as_json(wf) if args.json else format_workflow(wf))
    return status


def settled(wf: admin_pb2.ReshardWorkflow) -> bool:
    """Nothing left to wait for: at rest with no action pending, or an error."""
    return bool(wf.error) or (wf.phase in SETTLED and not wf.requested)


def wait(get: Callable[[], admin_pb2.ReshardWorkflow], timeout_s: float,
         sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic) -> tuple[admin_pb2.ReshardWorkflow, int]:
    """Poll until settled: the workflow and the exit status (1 on an error
    or when `timeout_s` passes first)."""
    until = clock() + timeout_s
    while True:
        wf = get()
        if settled(wf):
            if wf.error:
                print("datagw reshard: the workflow recorded an error (it retries its phase; "
                      "`show` follows it, asking again waits again)", file=sys.stderr)
            return wf, 1 if wf.error else 0
        if clock() >= until:
            print(f"datagw reshard: still {phase_name(wf.phase)} after {timeout_s:g}s",
                  file=sys.stderr)
            return wf, 1
        sleep(POLL_S)


def phase_name(phase: admin_pb2.ReshardPhase.ValueType) -> str:
    return _PHASE.Name(phase).removeprefix("RESHARD_PHASE_").lower()


def _counts(rows: Mapping[str, int]) -> str:
    return ", ".join(f"{table} {n}" for table, n in sorted(rows.items())) or "none"


def _seconds(d: Duration) -> str:
    return f"{d.ToTimedelta().total_seconds():.3g}s"


def format_workflow(wf: admin_pb2.ReshardWorkflow) -> str:
    """A workflow for a person: where it stands, then what each phase did."""
    lines = [
        f"workflow  {wf.workflow}",
        f"keyspace  {wf.keyspace}, range {wf.key_range}: shard {wf.source_shard} -> "
        f"{wf.target_shard}",
        f"phase     {phase_name(wf.phase)}"
        + (f" (asked: {wf.requested})" if wf.requested else ""),
    ]
    if wf.error:
        lines.append(f"error     {wf.error}")
    if wf.copied_rows or wf.HasField("copy_duration"):
        took = f" in {_seconds(wf.copy_duration)}" if wf.HasField("copy_duration") else ""
        lines.append(f"copied    {_counts(wf.copied_rows)}{took}")
    if wf.pending_changes or wf.applied_changes:
        lines.append(f"changes   {wf.pending_changes} pending, {wf.applied_changes} applied")
    if wf.HasField("last_verify"):
        v = wf.last_verify
        lines.append(f"verify    {'clean' if v.clean else 'DIFFERENCES'} (shard "
                     f"{v.source_shard} vs {v.target_shard}, {_seconds(v.took)})")
        width = max([5, *(len(t.table) for t in v.tables)])
        lines.append(f"  {'table':<{width}}  {'source rows':>11}  {'target rows':>11}  equal")
        lines += [f"  {t.table:<{width}}  {t.source_rows:>11}  {t.target_rows:>11}  "
                  f"{'yes' if t.equal else 'NO'}" for t in v.tables]
    for c in wf.cutovers:
        lines.append(f"cutover   shard {c.from_shard} -> {c.to_shard}, map version "
                     f"{c.map_version}, writes paused {c.pause.ToMilliseconds()} ms")
    if wf.deleted_rows:
        lines.append(f"deleted   {_counts(wf.deleted_rows)}")
    if wf.HasField("create_time"):
        lines.append(f"created   {_time(wf.create_time)}, updated {_time(wf.update_time)}")
    return "\n".join(lines)


def format_list(workflows: Iterable[admin_pb2.ReshardWorkflow]) -> str:
    rows = [("WORKFLOW", "KEYSPACE", "RANGE", "MOVE", "PHASE", "ASKED", "ERROR")]
    rows += [(w.workflow, w.keyspace, w.key_range, f"{w.source_shard}->{w.target_shard}",
              phase_name(w.phase), w.requested or "-", w.error[:60] or "-")
             for w in workflows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def _time(ts: Timestamp) -> str:
    return ts.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
