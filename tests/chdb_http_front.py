"""A test-only HTTP front for chdb: enough of ClickHouse's HTTP interface for
clickhouse-connect, so the server backend's code path (HTTP requests, URL
parameters and settings, compressed Native insert bodies, Native results,
errors from headers and bodies, an unreachable host) runs in CI against
ClickHouse's real engine without a ClickHouse server.

It is NOT a ClickHouse server: one process, one chdb engine, requests
serialised, no users, no sessions, no streaming. Per-request settings are
scoped the way chdb allows (a SETTINGS clause on the statement), so what it
shows about settings is chdb's behaviour, not the server's HTTP handler's.
A real server is tested when DATAGW_TEST_CLICKHOUSE_URL is set.

Run: python -m tests.chdb_http_front <data dir> [<cert> <key> [<client CA>]];
it prints its port. With a certificate and key it speaks https; with a client
CA too it requires a client certificate signed by that CA.
"""

from __future__ import annotations

import gzip
import json
import re
import ssl
import subprocess
import sys
import tempfile
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import lz4.frame

# What the HTTP handler consumes itself; every other URL argument is a setting.
_TRANSPORT = {
    "query", "database", "default_format", "compress", "decompress", "session_id",
    "session_timeout", "session_check", "query_id", "quota_key", "buffer_size",
    "wait_end_of_query", "client_protocol_version", "user", "password", "role",
    "send_progress_in_http_headers", "http_headers_progress_interval_ms",
    "enable_http_compression", "http_zlib_compression_level",
}
_TRAILING_FORMAT = re.compile(r"\s+FORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
_INSERT_DATA = re.compile(rb"^\s*INSERT\s+INTO\s+(.+?)\s+FORMAT\s+(\w+)[ \t]*(?:\n|$)",
                          re.IGNORECASE | re.DOTALL)
_CODE = re.compile(r"Code: (\d+)")

_DECODERS = {
    "lz4": lz4.frame.decompress, "gzip": gzip.decompress, "deflate": zlib.decompress,
}


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Front:
    def __init__(self, path: str) -> None:
        import chdb

        self.conn: Any = chdb.connect(path)
        self.lock = threading.Lock()
        self.timezone = str(self.conn.query("SELECT timezone()", "TabSeparated")).strip()

    def run(self, args: dict[str, str], body: bytes) -> tuple[bytes, str | None]:
        """Returns the body and its format (None: no result set)."""
        with self.lock:
            try:
                return self._run(args, body)
            except Exception:
                # chdb 4.4 hands a failed query's partial rows to the next
                # query (see ChdbStore._after_error): absorb them.
                self.conn.query("SELECT 1", "TabSeparated")
                raise

    def _run(self, args: dict[str, str], body: bytes) -> tuple[bytes, str | None]:
        settings = {k: v for k, v in args.items()
                    if k not in _TRANSPORT and not k.startswith("param_")}
        params = {k[len("param_"):]: v for k, v in args.items() if k.startswith("param_")}
        clause = ("\nSETTINGS " + ", ".join(f"{k} = {_literal(v)}" for k, v in settings.items())
                  if settings else "")
        if args.get("database"):
            self.conn.query(f"USE {args['database']}", "TabSeparated")
        # INSERT ... FORMAT x: the rows follow the statement (in the URL's
        # query argument or on the body's first line).
        query = args.get("query", "").encode()
        insert = _INSERT_DATA.match(query + b"\n" if query else body)
        if insert is not None:
            rows = body if query else body[insert.end():]
            target, fmt = (part.decode() for part in insert.groups())
            with self.conn.send_insert(f"INSERT INTO {target}{clause}", fmt) as ins:
                ins.append(rows)
                ins.finish()
            return b"", None
        sql = args.get("query", "")
        sql = f"{sql}\n{body.decode()}" if sql and body else sql or body.decode()
        fmt_match = _TRAILING_FORMAT.search(sql)
        if fmt_match is not None:
            fmt = fmt_match.group(1)
            result = self.conn.query(sql[:fmt_match.start()] + clause, fmt, params=params)
            return result.bytes() or b"", fmt
        fmt = args.get("default_format", "TabSeparated")
        # Run with names so a statement with a result set (even an empty
        # one) is told apart from one without, as the server's
        # X-ClickHouse-Format header does.
        result = self.conn.query(sql + clause, f"{fmt}WithNames"
                                 if fmt == "TabSeparated" else fmt, params=params)
        data = result.bytes() or b""
        if not data:
            return b"", None
        if fmt == "TabSeparated":
            data = data.split(b"\n", 1)[1]
        return data, fmt


class Handler(BaseHTTPRequestHandler):
    front: Front
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            data = b"".join(parts)
        else:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding")
        return _DECODERS[encoding](data) if encoding else data

    def _handle(self) -> None:
        url = urlsplit(self.path)
        args = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            body = self._body()
            if url.path == "/ping":
                data, fmt = b"Ok.\n", None
            else:
                data, fmt = self.front.run(args, body)
        except Exception as exc:  # the engine's error, as the server reports it
            message = str(exc)
            start = message.find("Code: ")
            message = message[start:] if start >= 0 else message
            match = _CODE.search(message)
            code = match.group(1) if match else "1001"
            payload = message.encode() + b"\n"
            self.send_response(500)
            self.send_header("X-ClickHouse-Exception-Code", code)
            self.send_header("Content-Type", "text/plain; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(200)
        if fmt is not None:
            self.send_header("X-ClickHouse-Format", fmt)
        self.send_header("X-ClickHouse-Timezone", self.front.timezone)
        self.send_header("X-ClickHouse-Summary", json.dumps({"read_rows": "0"}))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _handle
    do_POST = _handle


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
    Handler.front = Front(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
