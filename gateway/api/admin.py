"""AdminService: proto in, domain call, proto out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import grpc
from datagw.v1 import admin_pb2, admin_pb2_grpc, common_pb2, eventstore_pb2
from google.protobuf import any_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.api.commerce_convert import ORDER_STATUS_IN, order_out, saga_out
from gateway.api.convert import (
    LEVELS_OUT,
    duration,
    duration_in,
    policy_out,
    read_args,
    timestamp,
    timestamp_in,
)
from gateway.api.reshard_convert import (
    action_request_in,
    lookup_name,
    range_map_out,
    workflow_out,
)
from gateway.api.verify_convert import report_out, verify_args
from gateway.domain.admin import AdminDomain
from gateway.domain.analytics.relay import ShardProgress
from gateway.domain.explain import Explainer, Explanation
from gateway.domain.projections.runner import ProjectionState, ProjectionStatus
from gateway.domain.resharding.workflow import Resharding
from gateway.domain.verify import Verifier
from gateway.errors import FieldViolation, InvalidArgument
from gateway.policy.model import Consistency
from gateway.records.backup import BackupStatus

Context = grpc.aio.ServicerContext[Any, Any]

_KINDS = {
    "postgres": admin_pb2.BACKEND_KIND_POSTGRES,
    "redis": admin_pb2.BACKEND_KIND_REDIS,
    "clickhouse": admin_pb2.BACKEND_KIND_CLICKHOUSE,
}


def shard_progress_out(p: ShardProgress) -> admin_pb2.ShardProgress:
    return admin_pb2.ShardProgress(
        position=eventstore_pb2.ShardPosition(keyspace=p.keyspace, shard=p.shard,
                                              commit=p.at.commit, position=p.at.position),
        lag_events=p.lag_events, lag=duration(p.lag_s), last_error=p.last_error,
        last_batch_time=timestamp(p.last_batch_at) if p.last_batch_at else None)


_PROJECTION_STATES = {
    ProjectionState.RUNNING: admin_pb2.PROJECTION_STATE_RUNNING,
    ProjectionState.REBUILDING: admin_pb2.PROJECTION_STATE_REBUILDING,
    ProjectionState.FAILING: admin_pb2.PROJECTION_STATE_FAILING,
}


def _moment(at: datetime | None) -> Timestamp | None:
    return timestamp(at) if at is not None else None


def backup_status_out(b: BackupStatus) -> admin_pb2.BackupStatus:
    out = admin_pb2.BackupStatus(error=b.error)
    if b.archive is not None:
        a = b.archive
        out.MergeFrom(admin_pb2.BackupStatus(
            archiving=a.archiving, archived_count=a.archived_count,
            last_archived_wal=a.last_archived_wal,
            last_archived_time=_moment(a.last_archived_at), archive_age=duration(a.age_s),
            failed_count=a.failed_count, last_failed_wal=a.last_failed_wal,
            last_failed_time=_moment(a.last_failed_at)))
    if b.newest_base_backup is not None:
        out.last_base_backup_time.CopyFrom(timestamp(b.newest_base_backup.ended_at))
        out.last_base_backup_bytes = b.newest_base_backup.size_bytes
    return out


def projection_out(p: ProjectionStatus) -> admin_pb2.Projection:
    return admin_pb2.Projection(
        name=p.name, description=p.description, state=_PROJECTION_STATES[p.state],
        shards=[shard_progress_out(s) for s in p.shards], generation=p.generation)


def _input_type(method: str) -> Descriptor:
    """The request type of "pkg.Service/Method"; INVALID_ARGUMENT when unknown."""
    service, _, name = method.lstrip("/").partition("/")
    try:
        found = descriptor_pool.Default().FindServiceByName(service).methods_by_name[name]
    except KeyError:
        raise InvalidArgument([FieldViolation(
            "method", f"{method!r} is not a method of this gateway "
            "(write it as datagw.v1.Service/Method)")]) from None
    input_type: Descriptor = found.input_type
    return input_type


def explain_args(
    method: str, request: any_pb2.Any
) -> tuple[Consistency | None, float | None, str, dict[str, str]]:
    """The read options and string fields of `request`, which must be the
    method's own request type."""
    input_type = _input_type(method)
    if not request.Is(input_type):
        raise InvalidArgument([FieldViolation(
            "request", f"must be a {input_type.full_name} (\"@type\": "
            f"\"type.googleapis.com/{input_type.full_name}\"), got {request.type_url!r}")])
    msg = message_factory.GetMessageClass(input_type)()
    request.Unpack(msg)
    fields = {f.name: getattr(msg, f.name) for f in input_type.fields
              if f.type == FieldDescriptor.TYPE_STRING and not f.is_repeated}
    if "read_options" not in input_type.fields_by_name:
        return None, None, "", fields
    options: common_pb2.ReadOptions = getattr(msg, "read_options")  # noqa: B009 (any request type)
    level, staleness, token = read_args(options, msg.HasField("read_options"))
    return level, staleness, token, fields


