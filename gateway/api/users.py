"""UserService: proto in, domain call, proto out."""

from __future__ import annotations

from typing import Any

import grpc
from datagw.v1 import user_pb2, user_pb2_grpc

from gateway.api.commerce_convert import money, user_out
from gateway.api.convert import read_args, timestamp
from gateway.domain.users.erasure import ErasureDomain
from gateway.domain.users.service import UsersDomain
from gateway.records.commerce import UserRecord

Context = grpc.aio.ServicerContext[Any, Any]


class UserServicer(user_pb2_grpc.UserServiceServicer):
    def __init__(self, domain: UsersDomain, erasure: ErasureDomain) -> None:
        self._domain = domain
        self._erasure = erasure

    def _out(self, user: UserRecord) -> user_pb2.User:
        return user_out(user, self._domain.shard_index(user.user_id))

    async def CreateUser(
        self, request: user_pb2.CreateUserRequest, context: Context
    ) -> user_pb2.CreateUserResponse:
        user, token = await self._domain.create(
            request.user_id, request.email, request.display_name, request.request_id)
        return user_pb2.CreateUserResponse(user=self._out(user), consistency_token=token)

    async def GetUser(
        self, request: user_pb2.GetUserRequest, context: Context
    ) -> user_pb2.GetUserResponse:
        user = await self._domain.get(
            request.user_id, *read_args(request.read_options, request.HasField("read_options")))
        return user_pb2.GetUserResponse(user=self._out(user))

    async def GetUserByEmail(
        self, request: user_pb2.GetUserByEmailRequest, context: Context
    ) -> user_pb2.GetUserByEmailResponse:
        user = await self._domain.get_by_email(
            request.email, *read_args(request.read_options, request.HasField("read_options")))
        return user_pb2.GetUserByEmailResponse(user=self._out(user))

    async def UpdateUser(
        self, request: user_pb2.UpdateUserRequest, context: Context
    ) -> user_pb2.UpdateUserResponse:
        user, token = await self._domain.update(
            request.user_id,
            request.email if request.HasField("email") else None,
            request.display_name if request.HasField("display_name") else None,
            request.expected_version if request.HasField("expected_version") else None,
            request.request_id)
        return user_pb2.UpdateUserResponse(user=self._out(user), consistency_token=token)

    async def GetUserSummary(
        self, request: user_pb2.GetUserSummaryRequest, context: Context
    ) -> user_pb2.GetUserSummaryResponse:
        found = await self._domain.summary(request.user_id)
        return user_pb2.GetUserSummaryResponse(
            summary=user_pb2.UserSummary(
                user_id=found.user_id, order_count=found.order_count,
                total_spent=[money(amount, currency)
                             for currency, amount in sorted(found.spent_minor.items())],
                last_order_id=found.last_order_id,
                last_order_time=timestamp(found.last_order_at) if found.last_order_at else None,
                cancelled_count=found.cancelled_count),
            projected_through=(timestamp(found.projected_through)
                               if found.projected_through else None))

    async def EraseUser(
        self, request: user_pb2.EraseUserRequest, context: Context
    ) -> user_pb2.EraseUserResponse:
        erasure = await self._erasure.erase(request.user_id, request.reason, request.request_id)
        return user_pb2.EraseUserResponse(erase_time=timestamp(erasure.erase_time),
                                          orders_anonymised=erasure.orders_anonymised,
                                          consistency_token=erasure.consistency_token)
