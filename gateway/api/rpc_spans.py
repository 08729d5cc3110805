"""The name and attributes of each method's server span, by the semantic
conventions for gRPC, plus the policy domain and keyspace the method serves.

The rpc.* attributes are those the deployed tracing backends key on
(rpc.system, rpc.service, rpc.method, rpc.grpc.status_code), with the
current conventions' rpc.system.name and rpc.response.status_code beside
them. The domain and keyspace come from the services table, set once here
and never by the work inside the call (telemetry.annotate).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from opentelemetry.semconv._incubating.attributes.rpc_attributes import (
    RPC_METHOD,
    RPC_SERVICE,
    RPC_SYSTEM,
    RPC_SYSTEM_NAME,
)
from opentelemetry.util.types import AttributeValue

GRPC = "grpc"


@dataclass(frozen=True)
class SpanShape:
    # "datagw.v1.CatalogService/GetProduct"
    name: str
    attributes: Mapping[str, AttributeValue]
    # The policy domain of the method (None: the admin API).
    domain: str | None


class SpanShapes:
    """Each method's SpanShape, worked out on its first call."""

    def __init__(self, method_domains: Mapping[str, str | None]) -> None:
        self._domains = method_domains
        self._keyspaces: Mapping[str, str] = {}
        self._shapes: dict[str, SpanShape] = {}

    def set_keyspaces(self, keyspaces: Mapping[str, str]) -> None:
        """The keyspace of each domain, known once the backends are open."""
        self._keyspaces = keyspaces
        self._shapes.clear()

    def of(self, method: str) -> SpanShape:
        shape = self._shapes.get(method)
        if shape is None:
            shape = self._shapes[method] = self._shape(method)
        return shape

    def _shape(self, method: str) -> SpanShape:
        name = method.lstrip("/")
        service, _, short = name.rpartition("/")
        domain = self._domains.get(method)
        attributes: dict[str, AttributeValue] = {
            RPC_SYSTEM: GRPC, RPC_SYSTEM_NAME: GRPC, RPC_SERVICE: service, RPC_METHOD: short,
        }
        if domain is not None:
            attributes["datagw.domain"] = domain
            keyspace = self._keyspaces.get(domain)
            if keyspace is not None:
                attributes["datagw.keyspace"] = keyspace
        return SpanShape(name, attributes, domain)
