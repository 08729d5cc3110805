"""Asking the process that owns running embedded servers to fail a shard over.

`datagw failover` cannot act on servers a running gateway owns: they are its
child processes, and its supervisor would restart a primary stopped behind
its back. So the command leaves a request file in the data dir, the owner's
supervisor thread takes it (`take_request`), runs the failover itself and
writes the outcome beside it (`answer`), and the command waits for that
(`request_failover`). Files, because the command and the gateway share
nothing else but the data dir (the gateway may listen on TLS only, with
client certificates the operator's shell does not hold).
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

__all__ = ["REQUEST_FILE", "FailoverRequest", "answer", "request_failover", "take_request"]

REQUEST_FILE = "failover.request"
# The owner looks every supervisor round (0.2 s): a request not taken by
# then has no owner to take it.
PICKUP_S = 10.0
_POLL_S = 0.1


@dataclass(frozen=True)
class FailoverRequest:
    id: str
    shard: int


def _result_file(data_dir: Path, request_id: str) -> Path:
    return data_dir / f"failover.{request_id}.result"


def _write_new(path: Path, payload: dict[str, object]) -> None:
    """Write `path` whole or not at all, never over an existing one."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    tmp.write_text(json.dumps(payload) + "\n")
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink()


def request_failover(data_dir: Path, shard: int, timeout_s: float = 180.0) -> str:
    """Ask the owner of the servers under `data_dir` to fail `shard` over and
    wait for it; what it did, in words. Raises EmbeddedBackendError when it
    refused, failed, or no owner took the request."""
    request = FailoverRequest(secrets.token_hex(8), shard)
    path = data_dir / REQUEST_FILE
    try:
        _write_new(path, {"id": request.id, "shard": shard})
    except FileExistsError:
        raise EmbeddedBackendError(
            f"another failover request is pending ({path}); wait for it, or remove the file "
            "if no datagw runs on this data dir") from None
    result = _result_file(data_dir, request.id)
    began = time.monotonic()
    while not result.exists():
        waited = time.monotonic() - began
        if path.exists() and waited > PICKUP_S:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            raise EmbeddedBackendError(
                f"no datagw took the failover request within {PICKUP_S:.0f}s: the servers "
                f"under {data_dir} run, but not under a datagw that takes requests (an older "
                "version?); stop them and run datagw failover again")
        if waited > timeout_s:
            raise EmbeddedBackendError(
                f"the failover did not finish within {timeout_s:.0f}s; see the gateway's log")
        time.sleep(_POLL_S)
    outcome = json.loads(result.read_text())
    result.unlink()
    if not outcome["ok"]:
        raise EmbeddedBackendError(str(outcome["message"]))
    return str(outcome["message"])


def take_request(data_dir: Path) -> FailoverRequest | None:
    """The pending request, if any, taken (no one else will run it)."""
    path = data_dir / REQUEST_FILE
    taken = path.with_name(f"{REQUEST_FILE}.taken")
    try:
        path.rename(taken)
    except FileNotFoundError:
        return None
    try:
        raw = json.loads(taken.read_text())
        return FailoverRequest(str(raw["id"]), int(raw["shard"]))
    except (ValueError, KeyError, TypeError):
        # Not ours to guess at: no one waits for a request that cannot be read.
        return None
    finally:
        taken.unlink()


def answer(data_dir: Path, request: FailoverRequest, *, ok: bool, message: str) -> None:
    _write_new(_result_file(data_dir, request.id), {"ok": ok, "message": message})
