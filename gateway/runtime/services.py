"""The services table: every gRPC service of datagw, once.

An entry says which proto service it is, which policy domain it follows,
what its health depends on, what each of its methods is (read or write,
sensitive, idempotent, how a read is routed) and how its servicer is built
from the wiring. The policy domains the gateway loads, the health names,
the servicers registered, the reflection list and `datagw explain` all derive
from this table; tests/unit/test_services_table.py fails when a service is
registered without an entry or a method lacks its facts.

Adding a service: its proto, a servicer in api/, its domain package, one
entry here (see ARCHITECTURE.md).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from datagw.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    analytics_pb2,
    analytics_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    eventstore_pb2,
    eventstore_pb2_grpc,
    inventory_pb2,
    inventory_pb2_grpc,
    order_pb2,
    order_pb2_grpc,
    payment_pb2,
    payment_pb2_grpc,
    session_pb2,
    session_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor, ServiceDescriptor

from gateway.api.admin import AdminServicer
from gateway.api.analytics import AnalyticsServicer
from gateway.api.catalog import CatalogServicer
from gateway.api.eventstore import EventStoreServicer
from gateway.api.inventory import InventoryServicer
from gateway.api.orders import OrderServicer
from gateway.api.payments import PaymentServicer
from gateway.api.sessions import SessionServicer
from gateway.api.users import UserServicer
from gateway.domain.explain import PlannedRead
from gateway.policy.access import MethodEntry
from gateway.policy.methods import (
    MethodFacts,
    ReadRoute,
    RouteKind,
    admin,
    read,
    write,
)
from gateway.policy.model import PolicyCatalog
from gateway.runtime.wiring import Wiring


class Health(enum.Enum):
    """What a service's SERVING status follows."""

    # Always SERVING while the process serves (the admin API).
    ALWAYS = "always"
    # SERVING while any shard of its domain's keyspace is healthy.
    KEYSPACE = "keyspace"
    # SERVING while Redis answers (sessions live only there).
    REDIS = "redis"
    # SERVING while any shard holding events is healthy.
    EVENT_SHARDS = "event_shards"
    # SERVING while the analytics store answers.
    ANALYTICS = "analytics"


@dataclass(frozen=True)
class ServiceEntry:
    descriptor: ServiceDescriptor
    # The policy domain whose file configures it; None for the admin API.
    domain: str | None
    health: Health
    methods: Mapping[str, MethodFacts]
    # The servicer on the wiring, and the generated function that adds it.
    build: Callable[[Wiring], Any]
    add: Callable[[Any, grpc.aio.Server], None]

    @property
    def name(self) -> str:
        return self.descriptor.full_name

    def register(self, wiring: Wiring, server: grpc.aio.Server) -> None:
        self.add(self.build(wiring), server)


def _service(module: Any, name: str) -> ServiceDescriptor:
    descriptor: ServiceDescriptor = module.DESCRIPTOR.services_by_name[name]
    return descriptor


_BY_USER = ReadRoute(RouteKind.KEY, "user_id")
_ORDER_ID = ReadRoute(RouteKind.ID, "order_id", id_kind="o")
_UNSHARDED = ReadRoute(RouteKind.UNSHARDED)

