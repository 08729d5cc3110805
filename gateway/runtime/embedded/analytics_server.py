"""The embedded analytics engine's own process: chdb behind a subset of
ClickHouse's HTTP interface, the subset clickhouse-connect uses, so embedded
mode reaches it through the server backend (ClickHouseServerStore) like a
ClickHouse server. `EmbeddedAnalytics` (analytics.py) runs it.

Why a process of its own: chdb hosts one engine per process on one data
path, so every gateway process of a data dir (`datagw serve --workers N`)
must reach one engine elsewhere; and the engine's inserts and merges, with
the Native encoding and decoding, then leave the serving process's
interpreter lock and run at a lower CPU priority (see NICE).

It is NOT a ClickHouse server: one engine, statements serialised, one user
(any name, the password in its file), no sessions, no streaming. Per-request
settings are scoped the way chdb allows (a SETTINGS clause on the
statement). Every request but /ping must carry the password, as HTTP basic
auth (what clickhouse-connect sends) or the X-ClickHouse-Key header.

Run: python -m gateway.runtime.embedded.analytics_server DATA_DIR PORT PASSWORD_FILE
(the password is read from its file, never taken from the command line,
which every local user can read). It binds 127.0.0.1:PORT once the engine is
open, so a server that answers /ping is ready.
"""

from __future__ import annotations

import base64
import gzip
import hmac
import json
import logging
import os
import re
import signal
import sys
import threading
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import lz4.frame

from gateway.runtime.embedded.process import LOCALHOST
from gateway.runtime.embedded.secrets import read_secret

__all__ = ["NICE", "AnalyticsHandler", "Engine", "make_server"]

log = logging.getLogger(__name__)

# The engine's niceness: the serving gateway and PostgreSQL come first when
# the cores are busy. Relay inserts and background merges are batch work
# whose delay only lengthens the analytics lag; a subscription or a write
# waiting behind them is a client's latency.
NICE = 10

# What the HTTP handler consumes itself; every other URL argument is a setting.
_TRANSPORT = {
    "query", "database", "default_format", "compress", "decompress", "session_id",
    "session_timeout", "session_check", "query_id", "quota_key", "buffer_size",
    "wait_end_of_query", "client_protocol_version", "user", "password", "role",
    "send_progress_in_http_headers", "http_headers_progress_interval_ms",
    "enable_http_compression", "http_zlib_compression_level",
    "cancel_http_readonly_queries_on_client_close",
}
# Settings clickhouse-connect sends with every request of a client (how it
# parses input): SET on the engine's connection when they change, not put in
# the statement, where an EXPLAIN AST would show them as the statement's own
# SETTINGS (RunQuery refuses a statement with SETTINGS).
_CLIENT_WIDE = {"date_time_input_format", "cast_string_to_dynamic_use_inference"}
_TRAILING_FORMAT = re.compile(r"\s+FORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
_INSERT_DATA = re.compile(rb"^\s*INSERT\s+INTO\s+(.+?)\s+FORMAT\s+(\w+)[ \t]*(?:\n|$)",
                          re.IGNORECASE | re.DOTALL)
_CODE = re.compile(r"Code: (\d+)")
_AUTHENTICATION_FAILED = 516

def _lz4_frames(data: bytes) -> bytes:
    """Every frame of an lz4 body: clickhouse-connect compresses an insert a
    block (about 2 MB) at a time, one frame each, and lz4.frame.decompress
    would return the first frame's rows only."""
    out = []
    while data:
        frame = lz4.frame.LZ4FrameDecompressor()
        out.append(frame.decompress(data))
        data = frame.unused_data
    return b"".join(out)


_DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "lz4": _lz4_frames, "gzip": gzip.decompress, "deflate": zlib.decompress,
}


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Engine:
    """The chdb engine on one data path; one statement at a time."""

    def __init__(self, path: Path) -> None:
        import chdb  # the embedded extra; only this process imports it

        self._conn: Any = chdb.connect(str(path))  # type: ignore[no-untyped-call]
        self._lock = threading.Lock()
        self._client_wide: dict[str, str] = {}
        self.timezone = str(self._conn.query("SELECT timezone()", "TabSeparated")).strip()

    def run(self, args: dict[str, str], body: bytes) -> tuple[bytes, str | None]:
        """The result's bytes and format (None: no result set)."""
        with self._lock:
            try:
                return self._run(args, body)
            except Exception:
                # chdb 4.4 hands the rows a failed query had already produced
                # (a timeout or throwIf mid-result) to the connection's NEXT
                # query, in front of its own: a throwaway statement takes them.
                self._conn.query("SELECT 1", "TabSeparated")
                raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _run(self, args: dict[str, str], body: bytes) -> tuple[bytes, str | None]:
        for name in _CLIENT_WIDE & args.keys():
            if self._client_wide.get(name) != args[name]:
                self._conn.query(f"SET {name} = {_literal(args[name])}", "TabSeparated")
                self._client_wide[name] = args[name]
        settings = {k: v for k, v in args.items() if k not in _TRANSPORT
                    and k not in _CLIENT_WIDE and not k.startswith("param_")}
        params = {k[len("param_"):]: v for k, v in args.items() if k.startswith("param_")}
        # chdb has no per-request settings: a SETTINGS clause scopes them to
        # the statement, as the server's URL settings are (a SET would stay
        # on the connection, and `readonly` cannot be set back). On its own
        # line, so a trailing `--` comment cannot swallow it.
        clause = ("\nSETTINGS " + ", ".join(f"{k} = {_literal(v)}" for k, v in settings.items())
                  if settings else "")
        if args.get("database"):
            self._conn.query(f"USE {args['database']}", "TabSeparated")
        # INSERT ... FORMAT x: the rows follow the statement (in the URL's
        # query argument or on the body's first line); they go to the engine
        # as sent, never decoded here.
        query = args.get("query", "").encode()
        insert = _INSERT_DATA.match(query + b"\n" if query else body)
        if insert is not None:
            rows = body if query else body[insert.end():]
            target, fmt = (part.decode() for part in insert.groups())
            with self._conn.send_insert(f"INSERT INTO {target}{clause}", fmt) as ins:
                ins.append(rows)
                ins.finish()
            return b"", None
        sql = args.get("query", "")
        sql = f"{sql}\n{body.decode()}" if sql and body else sql or body.decode()
        fmt_match = _TRAILING_FORMAT.search(sql)
        if fmt_match is not None:
            fmt = fmt_match.group(1)
            result = self._conn.query(sql[:fmt_match.start()] + clause, fmt, params=params)
            return result.bytes() or b"", fmt
        fmt = args.get("default_format", "TabSeparated")
        # Run with names so a statement with a result set (even an empty
        # one) is told apart from one without, as the server's
        # X-ClickHouse-Format header does.
        result = self._conn.query(sql + clause, f"{fmt}WithNames"
                                  if fmt == "TabSeparated" else fmt, params=params)
        data: bytes = result.bytes() or b""
        if not data:
            return b"", None
        if fmt == "TabSeparated":
            data = data.split(b"\n", 1)[1]
        return data, fmt


