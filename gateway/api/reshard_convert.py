"""Resharding workflows and range maps: domain values to proto and back."""

from __future__ import annotations

from typing import Any

from datagw.v1 import admin_pb2

from gateway.api.convert import duration, timestamp
from gateway.domain.admin import KeyspaceMap
from gateway.errors import Violations
from gateway.records.resharding import Action, Phase, Workflow

PHASES_OUT = {
    Phase.COPYING: admin_pb2.RESHARD_PHASE_COPYING,
    Phase.CATCHING_UP: admin_pb2.RESHARD_PHASE_CATCHING_UP,
    Phase.SWITCHING: admin_pb2.RESHARD_PHASE_SWITCHING,
    Phase.SWITCHED: admin_pb2.RESHARD_PHASE_SWITCHED,
    Phase.REVERSING: admin_pb2.RESHARD_PHASE_REVERSING,
    Phase.CLEANING: admin_pb2.RESHARD_PHASE_CLEANING,
    Phase.DONE: admin_pb2.RESHARD_PHASE_DONE,
    Phase.CANCELLING: admin_pb2.RESHARD_PHASE_CANCELLING,
    Phase.CANCELLED: admin_pb2.RESHARD_PHASE_CANCELLED,
}

ACTIONS_IN = {
    admin_pb2.RESHARD_ACTION_VERIFY: Action.VERIFY,
    admin_pb2.RESHARD_ACTION_SWITCH: Action.SWITCH,
    admin_pb2.RESHARD_ACTION_REVERSE: Action.REVERSE,
    admin_pb2.RESHARD_ACTION_CLEANUP: Action.CLEANUP,
    admin_pb2.RESHARD_ACTION_CANCEL: Action.CANCEL,
}

# The domain's names for CreateReshardWorkflow's fields, where the request's
# differ: a field violation names the request's field.
def _check_name(v: Violations, field: str, value: str) -> None:
    # PostgreSQL refuses NUL in text, and Resharding's lookups (get, list,
    # ask) pass names straight to it: only its create checks a name.
    if "\x00" in value:
        v.add(field, "must not contain NUL characters")


def lookup_name(value: str, field: str) -> str:
    """A workflow's or keyspace's name to look up."""
    v = Violations()
    _check_name(v, field, value)
    v.raise_if_any()
    return value


def action_request_in(request: admin_pb2.ReshardWorkflowActionRequest) -> tuple[str, Action]:
    """The workflow and the action of a ReshardWorkflowAction."""
    v = Violations()
    _check_name(v, "workflow", request.workflow)
    action = ACTIONS_IN.get(request.action)
    if action is None:
        names = ", ".join(admin_pb2.ReshardAction.Name(a) for a in ACTIONS_IN)
        v.add("action", f"must be one of {names}; got {request.action}")
    v.raise_if_any()
    assert action is not None
    return request.workflow, action


def _verify_out(report: dict[str, Any]) -> admin_pb2.ReshardVerifyReport:
    return admin_pb2.ReshardVerifyReport(
        clean=report["clean"], took=duration(report["took_s"]),
        source_shard=report["source"], target_shard=report["target"],
        tables=[admin_pb2.ReshardTableCheck(
            table=t["table"], source_rows=t["source_rows"], target_rows=t["target_rows"],
            source_sum=t["source_sum"], target_sum=t["target_sum"], equal=t["equal"])
            for t in report["tables"]])


def workflow_out(wf: Workflow) -> admin_pb2.ReshardWorkflow:
    d = wf.detail
    return admin_pb2.ReshardWorkflow(
        workflow=wf.workflow, keyspace=wf.keyspace, key_range=wf.key_range,
        source_shard=wf.source, target_shard=wf.target, phase=PHASES_OUT[wf.phase],
        requested=wf.requested, error=wf.error, copied_rows=d.get("copied", {}),
        copy_duration=duration(d["copy_s"]) if "copy_s" in d else None,
        pending_changes=d.get("pending", 0), applied_changes=d.get("applied", 0),
        last_verify=_verify_out(d["verify"]) if "verify" in d else None,
        cutovers=[admin_pb2.ReshardCutover(
            from_shard=c["from"], to_shard=c["to"], map_version=c["map_version"],
            pause=duration(c["pause_ms"] / 1000)) for c in d.get("cutovers", [])],
        deleted_rows=d.get("deleted", {}),
        create_time=timestamp(wf.created_at) if wf.created_at else None,
        update_time=timestamp(wf.updated_at) if wf.updated_at else None)


def range_map_out(m: KeyspaceMap) -> admin_pb2.KeyspaceRangeMap:
    return admin_pb2.KeyspaceRangeMap(
        keyspace=m.keyspace, version=m.version,
        entries=[admin_pb2.RangeMapEntry(key_range=r, shard=s) for r, s in m.entries],
        active_workflow=workflow_out(m.active) if m.active else None,
        active_workflow_error=m.active_error)
