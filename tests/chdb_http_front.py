"""Embedded mode's analytics engine process (gateway/runtime/embedded/
analytics_server.py) with what only tests need: no password (the tests'
ClickHouse URLs carry none), https with an optional client CA, a throw-away
data dir. For tests that configure `clickhouse.url` (a gateway not in
embedded mode, TLS to ClickHouse, a ClickHouse of their own).

Run: python -m tests.chdb_http_front <data dir> [<cert> <key> [<client CA>]];
it prints its port.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.runtime.embedded.analytics_server import AnalyticsHandler, Engine, make_server


class _Open(AnalyticsHandler):
    def authorised(self) -> bool:
        return True


@contextmanager
def running_front(*tls: str) -> Iterator[int]:
    """This front in a subprocess on a throw-away data dir; its port. `tls`:
    certificate, key and optionally a client CA, as for main()."""
    with tempfile.TemporaryDirectory(prefix="datagw-chfront-") as data:
        proc = subprocess.Popen([sys.executable, "-m", "tests.chdb_http_front", data, *tls],
                                cwd=Path(__file__).resolve().parents[1],
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            yield int(proc.stdout.readline())
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def main() -> None:
    server = make_server(Engine(Path(sys.argv[1])), "", 0, _Open)
    if len(sys.argv) > 2:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        if len(sys.argv) > 4:
            context.load_verify_locations(sys.argv[4])
            context.verify_mode = ssl.CERT_REQUIRED
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
