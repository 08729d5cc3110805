"""The gateway of the authorization benchmark (bench/authz.py).

`python -m bench.authz_server ARGS` is `datagw serve ARGS`; with `--no-gate`
the access gate admits every call at once without looking at it (no
identity, no decision, no limits): the same call without authorization,
which is the baseline the benchmark compares with. Benchmark-only.
"""

from __future__ import annotations

import sys
from typing import Any

from gateway.api.auth.gate import AccessGate, Admitted
from gateway.api.auth.identity import ANONYMOUS_IDENTITY
from gateway.runtime import cli

_ADMIT_ALL = Admitted(ANONYMOUS_IDENTITY, holds_slot=False)


def _admit_all(self: AccessGate, method: str, context: Any, metadata: Any,
               request: Any) -> Admitted:
    return _ADMIT_ALL


def main() -> int:
    argv = sys.argv[1:]
    if "--no-gate" in argv:
        argv.remove("--no-gate")
        AccessGate.enter = _admit_all  # type: ignore[method-assign]
    return cli.main(["serve", *argv])


if __name__ == "__main__":
    sys.exit(main())
