"""Asking the process that owns running embedded servers to act on them
(`datagw failover`, `datagw backup`).

A command cannot act on servers a running gateway owns: they are its child
processes, its supervisor would restart a primary stopped behind its back,
and a backup must not race a failover. So the command leaves a request file
in the data dir (``<kind>.request``), the owner takes it (`take`: its
supervisor thread for failovers, its backup thread for backups), acts, and
writes the outcome beside it (`answer`), which the command waits for
(`ask`). Files, because the command and the gateway share nothing else but
the data dir (the gateway may listen on TLS only, with client certificates
the operator's shell does not hold).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from gateway.runtime.embedded.process import EmbeddedBackendError

__all__ = ["Request", "answer", "ask", "take"]

# The owner looks every round (0.2 s for the supervisor, 1 s for backups):
# a request not taken by then has no owner to take it.
PICKUP_S = 10.0
_POLL_S = 0.1


@dataclass(frozen=True)
class Request:
    id: str
    kind: str
    """What is asked: "failover", "backup"; one pending request per kind."""
    shard: int | None = None


def _request_file(data_dir: Path, kind: str) -> Path:
    return data_dir / f"{kind}.request"


def _result_file(data_dir: Path, request: Request) -> Path:
    return data_dir / f"{request.kind}.{request.id}.result"


def _write_new(path: Path, payload: dict[str, object]) -> None:
    """Write `path` whole or not at all, never over an existing one."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    tmp.write_text(json.dumps(payload) + "\n")
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink()


def ask(data_dir: Path, kind: str, *, shard: int | None = None,
        timeout_s: float = 180.0) -> str:
    """Ask the owner of the servers under `data_dir` for `kind` (of `shard`)
    and wait for it; what it did, in words. Raises EmbeddedBackendError when
    it refused, failed, or no owner took the request."""
    request = Request(secrets.token_hex(8), kind, shard)
    path = _request_file(data_dir, kind)
    try:
        _write_new(path, {"id": request.id, "shard": shard})
    except FileExistsError:
        raise EmbeddedBackendError(
            f"another {kind} request is pending ({path}); wait for it, or remove the file "
            "if no datagw runs on this data dir") from None
    result = _result_file(data_dir, request)
    began = time.monotonic()
    while not result.exists():
        waited = time.monotonic() - began
        if path.exists() and waited > PICKUP_S:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            raise EmbeddedBackendError(
                f"no datagw took the {kind} request within {PICKUP_S:.0f}s: the servers "
                f"under {data_dir} run, but not under a datagw that takes {kind} requests "
                f"(an older version, or not datagw serve?); stop them and run datagw {kind} "
                "again")
        if waited > timeout_s:
            raise EmbeddedBackendError(
                f"the {kind} did not finish within {timeout_s:.0f}s; see the gateway's log")
        time.sleep(_POLL_S)
    outcome = json.loads(result.read_text())
    result.unlink()
    if not outcome["ok"]:
        raise EmbeddedBackendError(str(outcome["message"]))
    return str(outcome["message"])


def take(data_dir: Path, kind: str) -> Request | None:
    """The pending request of `kind`, if any, taken (no one else will run it)."""
    path = _request_file(data_dir, kind)
    taken = path.with_name(f"{path.name}.taken")
    try:
        path.rename(taken)
    except FileNotFoundError:
        return None
    try:
        raw = json.loads(taken.read_text())
        shard = raw["shard"]
        return Request(str(raw["id"]), kind, None if shard is None else int(shard))
    except (ValueError, KeyError, TypeError):
        # Not ours to guess at: no one waits for a request that cannot be read.
        return None
    finally:
        taken.unlink()


def answer(data_dir: Path, request: Request, *, ok: bool, message: str) -> None:
    _write_new(_result_file(data_dir, request), {"ok": ok, "message": message})
