"""Resharding workflows and range maps to proto, and the action enum from it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from datagw.v1 import admin_pb2 as pb

from gateway.api.reshard_convert import (
    PHASES_OUT,
    action_request_in,
    lookup_name,
    range_map_out,
    workflow_out,
)
from gateway.domain.admin import KeyspaceMap
from gateway.errors import InvalidArgument
from gateway.records.resharding import Action, Phase, Workflow

CREATED = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
UPDATED = datetime(2026, 12, 6, 12, 5, tzinfo=UTC)

# Every key the driver writes into a workflow's detail, as it writes them.
DETAIL = {
    "copied": {"users": 120, "orders": 300},
    "copy_s": 1.25,
    "verify": {"clean": False, "took_s": 0.5, "source": 1, "target": 0, "tables": [
        {"table": "users", "source_rows": 120, "target_rows": 120, "source_sum": "77",
         "target_sum": "77", "equal": True},
        {"table": "orders", "source_rows": 300, "target_rows": 299, "source_sum": "-5",
         "target_sum": "4", "equal": False}]},
    "pending": 7,
    "applied": 42,
    "cutovers": [{"from": 0, "to": 1, "map_version": 2, "pause_ms": 12.5,
                  "last_event": [10, 3]},
                 {"from": 1, "to": 0, "map_version": 3, "pause_ms": 3.0, "last_event": None}],
    "deleted": {"users": 120},
}


def test_a_workflow_converts_with_every_detail() -> None:
    wf = Workflow("w1", "commerce", "40-80", 0, 1, Phase.SWITCHED, requested="cleanup",
                  error="cleanup waits for the relay", detail=DETAIL, created_at=CREATED,
                  updated_at=UPDATED)
    out = workflow_out(wf)
    assert (out.workflow, out.keyspace, out.key_range, out.source_shard, out.target_shard) == (
        "w1", "commerce", "40-80", 0, 1)
    assert out.phase == pb.RESHARD_PHASE_SWITCHED
    assert (out.requested, out.error) == ("cleanup", "cleanup waits for the relay")
    assert dict(out.copied_rows) == {"users": 120, "orders": 300}
    assert out.copy_duration.ToMilliseconds() == 1250
    assert (out.pending_changes, out.applied_changes) == (7, 42)
    v = out.last_verify
    assert not v.clean and v.took.ToMilliseconds() == 500
    assert (v.source_shard, v.target_shard) == (1, 0)
    assert [(t.table, t.source_rows, t.target_rows, t.source_sum, t.target_sum, t.equal)
            for t in v.tables] == [("users", 120, 120, "77", "77", True),
                                   ("orders", 300, 299, "-5", "4", False)]
    assert [(c.from_shard, c.to_shard, c.map_version, c.pause.ToMilliseconds())
            for c in out.cutovers] == [(0, 1, 2, 12), (1, 0, 3, 3)]
    assert dict(out.deleted_rows) == {"users": 120}
    assert out.create_time.ToDatetime(tzinfo=UTC) == CREATED
    assert out.update_time.ToDatetime(tzinfo=UTC) == UPDATED


def test_a_new_workflow_leaves_what_has_not_happened_unset() -> None:
    out = workflow_out(Workflow("w2", "commerce", "-40", 0, 1, Phase.COPYING))
    assert out.phase == pb.RESHARD_PHASE_COPYING
    for name in ("copy_duration", "last_verify", "create_time", "update_time"):
        assert not out.HasField(name), name
    assert not out.copied_rows and not out.cutovers and not out.deleted_rows
    assert (out.pending_changes, out.applied_changes) == (0, 0)


def test_every_phase_has_its_proto_value() -> None:
    assert set(PHASES_OUT) == set(Phase)
    assert {pb.ReshardPhase.Name(v).removeprefix("RESHARD_PHASE_").lower()
            for v in PHASES_OUT.values()} == {p.value for p in Phase}


def test_actions_come_in_by_name() -> None:
    for action in Action:
        request = pb.ReshardWorkflowActionRequest(
            workflow="w1", action=pb.ReshardAction.Value(f"RESHARD_ACTION_{action.name}"))
        assert action_request_in(request) == ("w1", action)


@pytest.mark.parametrize("value", [pb.RESHARD_ACTION_UNSPECIFIED, 99, -1])
def test_an_unspecified_or_unknown_action_names_the_field(value: int) -> None:
    with pytest.raises(InvalidArgument) as caught:
        action_request_in(pb.ReshardWorkflowActionRequest(
            workflow="w1", action=value))  # type: ignore[arg-type]
    assert [v.field for v in caught.value.field_violations] == ["action"]
    assert "RESHARD_ACTION_SWITCH" in caught.value.field_violations[0].description


def test_a_name_with_nul_is_refused_before_postgresql_sees_it() -> None:
    with pytest.raises(InvalidArgument) as caught:
        action_request_in(pb.ReshardWorkflowActionRequest(workflow="a\x00b"))
    assert [v.field for v in caught.value.field_violations] == ["workflow", "action"]
    with pytest.raises(InvalidArgument) as caught:
        lookup_name("\x00", "keyspace")
    assert [v.field for v in caught.value.field_violations] == ["keyspace"]
    assert lookup_name("reshard-1f", "workflow") == "reshard-1f"


def test_a_range_map_converts_with_its_active_workflow() -> None:
    active = Workflow("w3", "commerce", "40-80", 0, 1, Phase.CATCHING_UP)
    out = range_map_out(KeyspaceMap("commerce", 3, (("-40", 0), ("40-80", 1), ("80-", 1)),
                                    active, ""))
    assert (out.keyspace, out.version) == ("commerce", 3)
    assert [(e.key_range, e.shard) for e in out.entries] == [("-40", 0), ("40-80", 1),
                                                            ("80-", 1)]
    assert out.active_workflow.workflow == "w3" and not out.active_workflow_error
    idle = range_map_out(KeyspaceMap("commerce", 1, (("-80", 0), ("80-", 1)), None,
                                     "catalog/0 unreachable"))
    assert not idle.HasField("active_workflow")
    assert idle.active_workflow_error == "catalog/0 unreachable"
