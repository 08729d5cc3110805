"""Per-call facts that every layer may read without threading them through.

Set by the API interceptor for the duration of one RPC (each RPC runs in its
own task, so the values never leak between calls).
"""

from __future__ import annotations

from contextvars import ContextVar

# Who made the call, as the caller says in the `datagw-actor` metadata header
# (a service name, or "user:<id>"); recorded in every event's metadata.
ACTOR_HEADER = "datagw-actor"
actor: ContextVar[str] = ContextVar("datagw_actor", default="")
