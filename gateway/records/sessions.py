"""A session as the sessions domain sees it, with its stored encoding."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SessionRecord:
    session_id: str
    user_id: str
    data: dict[str, str] = field(default_factory=dict)
    create_ms: int = 0
    expire_ms: int = 0
    last_access_ms: int = 0
    # The lifetime asked for at creation; sliding and touch restart this one,
    # so a short-lived session is not stretched to the policy's ttl by a read.
    ttl_ms: int = 0

    def encode(self) -> str:
        return json.dumps(
            {"user_id": self.user_id, "data": self.data, "create_ms": self.create_ms,
             "expire_ms": self.expire_ms, "last_access_ms": self.last_access_ms,
             "ttl_ms": self.ttl_ms},
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, session_id: str, raw: bytes | str) -> SessionRecord:
        d: dict[str, Any] = json.loads(raw)
        data = d.get("data") or {}
        create_ms, expire_ms = int(d["create_ms"]), int(d["expire_ms"])
        # Sessions stored before ttl_ms existed: their first lifetime is the best guess.
        ttl_ms = int(d.get("ttl_ms") or expire_ms - create_ms)
        return cls(session_id, d["user_id"], dict(data), create_ms, expire_ms,
                   int(d["last_access_ms"]), ttl_ms)
