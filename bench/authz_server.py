"""The gateway of the authorization benchmark (bench/authz.py).

`python -m bench.authz_server ARGS` is `datagw serve ARGS`, with one switch
for the benchmark: after SIGUSR1 the access gate admits every call at once
without looking at it (no identity, no decision, no limits), after SIGUSR2
it works as shipped again. The benchmark measures the same process, on the
same connections, both ways: the same call with and without authorization.
Benchmark-only.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

from gateway.api.auth.gate import AccessGate, Admitted
from gateway.api.auth.identity import ANONYMOUS_IDENTITY
from gateway.runtime import cli

_ADMIT_ALL = Admitted(ANONYMOUS_IDENTITY, holds_slot=False)
_enter = AccessGate.enter
_bypass = False


def _switchable_enter(self: AccessGate, method: str, context: Any, metadata: Any,
                      request: Any) -> Admitted:
    if _bypass:
        return _ADMIT_ALL
    return _enter(self, method, context, metadata, request)


def _switch(signum: int, frame: object) -> None:
    global _bypass
    _bypass = signum == signal.SIGUSR1
    print(f"authz gate {'off' if _bypass else 'on'}", flush=True)


def main() -> int:
    AccessGate.enter = _switchable_enter  # type: ignore[method-assign]
    signal.signal(signal.SIGUSR1, _switch)
    signal.signal(signal.SIGUSR2, _switch)
    return cli.main(["serve", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
