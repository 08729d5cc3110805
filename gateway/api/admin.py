"""AdminService: proto in, domain call, proto out."""

from __future__ import annotations

from typing import Any

import grpc
from datagw.v1 import admin_pb2, admin_pb2_grpc

from gateway.api.convert import policy_out
from gateway.domain.admin import AdminDomain

Context = grpc.aio.ServicerContext[Any, Any]

_KINDS = {
    "postgres": admin_pb2.BACKEND_KIND_POSTGRES,
    "redis": admin_pb2.BACKEND_KIND_REDIS,
    "clickhouse": admin_pb2.BACKEND_KIND_CLICKHOUSE,
}


class AdminServicer(admin_pb2_grpc.AdminServiceServicer):
    def __init__(self, domain: AdminDomain) -> None:
        self._domain = domain

    async def GetTopology(
        self, request: admin_pb2.GetTopologyRequest, context: Context
    ) -> admin_pb2.GetTopologyResponse:
        statuses, embedded = self._domain.topology()
        return admin_pb2.GetTopologyResponse(
            embedded=embedded,
            backends=[
                admin_pb2.Backend(
                    name=s.name, kind=_KINDS[s.kind], address=s.address, role=s.role,
                    keyspace=s.keyspace, shard=s.shard, healthy=s.healthy,
                    last_error=s.last_error, pool_max_size=s.pool_max_size,
                    pool_size=s.pool_size, pool_in_use=s.pool_in_use,
                )
                for s in statuses
            ],
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
