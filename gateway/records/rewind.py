"""Where a database stood in its WAL, as the gateway saw it (docs/backup.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WalPosition:
    system_identifier: str
    timeline: int
    lsn: int

    def to_json(self) -> dict[str, Any]:
        return {"system_identifier": self.system_identifier, "timeline": self.timeline,
                "lsn": self.lsn}

    @staticmethod
    def from_json(d: dict[str, Any]) -> WalPosition:
        return WalPosition(str(d["system_identifier"]), int(d["timeline"]), int(d["lsn"]))
