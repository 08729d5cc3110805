"""A cross-store consistency report: every store against the ones it is
derived from (docs/operations.md, "Verifying the stores")."""

from __future__ import annotations

from gateway.domain.verify.context import Ages, Stores
from gateway.domain.verify.verifier import Verifier, VerifySettings

__all__ = ["Ages", "Stores", "Verifier", "VerifySettings"]