class AnalyticsHandler(BaseHTTPRequestHandler):
    """One HTTP request to the engine (make_server sets the class fields)."""

    engine: Engine
    password: str
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def authorised(self) -> bool:
        """The password came, as basic auth or X-ClickHouse-Key (any user name)."""
        given = self.headers.get("X-ClickHouse-Key")
        auth = self.headers.get("Authorization", "")
        if given is None and auth.startswith("Basic "):
            try:
                given = base64.b64decode(auth[6:], validate=True).decode().partition(":")[2]
            except ValueError:
                given = None
        return given is not None and hmac.compare_digest(given.encode(),
                                                         self.password.encode())

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

    def _error(self, status: int, code: str, message: str) -> None:
        payload = message.encode() + b"\n"
        self.send_response(status)
        self.send_header("X-ClickHouse-Exception-Code", code)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _handle(self) -> None:
        url = urlsplit(self.path)
        args = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            body = self._body()
            if url.path == "/ping":
                data, fmt = b"Ok.\n", None
            elif not self.authorised():
                self._error(403, str(_AUTHENTICATION_FAILED),
                            f"Code: {_AUTHENTICATION_FAILED}. DB::Exception: Authentication "
                            "failed: password is incorrect, or there is no user with such name")
                return
            else:
                data, fmt = self.engine.run(args, body)
        except Exception as exc:  # the engine's error, as the server reports it
            message = str(exc)
            start = message.find("Code: ")
            message = message[start:] if start >= 0 else message
            match = _CODE.search(message)
            self._error(500, match.group(1) if match else "1001", message)
            return
        self.send_response(200)
        if fmt is not None:
            self.send_header("X-ClickHouse-Format", fmt)
        self.send_header("X-ClickHouse-Timezone", self.engine.timezone)
        self.send_header("X-ClickHouse-Summary", json.dumps({"read_rows": "0"}))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _handle
    do_POST = _handle


def make_server(engine: Engine, password: str, port: int,
                handler: type[AnalyticsHandler] = AnalyticsHandler) -> ThreadingHTTPServer:
    """The HTTP server on 127.0.0.1:`port` (0: any free one), not yet serving."""
    bound = type("BoundHandler", (handler,), {"engine": engine, "password": password})
    server = ThreadingHTTPServer((LOCALHOST, port), bound)
    server.daemon_threads = True
    return server


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    data_dir, port, password_file = Path(argv[0]), int(argv[1]), Path(argv[2])
    os.nice(NICE)
    password = read_secret(password_file)
    engine = Engine(data_dir)
    try:
        server = make_server(engine, password, port)
    except OSError as exc:
        # "Address already in use" in the log is how the parent retries
        # on another port (ChildServer).
        log.error("cannot listen on %s:%d: %s", LOCALHOST, port, exc)
        engine.close()
        return 1

    def stop(signum: int, frame: object) -> None:
        # shutdown() waits for serve_forever to return: not from its thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("analytics engine (chdb) on %s serving %s:%d (niceness %d)",
             data_dir, LOCALHOST, port, os.nice(0))
    try:
        server.serve_forever()
    finally:
        server.server_close()
        engine.close()
    log.info("analytics engine stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