SERVICES: tuple[ServiceEntry, ...] = (
    ServiceEntry(
        _service(catalog_pb2, "CatalogService"), "catalog", Health.KEYSPACE,
        {"UpsertProduct": write(), "GetProduct": read(_UNSHARDED),
         "BatchGetProducts": read(_UNSHARDED), "DeleteProduct": write(),
         "SearchProducts": read(_UNSHARDED), "ImportProducts": write(idempotent=False),
         "SuggestProducts": read(_UNSHARDED)},
        lambda w: CatalogServicer(w.catalog),
        catalog_pb2_grpc.add_CatalogServiceServicer_to_server),
    ServiceEntry(
        _service(session_pb2, "SessionService"), "sessions", Health.REDIS,
        {"CreateSession": write(idempotent=False), "GetSession": read(),
         "UpdateSession": write(idempotent=False), "TouchSession": write(idempotent=False),
         "DeleteSession": write(idempotent=False), "ListUserSessions": read(),
         "DeleteUserSessions": write(idempotent=False)},
        lambda w: SessionServicer(w.sessions),
        session_pb2_grpc.add_SessionServiceServicer_to_server),
    ServiceEntry(
        _service(user_pb2, "UserService"), "users", Health.KEYSPACE,
        {"CreateUser": write(), "GetUser": read(_BY_USER),
         "GetUserByEmail": read(ReadRoute(RouteKind.KEY, "email")),
         "UpdateUser": write(), "GetUserSummary": read(),
         "EraseUser": write(sensitive=True)},
        lambda w: UserServicer(w.users, w.erasure),
        user_pb2_grpc.add_UserServiceServicer_to_server),
    ServiceEntry(
        _service(order_pb2, "OrderService"), "orders", Health.KEYSPACE,
        {"CreateOrder": write(), "GetOrder": read(_ORDER_ID), "ListOrders": read(_BY_USER),
         "UpdateOrderStatus": write(), "CancelOrder": write()},
        lambda w: OrderServicer(w.orders),
        order_pb2_grpc.add_OrderServiceServicer_to_server),
    ServiceEntry(
        _service(payment_pb2, "PaymentService"), "payments", Health.KEYSPACE,
        {"AuthorizePayment": write(), "CapturePayment": write(), "RefundPayment": write(),
         "VoidPayment": write(),
         "GetPayment": read(ReadRoute(RouteKind.ID, "payment_id", id_kind="p")),
         "ListPayments": read(_ORDER_ID)},
        lambda w: PaymentServicer(w.payments),
        payment_pb2_grpc.add_PaymentServiceServicer_to_server),
    ServiceEntry(
        _service(inventory_pb2, "InventoryService"), "inventory", Health.KEYSPACE,
        # Reservations are keyed by the caller's reservation_id: a retry finds
        # the reservation it made.
        {"SetStock": write(), "AdjustStock": write(), "GetStock": read(_UNSHARDED),
         "ReserveStock": write(), "CommitReservation": write(),
         "ReleaseReservation": write()},
        lambda w: InventoryServicer(w.inventory),
        inventory_pb2_grpc.add_InventoryServiceServicer_to_server),
    ServiceEntry(
        _service(eventstore_pb2, "EventStoreService"), "events", Health.EVENT_SHARDS,
        # Appends are idempotent by event id.
        {"AppendToStream": write(), "ReadStream": read(), "ReadAll": read(),
         "SubscribeToStream": read(), "SubscribeToAll": read(), "GetStreamMetadata": read(),
         "SetStreamMetadata": write(), "DeleteStream": write(sensitive=True),
         "TombstoneStream": write(sensitive=True), "GetAuditTrail": read()},
        lambda w: EventStoreServicer(w.event_store, w.subscriptions),
        eventstore_pb2_grpc.add_EventStoreServiceServicer_to_server),
    ServiceEntry(
        _service(analytics_pb2, "AnalyticsService"), "analytics", Health.ANALYTICS,
        {"IngestEvents": write(idempotent=False), "SalesSummary": read(),
         "TopProducts": read(), "ConversionFunnel": read(), "ActiveUsers": read(),
         "RunQuery": read(sensitive=True)},
        lambda w: AnalyticsServicer(w.analytics),
        analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server),
    ServiceEntry(
        _service(admin_pb2, "AdminService"), None, Health.ALWAYS,
        {"GetTopology": admin(idempotent=True), "GetPolicies": admin(idempotent=True),
         "ReloadPolicies": admin(idempotent=True), "FlushCache": admin(idempotent=True),
         "ListOrders": admin(idempotent=True,
                             route=ReadRoute(RouteKind.SCATTER, domain="orders")),
         "GetSaga": admin(idempotent=True), "ListStuckSagas": admin(idempotent=True),
         "ListProjections": admin(idempotent=True),
         "RebuildProjection": admin(), "GetRelayStatus": admin(idempotent=True),
         "ExplainCall": admin(idempotent=True),
         # A create is not replayable: a retry after a lost answer would
         # meet its own workflow (WORKFLOW_ACTIVE). Asking an action twice
         # records it twice, which is harmless, but a retry may land after
         # the phase moved on (WRONG_PHASE): the caller should re-read.
         "CreateReshardWorkflow": admin(), "GetReshardWorkflow": admin(idempotent=True),
         "ListReshardWorkflows": admin(idempotent=True), "ReshardWorkflowAction": admin(),
         "AddShardServer": admin(), "VerifyStores": admin(idempotent=True)},
        lambda w: AdminServicer(w.admin, w.explainer, w.resharding, w.verifier),
        admin_pb2_grpc.add_AdminServiceServicer_to_server),
)

# The policy domains the gateway loads and requires, one per domain service.
POLICY_DOMAINS: tuple[str, ...] = tuple(e.domain for e in SERVICES if e.domain is not None)
SERVICE_NAMES: tuple[str, ...] = tuple(e.name for e in SERVICES)
# The policy domain of each method, "/pkg.Service/Method" as gRPC names it
# (None: the admin API): its server span's datagw.domain.
METHOD_DOMAINS: dict[str, str | None] = {
    f"/{e.name}/{method}": e.domain for e in SERVICES for method in e.methods}


def _method_entry(service: ServiceEntry, method: MethodDescriptor) -> MethodEntry:
    strings = frozenset(f.name for f in method.input_type.fields
                        if f.type == FieldDescriptor.TYPE_STRING and not f.is_repeated)
    return MethodEntry(f"{service.name}/{method.name}", service.methods[method.name], strings,
                       unary_request=not method.client_streaming)


# What a policy directory is checked against: the domains to configure and
# the methods that access rules may name.
POLICY_CATALOG = PolicyCatalog(
    domains=POLICY_DOMAINS,
    methods=tuple(_method_entry(e, m) for e in SERVICES for m in e.descriptor.methods))


def planned_reads() -> dict[str, PlannedRead]:
    """Every read the policy plans, by "pkg.Service/Method": what ExplainCall explains."""
    out: dict[str, PlannedRead] = {}
    for entry in SERVICES:
        for method, facts in entry.methods.items():
            if facts.route is None:
                continue
            domain = facts.route.domain or entry.domain
            assert domain is not None, f"{entry.name}/{method}: a route needs a domain"
            out[f"{entry.name}/{method}"] = PlannedRead(domain, facts.route)
    return out


def method_facts(full_method: str) -> tuple[ServiceEntry, MethodFacts] | None:
    """The entry and facts of "/pkg.Service/Method" or "pkg.Service/Method"."""
    service, _, method = full_method.lstrip("/").partition("/")
    for entry in SERVICES:
        if entry.name == service and method in entry.methods:
            return entry, entry.methods[method]
    return None
