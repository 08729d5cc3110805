"""Per-call facts that every layer may read without threading them through.

Set by the API interceptor for the duration of one RPC (each RPC runs in its
own task, so the values never leak between calls).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Who made the call: its authenticated identity (principal), recorded in
# every event's metadata as the actor.
actor: ContextVar[str] = ContextVar("datagw_actor", default="")
# On whose behalf, as the caller says in the `datagw-actor` metadata header
# (an end user, "user:<id>"): recorded next to the actor, never instead of it.
ACTOR_HEADER = "datagw-actor"
on_behalf_of: ContextVar[str] = ContextVar("datagw_on_behalf_of", default="")

# When the backend work of this call must be over, in event-loop time (None:
# no bound, e.g. a background job or a stream). A little before the caller's
# deadline, so a backend that does not answer ends the call with UNAVAILABLE
# naming the backend, while the caller is still listening.
backend_deadline: ContextVar[float | None] = ContextVar("datagw_backend_deadline", default=None)

# The part of a call's budget kept back for answering: at most this much, and
# at most a tenth of the budget.
ANSWER_MARGIN_S = 0.05


# The call's whole budget in seconds, for the errors that report it.
call_budget_s: ContextVar[float | None] = ContextVar("datagw_call_budget_s", default=None)


def set_call_budget(now: float, budget_s: float) -> None:
    """Start the call's backend deadline: `budget_s` from `now`, less the margin."""
    call_budget_s.set(budget_s)
    backend_deadline.set(now + budget_s - min(ANSWER_MARGIN_S, budget_s * 0.1))


@contextmanager
def within(now: float, seconds: float) -> Iterator[None]:
    """Tighten the backend deadline to at most `seconds` from `now` inside the
    block (a replica attempt, one probe round); the call's own deadline still
    applies when it is sooner."""
    current = backend_deadline.get()
    limit = now + seconds if current is None else min(current, now + seconds)
    token = backend_deadline.set(limit)
    try:
        yield
    finally:
        backend_deadline.reset(token)