def explanation_out(e: Explanation) -> admin_pb2.ExplainCallResponse:
    plan = e.plan
    return admin_pb2.ExplainCallResponse(
        method=e.method, domain=plan.domain, keyspace=e.keyspace,
        consistency=LEVELS_OUT[plan.level], use_cache=plan.use_cache,
        max_cache_age=duration(plan.max_cache_age_s)
        if plan.use_cache and plan.max_cache_age_s is not None else None,
        replica_allowed=plan.replica_allowed, scatter=plan.scatter,
        shards=[admin_pb2.ShardRoute(shard=r.shard, key_range=r.key_range, node=r.node,
                                     reason=r.reason) for r in e.shards],
        steps=e.steps)


class AdminServicer(admin_pb2_grpc.AdminServiceServicer):
    def __init__(self, domain: AdminDomain, explainer: Explainer,
                 resharding: Resharding, verifier: Verifier) -> None:
        self._domain = domain
        self._explainer = explainer
        self._resharding = resharding
        self._verifier = verifier

    async def GetTopology(
        self, request: admin_pb2.GetTopologyRequest, context: Context
    ) -> admin_pb2.GetTopologyResponse:
        topology = await self._domain.topology()
        return admin_pb2.GetTopologyResponse(
            embedded=topology.embedded,
            backends=[
                admin_pb2.Backend(
                    name=s.name, kind=_KINDS[s.kind], address=s.address, role=s.role,
                    keyspace=s.keyspace, shard=s.shard, healthy=s.healthy,
                    last_error=s.last_error, pool_max_size=s.pool_max_size,
                    pool_size=s.pool_size, pool_in_use=s.pool_in_use, key_range=s.key_range,
                    replay_lsn=s.replay_lsn, timeline=s.timeline,
                    replication_lag=duration(s.replication_lag_s)
                    if s.replication_lag_s is not None else None,
                    backup=backup_status_out(topology.backups[s.keyspace, s.shard])
                    if s.role == "primary" and (s.keyspace, s.shard) in topology.backups
                    else None,
                )
                for s in topology.backends
            ],
            range_map_versions={m.keyspace: m.version for m in topology.maps},
            range_maps=[range_map_out(m) for m in topology.maps],
        )

    async def GetPolicies(
        self, request: admin_pb2.GetPoliciesRequest, context: Context
    ) -> admin_pb2.GetPoliciesResponse:
        policies, generation = self._domain.policies()
        return admin_pb2.GetPoliciesResponse(
            policies=[policy_out(p) for p in policies.domains.values()],
            directory=policies.directory, generation=generation,
        )

    async def ReloadPolicies(
        self, request: admin_pb2.ReloadPoliciesRequest, context: Context
    ) -> admin_pb2.ReloadPoliciesResponse:
        policies, generation = self._domain.reload()
        return admin_pb2.ReloadPoliciesResponse(
            policies=[policy_out(p) for p in policies.domains.values()], generation=generation
        )

    async def FlushCache(
        self, request: admin_pb2.FlushCacheRequest, context: Context
    ) -> admin_pb2.FlushCacheResponse:
        return admin_pb2.FlushCacheResponse(
            deleted_count=await self._domain.flush_cache(request.domain)
        )

    async def ListOrders(
        self, request: admin_pb2.AdminServiceListOrdersRequest, context: Context
    ) -> admin_pb2.AdminServiceListOrdersResponse:
        page = await self._domain.orders.scan(
            ORDER_STATUS_IN.get(request.status),
            timestamp_in(request.start_time, "start_time")
            if request.HasField("start_time") else None,
            timestamp_in(request.end_time, "end_time") if request.HasField("end_time") else None,
            request.page_size, request.page_token)
        return admin_pb2.AdminServiceListOrdersResponse(
            orders=[order_out(o) for o in page.orders], next_page_token=page.next_page_token,
            shards_queried=page.shards_queried)

    async def GetSaga(
        self, request: admin_pb2.GetSagaRequest, context: Context
    ) -> admin_pb2.GetSagaResponse:
        return admin_pb2.GetSagaResponse(
            saga=saga_out(await self._domain.sagas.get_saga(request.saga_id)))

    async def ListStuckSagas(
        self, request: admin_pb2.ListStuckSagasRequest, context: Context
    ) -> admin_pb2.ListStuckSagasResponse:
        older = (duration_in(request.older_than, "older_than")
                 if request.HasField("older_than") else 60.0)
        found, down = await self._domain.stuck_sagas(older, request.limit)
        return admin_pb2.ListStuckSagasResponse(sagas=[saga_out(s) for s in found],
                                                unavailable_shards=down)

    async def GetRelayStatus(
        self, request: admin_pb2.GetRelayStatusRequest, context: Context
    ) -> admin_pb2.GetRelayStatusResponse:
        shards, target, relayed = await self._domain.relay_status()
        return admin_pb2.GetRelayStatusResponse(
            shards=[shard_progress_out(p) for p in shards], target=target,
            events_relayed=relayed)

    async def ListProjections(
        self, request: admin_pb2.ListProjectionsRequest, context: Context
    ) -> admin_pb2.ListProjectionsResponse:
        found = await self._domain.projections()
        return admin_pb2.ListProjectionsResponse(projections=[projection_out(p) for p in found])

    async def RebuildProjection(
        self, request: admin_pb2.RebuildProjectionRequest, context: Context
    ) -> admin_pb2.RebuildProjectionResponse:
        status, replayed = await self._domain.rebuild_projection(request.name)
        return admin_pb2.RebuildProjectionResponse(projection=projection_out(status),
                                                   events_replayed=replayed)

    async def ExplainCall(
        self, request: admin_pb2.ExplainCallRequest, context: Context
    ) -> admin_pb2.ExplainCallResponse:
        method = request.method.lstrip("/")
        level, staleness, token, fields = explain_args(method, request.request)
        return explanation_out(
            self._explainer.explain(method, level, staleness, token, fields))

    async def CreateReshardWorkflow(
        self, request: admin_pb2.CreateReshardWorkflowRequest, context: Context
    ) -> admin_pb2.CreateReshardWorkflowResponse:
        wf = await self._resharding.create(request.keyspace, request.key_range,
                                           request.target_shard, request.workflow)
        return admin_pb2.CreateReshardWorkflowResponse(workflow=workflow_out(wf))

    async def GetReshardWorkflow(
        self, request: admin_pb2.GetReshardWorkflowRequest, context: Context
    ) -> admin_pb2.GetReshardWorkflowResponse:
        return admin_pb2.GetReshardWorkflowResponse(
            workflow=workflow_out(await self._resharding.get(
                lookup_name(request.workflow, "workflow"))))

    async def ListReshardWorkflows(
        self, request: admin_pb2.ListReshardWorkflowsRequest, context: Context
    ) -> admin_pb2.ListReshardWorkflowsResponse:
        found = await self._resharding.workflows(lookup_name(request.keyspace, "keyspace"))
        return admin_pb2.ListReshardWorkflowsResponse(workflows=[workflow_out(w) for w in found])

    async def AddShardServer(
        self, request: admin_pb2.AddShardServerRequest, context: Context
    ) -> admin_pb2.AddShardServerResponse:
        return admin_pb2.AddShardServerResponse(shard=await self._resharding.add_server(
            lookup_name(request.keyspace, "keyspace")))

    async def ReshardWorkflowAction(
        self, request: admin_pb2.ReshardWorkflowActionRequest, context: Context
    ) -> admin_pb2.ReshardWorkflowActionResponse:
        workflow, action = action_request_in(request)
        return admin_pb2.ReshardWorkflowActionResponse(
            workflow=workflow_out(await self._resharding.ask(workflow, action)))

    async def VerifyStores(
        self, request: admin_pb2.VerifyStoresRequest, context: Context
    ) -> admin_pb2.VerifyStoresResponse:
        sample, checks = verify_args(request, self._verifier.settings.sample)
        return report_out(await self._verifier.run(sample, checks))
