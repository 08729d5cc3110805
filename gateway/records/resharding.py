"""The values of resharding: a workflow moving one range between shards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    """Where a workflow stands (docs/resharding.md has what each guarantees)."""

    COPYING = "copying"          # capture on; the range's rows copied from one snapshot
    CATCHING_UP = "catching_up"  # the source serves; its changes are applied to the target
    SWITCHING = "switching"      # cutover: source frozen, last changes applied, map bumped
    SWITCHED = "switched"        # the target serves; its changes flow back (reversible)
    REVERSING = "reversing"      # cutover back to the source
    CLEANING = "cleaning"        # the source's copy of the range is deleted
    DONE = "done"
    CANCELLING = "cancelling"    # the target's copy is deleted, the capture stopped
    CANCELLED = "cancelled"


FINISHED = (Phase.DONE, Phase.CANCELLED)


class Action(StrEnum):
    VERIFY = "verify"
    SWITCH = "switch"
    REVERSE = "reverse"
    CLEANUP = "cleanup"
    CANCEL = "cancel"


# The phases each action may be asked in.
ALLOWED: dict[Action, tuple[Phase, ...]] = {
    Action.VERIFY: (Phase.CATCHING_UP, Phase.SWITCHED),
    Action.SWITCH: (Phase.CATCHING_UP,),
    Action.REVERSE: (Phase.SWITCHED,),
    Action.CLEANUP: (Phase.SWITCHED,),
    Action.CANCEL: (Phase.COPYING, Phase.CATCHING_UP),
}


@dataclass(frozen=True)
class TableCheck:
    """One table's rows of the range on both sides, counted and summed."""

    table: str
    source_rows: int
    target_rows: int
    source_sum: str
    target_sum: str

    @property
    def equal(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


@dataclass(frozen=True)
class Workflow:
    workflow: str
    keyspace: str
    key_range: str
    source: int
    target: int
    phase: Phase
    requested: str = ""
    error: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def serving(self) -> int:
        """The shard whose copy of the range is authoritative now."""
        return self.target if self.phase in (Phase.SWITCHED, Phase.CLEANING, Phase.DONE,
                                             Phase.REVERSING) else self.source
