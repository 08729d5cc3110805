"""`datagw reshard`: its arguments, what it prints and when a wait ends
(the calls themselves are tests/integration/test_reshard_api.py's)."""

from __future__ import annotations

import argparse

import pytest
from datagw.v1 import admin_pb2 as pb
from google.protobuf.duration_pb2 import Duration

from gateway.runtime import admin_client, reshard_cli
from gateway.runtime.cli import _parser


def parse(*argv: str) -> argparse.Namespace:
    return _parser().parse_args(["reshard", *argv])


def test_create_takes_keyspace_range_and_target() -> None:
    args = parse("create", "--keyspace", "commerce", "--range", "40-80", "--to", "2",
                 "--name", "move-1", "--wait", "--json")
    assert (args.reshard_command, args.keyspace, args.key_range, args.to_shard, args.name) == (
        "create", "commerce", "40-80", 2, "move-1")
    assert args.wait and args.json
    assert (args.target, args.unix_socket) == (admin_client.DEFAULT_TARGET, None)


def test_the_keyspace_defaults_to_commerce() -> None:
    assert parse("create", "--range", "40-80", "--to", "2").keyspace == "commerce"


@pytest.mark.parametrize("action", ["verify", "switch", "reverse", "cleanup", "cancel"])
def test_actions_take_a_workflow_and_may_wait(action: str) -> None:
    args = parse(action, "w1", "--unix-socket", "/run/datagw.sock", "--wait")
    assert (args.reshard_command, args.workflow, args.unix_socket, args.wait) == (
        action, "w1", "/run/datagw.sock", True)
    assert reshard_cli.ACTIONS[action] == pb.ReshardAction.Value(
        f"RESHARD_ACTION_{action.upper()}")


@pytest.mark.parametrize("argv", [
    ["create", "--keyspace", "commerce", "--range", "40-80"],  # no --to
    ["create", "--to", "2"],  # no --range
    ["create", "--keyspace", "commerce", "--range", "40-80", "--to", "two"],
    ["show"],
    ["switch", "w1", "--target", "h:1", "--unix-socket", "/s"],  # one or the other
    ["split", "w1"],
    ["show", "w1", "--wait"],  # show and list do not wait
])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse(*argv)
    assert caught.value.code == 2


def _workflow(**fields: object) -> pb.ReshardWorkflow:
    base: dict[str, object] = {"workflow": "w1", "keyspace": "commerce", "key_range": "40-80",
                               "source_shard": 0, "target_shard": 2,
                               "phase": pb.RESHARD_PHASE_CATCHING_UP}
    return pb.ReshardWorkflow(**{**base, **fields})  # type: ignore[arg-type]


def test_a_workflow_prints_what_each_phase_did() -> None:
    wf = _workflow(
        phase=pb.RESHARD_PHASE_SWITCHED, requested="cleanup", error="cleanup waits for the relay",
        copied_rows={"users": 3, "orders": 5}, copy_duration=Duration(seconds=1, nanos=500_000_000),
        pending_changes=2, applied_changes=9,
        last_verify=pb.ReshardVerifyReport(
            clean=False, took=Duration(nanos=20_000_000), source_shard=0, target_shard=2,
            tables=[pb.ReshardTableCheck(table="users", source_rows=3, target_rows=3, equal=True),
                    pb.ReshardTableCheck(table="orders", source_rows=5, target_rows=4)]),
        cutovers=[pb.ReshardCutover(from_shard=0, to_shard=2, map_version=2,
                                    pause=Duration(nanos=12_000_000))])
    text = reshard_cli.format_workflow(wf)
    assert "commerce, range 40-80: shard 0 -> 2" in text
    assert "phase     switched (asked: cleanup)" in text
    assert "error     cleanup waits for the relay" in text
    assert "copied    orders 5, users 3 in 1.5s" in text
    assert "changes   2 pending, 9 applied" in text
    assert "verify    DIFFERENCES (shard 0 vs 2, 0.02s)" in text
    assert [line.split() for line in text.splitlines() if line.startswith("  ")] == [
        ["table", "source", "rows", "target", "rows", "equal"],
        ["users", "3", "3", "yes"], ["orders", "5", "4", "NO"]]
    assert "cutover   shard 0 -> 2, map version 2, writes paused 12 ms" in text


def test_a_new_workflow_prints_only_where_it_stands() -> None:
    text = reshard_cli.format_workflow(_workflow(phase=pb.RESHARD_PHASE_COPYING))
    assert text.splitlines()[2] == "phase     copying"
    assert len(text.splitlines()) == 3


def test_a_list_is_a_table() -> None:
    text = reshard_cli.format_list([_workflow(), _workflow(
        workflow="old", phase=pb.RESHARD_PHASE_DONE, source_shard=1, target_shard=0)])
    assert [line.split() for line in text.splitlines()] == [
        ["WORKFLOW", "KEYSPACE", "RANGE", "MOVE", "PHASE", "ASKED", "ERROR"],
        ["w1", "commerce", "40-80", "0->2", "catching_up", "-", "-"],
        ["old", "commerce", "40-80", "1->0", "done", "-", "-"]]


@pytest.mark.parametrize(("fields", "done"), [
    ({"phase": pb.RESHARD_PHASE_COPYING}, False),
    ({"phase": pb.RESHARD_PHASE_CATCHING_UP}, True),
    # Asked and not carried out yet: the phase has not moved.
    ({"phase": pb.RESHARD_PHASE_CATCHING_UP, "requested": "switch"}, False),
    ({"phase": pb.RESHARD_PHASE_SWITCHING}, False),
    ({"phase": pb.RESHARD_PHASE_SWITCHED}, True),
    ({"phase": pb.RESHARD_PHASE_CLEANING}, False),
    ({"phase": pb.RESHARD_PHASE_DONE}, True),
    ({"phase": pb.RESHARD_PHASE_CANCELLED}, True),
    ({"phase": pb.RESHARD_PHASE_COPYING, "error": "shard 1 unreachable"}, True),
])
def test_a_wait_ends_at_rest_or_on_an_error(fields: dict[str, object], done: bool) -> None:
    assert reshard_cli.settled(_workflow(**fields)) is done


def test_wait_polls_until_settled_and_fails_on_an_error() -> None:
    seen = iter([_workflow(requested="switch"), _workflow(phase=pb.RESHARD_PHASE_SWITCHING),
                 _workflow(phase=pb.RESHARD_PHASE_SWITCHED)])
    sleeps: list[float] = []
    wf, status = reshard_cli.wait(lambda: next(seen), 60, sleep=sleeps.append,
                                  clock=lambda: 0.0)
    assert (wf.phase, status, len(sleeps)) == (pb.RESHARD_PHASE_SWITCHED, 0, 2)
    failed, status = reshard_cli.wait(lambda: _workflow(error="verify found differences"), 60,
                                      sleep=sleeps.append, clock=lambda: 0.0)
    assert status == 1 and failed.error


def test_wait_gives_up_after_its_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    ticks = iter([0.0, 5.0, 11.0])
    wf, status = reshard_cli.wait(lambda: _workflow(phase=pb.RESHARD_PHASE_COPYING), 10,
                                  sleep=lambda _: None, clock=lambda: next(ticks))
    assert status == 1 and wf.phase == pb.RESHARD_PHASE_COPYING
    assert "still copying after 10s" in capsys.readouterr().err
