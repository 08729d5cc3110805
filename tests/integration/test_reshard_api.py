"""AdminService's resharding workflows and range maps, and `datagw reshard`,
on the session gateway: what is refused, and what the topology shows.

Nothing here starts a real move: the session gateway is shared by every
test file (the workflow driver's own tests move ranges on stacks of their
own). Each refused create is checked to have created nothing.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import uuid
from pathlib import Path

import grpc
import pytest
from datagw.v1 import admin_pb2 as pb
from datagw.v1 import admin_pb2_grpc

from gateway.runtime.cli import main
from gateway.runtime.server import Gateway
from tests.helpers import fails, invalid
from tests.policy_fixtures import copy_policies, running_gateway

pytestmark = pytest.mark.integration

Admin = admin_pb2_grpc.AdminServiceStub


def create(keyspace: str = "commerce", key_range: str = "-80", target: int = 1,
           name: str = "") -> pb.CreateReshardWorkflowRequest:
    return pb.CreateReshardWorkflowRequest(keyspace=keyspace, key_range=key_range,
                                           target_shard=target, workflow=name)


async def commerce_map(admin: Admin) -> pb.KeyspaceRangeMap:
    topology = await admin.GetTopology(pb.GetTopologyRequest())
    [found] = [m for m in topology.range_maps if m.keyspace == "commerce"]
    return found


async def nothing_created(admin: Admin, name: str, before: list[str]) -> None:
    await fails(admin.GetReshardWorkflow(pb.GetReshardWorkflowRequest(workflow=name)),
                grpc.StatusCode.NOT_FOUND)
    listed = await admin.ListReshardWorkflows(pb.ListReshardWorkflowsRequest())
    assert [w.workflow for w in listed.workflows] == before


async def workflow_names(admin: Admin) -> list[str]:
    listed = await admin.ListReshardWorkflows(pb.ListReshardWorkflowsRequest())
    return [w.workflow for w in listed.workflows]


async def test_topology_shows_each_sharded_keyspaces_range_map(admin: Admin) -> None:
    topology = await admin.GetTopology(pb.GetTopologyRequest())
    assert [m.keyspace for m in topology.range_maps] == ["commerce"]
    commerce = topology.range_maps[0]
    # The old field and the new one agree.
    assert dict(topology.range_map_versions) == {"commerce": commerce.version}
    assert commerce.version >= 1
    # The map covers the keyspace ids once, and each shard's backend shows its part.
    entries = [(e.key_range, e.shard) for e in commerce.entries]
    assert entries == [("-80", 0), ("80-", 1)]
    shards = {b.shard: b.key_range for b in topology.backends
              if b.keyspace == "commerce" and b.role == "primary"}
    assert shards == {0: "-80", 1: "80-"}
    assert not commerce.HasField("active_workflow")
    assert commerce.active_workflow_error == ""


@pytest.mark.parametrize(("request_", "fields"), [
    (create(key_range="40"), ["key_range"]),
    (create(key_range="80-40"), ["key_range"]),
    (create(key_range="zz-"), ["key_range"]),
    (create(key_range=""), ["key_range"]),
    (create(keyspace="catalog"), ["keyspace"]),  # not sharded
    (create(keyspace="nope", key_range="x"), ["keyspace", "key_range"]),
    (create(target=2), ["target_shard"]),
    (create(target=-1), ["target_shard"]),
    (create(name="no spaces please"), ["workflow"]),
    (create(name="x" * 65), ["workflow"]),
], ids=["no-dash", "reversed", "not-hex", "empty", "unsharded", "both", "no-shard-2",
        "negative", "name", "long-name"])
async def test_a_bad_create_names_its_fields_and_creates_nothing(
    admin: Admin, request_: pb.CreateReshardWorkflowRequest, fields: list[str]
) -> None:
    before = await workflow_names(admin)
    await invalid(admin.CreateReshardWorkflow(request_), *fields)
    await nothing_created(admin, request_.workflow or "nope", before)


async def test_a_move_onto_the_serving_shard_or_across_shards_is_refused(admin: Admin) -> None:
    before = await workflow_names(admin)
    name = f"t-{uuid.uuid4().hex[:8]}"
    there = await fails(admin.CreateReshardWorkflow(create(key_range="40-80", target=0,
                                                           name=name)),
                        grpc.StatusCode.FAILED_PRECONDITION)
    assert there.error_info is not None and there.error_info.reason == "RANGE_ALREADY_THERE"
    assert dict(there.error_info.metadata) == {"key_range": "40-80", "shard": "0"}
    spans = await fails(admin.CreateReshardWorkflow(create(key_range="40-c0", target=1,
                                                           name=name)),
                        grpc.StatusCode.FAILED_PRECONDITION)
    assert spans.error_info is not None and spans.error_info.reason == "RANGE_SPANS_SHARDS"
    await nothing_created(admin, name, before)
    assert not (await commerce_map(admin)).HasField("active_workflow")


async def test_an_unknown_workflow_is_not_found(admin: Admin) -> None:
    name = f"t-{uuid.uuid4().hex[:8]}"
    missing = await fails(admin.GetReshardWorkflow(pb.GetReshardWorkflowRequest(workflow=name)),
                          grpc.StatusCode.NOT_FOUND)
    assert missing.resource_info is not None
    assert (missing.resource_info.resource_type, missing.resource_info.resource_name) == (
        "workflow", name)
    await fails(admin.ReshardWorkflowAction(pb.ReshardWorkflowActionRequest(
        workflow=name, action=pb.RESHARD_ACTION_SWITCH)), grpc.StatusCode.NOT_FOUND)


@pytest.mark.parametrize("action", [pb.RESHARD_ACTION_UNSPECIFIED, 6, -3])
async def test_an_unknown_action_is_invalid(admin: Admin, action: int) -> None:
    await invalid(admin.ReshardWorkflowAction(pb.ReshardWorkflowActionRequest(
        workflow="w", action=action)), "action")  # type: ignore[arg-type]


async def test_list_filters_by_keyspace(admin: Admin) -> None:
    listed = await admin.ListReshardWorkflows(pb.ListReshardWorkflowsRequest(keyspace="nope"))
    assert list(listed.workflows) == []


async def test_a_name_with_nul_is_invalid(admin: Admin) -> None:
    await invalid(admin.GetReshardWorkflow(pb.GetReshardWorkflowRequest(workflow="a\x00")),
                  "workflow")
    await invalid(admin.ListReshardWorkflows(pb.ListReshardWorkflowsRequest(keyspace="\x00")),
                  "keyspace")
    await invalid(admin.ReshardWorkflowAction(pb.ReshardWorkflowActionRequest(
        workflow="\x00", action=pb.RESHARD_ACTION_CANCEL)), "workflow")


async def reshard(gateway: Gateway, *argv: str) -> int:
    # The command's blocking calls on a thread: the gateway answers on this loop.
    return await asyncio.to_thread(
        main, ["reshard", *argv, "--target", f"127.0.0.1:{gateway.port}"])


async def test_the_command_prints_refusals_and_exits_1(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await reshard(gateway, "create", "--keyspace", "commerce", "--range", "40-80",
                         "--to", "0") == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0] == ("datagw reshard: FAILED_PRECONDITION RANGE_ALREADY_THERE: "
                                   "shard 0 serves range 40-80 already")
    assert "  shard: 0" in err.splitlines()
    assert await reshard(gateway, "create", "--keyspace", "commerce", "--range", "x",
                         "--to", "5") == 1
    err = capsys.readouterr().err
    assert err.startswith("datagw reshard: INVALID_ARGUMENT: ")
    assert any(line.startswith("  target_shard: ") for line in err.splitlines())
    assert any(line.startswith("  key_range: ") for line in err.splitlines())
    assert await reshard(gateway, "switch", "nope-nope") == 1
    assert capsys.readouterr().err.startswith(
        "datagw reshard: NOT_FOUND WORKFLOW_NOT_FOUND: ")


async def test_the_command_lists_as_json(
    admin: Admin, gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await reshard(gateway, "list", "--keyspace", "commerce", "--json") == 0
    printed = json.loads(capsys.readouterr().out)
    listed = await admin.ListReshardWorkflows(pb.ListReshardWorkflowsRequest(keyspace="commerce"))
    assert [w["workflow"] for w in printed["workflows"]] == [w.workflow for w in listed.workflows]


async def test_the_command_reaches_a_gateway_on_its_unix_socket(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The shipped access policy grants the resharding methods to local callers,
    # which a unix socket's are (a short path: the limit is about 107 bytes).
    with tempfile.TemporaryDirectory(prefix="dgw-") as d:
        socket = Path(d) / "datagw.sock"
        async with running_gateway(tmp_path, copy_policies(tmp_path), gateway,
                                   unix_socket=str(socket)):
            status = await asyncio.to_thread(
                main, ["reshard", "list", "--unix-socket", str(socket)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.out.split() == ["WORKFLOW", "KEYSPACE", "RANGE", "MOVE", "PHASE", "ASKED",
                                    "ERROR"]
