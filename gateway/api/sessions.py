"""SessionService: proto in, domain call, proto out."""

from __future__ import annotations

from typing import Any

import grpc
from datagw.v1 import session_pb2, session_pb2_grpc

from gateway.api.convert import duration_in, session_out, timestamp_ms
from gateway.domain.sessions import SessionsDomain

Context = grpc.aio.ServicerContext[Any, Any]


class SessionServicer(session_pb2_grpc.SessionServiceServicer):
    def __init__(self, domain: SessionsDomain) -> None:
        self._domain = domain

    async def CreateSession(
        self, request: session_pb2.CreateSessionRequest, context: Context
    ) -> session_pb2.CreateSessionResponse:
        ttl = duration_in(request.ttl, "ttl") if request.HasField("ttl") else None
        s = await self._domain.create(request.user_id, dict(request.data), ttl)
        return session_pb2.CreateSessionResponse(session=session_out(s))

    async def GetSession(
        self, request: session_pb2.GetSessionRequest, context: Context
    ) -> session_pb2.GetSessionResponse:
        return session_pb2.GetSessionResponse(
            session=session_out(await self._domain.get(request.session_id))
        )

    async def UpdateSession(
        self, request: session_pb2.UpdateSessionRequest, context: Context
    ) -> session_pb2.UpdateSessionResponse:
        s = await self._domain.update(
            request.session_id, dict(request.data), list(request.remove_keys)
        )
        return session_pb2.UpdateSessionResponse(session=session_out(s))

    async def TouchSession(
        self, request: session_pb2.TouchSessionRequest, context: Context
    ) -> session_pb2.TouchSessionResponse:
        s = await self._domain.touch(request.session_id)
        return session_pb2.TouchSessionResponse(expire_time=timestamp_ms(s.expire_ms))

    async def DeleteSession(
        self, request: session_pb2.DeleteSessionRequest, context: Context
    ) -> session_pb2.DeleteSessionResponse:
        await self._domain.delete(request.session_id)
        return session_pb2.DeleteSessionResponse()

    async def ListUserSessions(
        self, request: session_pb2.ListUserSessionsRequest, context: Context
    ) -> session_pb2.ListUserSessionsResponse:
        sessions = await self._domain.list_for_user(request.user_id)
        return session_pb2.ListUserSessionsResponse(sessions=[session_out(s) for s in sessions])

    async def DeleteUserSessions(
        self, request: session_pb2.DeleteUserSessionsRequest, context: Context
    ) -> session_pb2.DeleteUserSessionsResponse:
        count = await self._domain.delete_for_user(request.user_id)
        return session_pb2.DeleteUserSessionsResponse(deleted_count=count)
