"""What each RPC is: the facts that authorization, retries, docs and explain need.

The services table (runtime/services.py) gives every method of every service
one MethodFacts; this module only says what a fact means. Nothing here
performs I/O or knows a proto.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Access(enum.Enum):
    # Reads data; changes nothing.
    READ = "read"
    # Changes data of the domain.
    WRITE = "write"
    # Operates the gateway itself (topology, policies, caches, projections).
    ADMIN = "admin"


class RouteKind(enum.Enum):
    # A shard key field of the request (user_id), hashed to a keyspace id.
    KEY = "key"
    # An id field that carries its keyspace id (order and payment ids).
    ID = "id"
    # The keyspace's one shard (catalog, inventory).
    UNSHARDED = "unsharded"
    # Every shard of the keyspace, merged (refused where the policy forbids it).
    SCATTER = "scatter"


@dataclass(frozen=True)
class ReadRoute:
    """How a policy-planned database read finds its shard."""

    kind: RouteKind
    # The request field that routes (KEY and ID).
    field: str = ""
    # ID: the id's kind letter ("o" for orders, "p" for payments).
    id_kind: str = ""
    # The policy domain that plans the read when it is not the service's own
    # (AdminService.ListOrders reads the orders domain).
    domain: str | None = None


@dataclass(frozen=True)
class MethodFacts:
    access: Access
    # Operating the gateway, every user's data, or a destructive operation:
    # the access policy denies it unless a rule grants it by name.
    sensitive: bool = False
    # Safe to retry as is: a read, or a write deduplicated by its request_id
    # (or by event ids).
    idempotent: bool = False
    # Reads whose consistency, cache and shard the policy plans (ReadOptions);
    # these are the calls `datagw explain` explains.
    route: ReadRoute | None = None


def read(route: ReadRoute | None = None, *, sensitive: bool = False) -> MethodFacts:
    return MethodFacts(Access.READ, sensitive=sensitive, idempotent=True, route=route)


def write(*, idempotent: bool = True, sensitive: bool = False) -> MethodFacts:
    return MethodFacts(Access.WRITE, sensitive=sensitive, idempotent=idempotent)


def admin(*, idempotent: bool = False, route: ReadRoute | None = None) -> MethodFacts:
    # Operating the gateway (its topology, policies, caches, every user's
    # orders) is for operators only: every admin method is sensitive.
    return MethodFacts(Access.ADMIN, sensitive=True, idempotent=idempotent, route=route)
