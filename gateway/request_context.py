"""Per-call facts that every layer may read without threading them through.

Set by the API interceptor for the duration of one RPC (each RPC runs in its
own task, so the values never leak between calls).
"""

from __future__ import annotations

from contextvars import ContextVar

# Who made the call: its authenticated identity (principal), recorded in
# every event's metadata as the actor.
actor: ContextVar[str] = ContextVar("datagw_actor", default="")
# On whose behalf, as the caller says in the `datagw-actor` metadata header
# (an end user, "user:<id>"): recorded next to the actor, never instead of it.
ACTOR_HEADER = "datagw-actor"
on_behalf_of: ContextVar[str] = ContextVar("datagw_on_behalf_of", default="")
