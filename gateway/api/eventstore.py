"""EventStoreService: proto in, domain call, proto out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from datagw.v1 import eventstore_pb2 as pb
from datagw.v1 import eventstore_pb2_grpc

from gateway.api import eventstore_convert as conv
from gateway.api.convert import duration, duration_in
from gateway.domain.events.store import EventStoreDomain
from gateway.domain.events.subscriptions import (
    CaughtUpItem,
    CheckpointItem,
    EventItem,
    Subscriptions,
)
from gateway.errors import FieldViolation, InvalidArgument

Context = grpc.aio.ServicerContext[Any, Any]


class EventStoreServicer(eventstore_pb2_grpc.EventStoreServiceServicer):
    def __init__(self, domain: EventStoreDomain, subscriptions: Subscriptions) -> None:
        self._domain = domain
        self._subscriptions = subscriptions

    async def AppendToStream(
        self, request: pb.AppendToStreamRequest, context: Context
    ) -> pb.AppendToStreamResponse:
        appended = await self._domain.append(
            conv.stream_in(request.stream),
            conv.expected_in(request.expected_revision_kind, request.expected_revision),
            [conv.event_in(e, f"events[{i}]") for i, e in enumerate(request.events)])
        r = appended.result
        return pb.AppendToStreamResponse(
            next_expected_revision=r.last_revision, first_revision=r.first_revision,
            already_appended=r.already_appended, consistency_token=appended.consistency_token)

    async def ReadStream(
        self, request: pb.ReadStreamRequest, context: Context
    ) -> pb.ReadStreamResponse:
        read = await self._domain.read_stream(
            conv.stream_in(request.stream),
            request.direction != pb.READ_DIRECTION_BACKWARD,
            request.from_revision if request.HasField("from_revision") else None,
            request.limit)
        return pb.ReadStreamResponse(events=conv.events_out(read.events),
                                     last_revision=read.last_revision,
                                     end_of_stream=read.end_of_stream)

    async def ReadAll(self, request: pb.ReadAllRequest, context: Context) -> pb.ReadAllResponse:
        read = await self._domain.read_all(conv.position_in(request.after), request.limit,
                                           conv.filter_in(request.filter))
        return pb.ReadAllResponse(events=conv.events_out(read.events),
                                  position=conv.position_out(read.position),
                                  end_of_all=read.end_of_all)

    async def SubscribeToStream(
        self, request: pb.SubscribeToStreamRequest, context: Context
    ) -> AsyncIterator[pb.SubscribeToStreamResponse]:
        items = self._subscriptions.subscribe_stream(
            conv.stream_in(request.stream),
            request.after_revision if request.HasField("after_revision") else None)
        async for item in items:
            if isinstance(item, EventItem):
                yield pb.SubscribeToStreamResponse(event=conv.recorded_out(item.recorded))
            elif isinstance(item, CaughtUpItem):
                yield pb.SubscribeToStreamResponse(caught_up=pb.CaughtUp())

    async def SubscribeToAll(
        self, request: pb.SubscribeToAllRequest, context: Context
    ) -> AsyncIterator[pb.SubscribeToAllResponse]:
        items = self._subscriptions.subscribe_all(
            conv.position_in(request.after), conv.filter_in(request.filter),
            duration_in(request.checkpoint_interval, "checkpoint_interval")
            if request.HasField("checkpoint_interval") else None)
        async for item in items:
            if isinstance(item, EventItem):
                yield pb.SubscribeToAllResponse(event=conv.recorded_out(item.recorded))
            elif isinstance(item, CaughtUpItem):
                yield pb.SubscribeToAllResponse(
                    caught_up=pb.CaughtUp(position=conv.position_out(item.position)))
            elif isinstance(item, CheckpointItem):
                yield pb.SubscribeToAllResponse(
                    checkpoint=pb.Checkpoint(position=conv.position_out(item.position),
                                             lag=duration(item.lag_s)))

    async def GetStreamMetadata(
        self, request: pb.GetStreamMetadataRequest, context: Context
    ) -> pb.GetStreamMetadataResponse:
        state = await self._domain.metadata(conv.stream_in(request.stream))
        meta = state.metadata
        retention = pb.StreamRetention(max_count=meta.max_count)
        if meta.max_age_s is not None:
            retention.max_age.CopyFrom(duration(meta.max_age_s))
        return pb.GetStreamMetadataResponse(
            last_revision=state.revision, retention=retention, deleted=meta.deleted,
            tombstoned=meta.tombstoned, truncate_before=state.first_visible())

    async def SetStreamMetadata(
        self, request: pb.SetStreamMetadataRequest, context: Context
    ) -> pb.SetStreamMetadataResponse:
        r = request.retention
        await self._domain.set_retention(
            conv.stream_in(request.stream),
            duration_in(r.max_age, "retention.max_age") if r.HasField("max_age") else None,
            r.max_count)
        return pb.SetStreamMetadataResponse()

    async def DeleteStream(
        self, request: pb.DeleteStreamRequest, context: Context
    ) -> pb.DeleteStreamResponse:
        await self._domain.delete(
            conv.stream_in(request.stream),
            conv.expected_in(request.expected_revision_kind, request.expected_revision))
        return pb.DeleteStreamResponse()

    async def TombstoneStream(
        self, request: pb.TombstoneStreamRequest, context: Context
    ) -> pb.TombstoneStreamResponse:
        await self._domain.tombstone(
            conv.stream_in(request.stream),
            conv.expected_in(request.expected_revision_kind, request.expected_revision))
        return pb.TombstoneStreamResponse()

    async def GetAuditTrail(
        self, request: pb.GetAuditTrailRequest, context: Context
    ) -> pb.GetAuditTrailResponse:
        entity = conv.entity_in(request.entity_type)
        if not entity:
            raise InvalidArgument([FieldViolation("entity_type", "must be ORDER, PAYMENT or USER")])
        page = await self._domain.audit_trail(entity, request.entity_id, request.page_size,
                                              request.page_token)
        return pb.GetAuditTrailResponse(entries=[conv.audit_out(r) for r in page.entries],
                                        next_page_token=page.next_page_token)
