"""A ClickHouse server over HTTP(S) through clickhouse-connect: a configured
server (`clickhouse.url`), or embedded mode's engine process
(gateway/runtime/embedded/analytics_server.py), which speaks the same HTTP.

The client is opened on first use, not at start: clickhouse-connect asks the
server for its version and settings when it connects, and a gateway must
come up (and its relay wait) while ClickHouse is down. Until a connection
succeeds every call is AnalyticsUnavailable and the next one tries again.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from gateway.storage.clickhouse.client import ClientStore


class ClickHouseServerStore(ClientStore):
    def __init__(self, url: str, database: str = "datagw", username: str = "default",
                 password: str = "", connect_timeout_s: float = 5.0,
                 send_receive_timeout_s: float = 30.0, *, ca_file: str | None = None,
                 client_cert_file: str | None = None,
                 client_key_file: str | None = None, name: str = "clickhouse",
                 kind: str = "clickhouse-server") -> None:
        """`ca_file`, `client_*_file`: for an https URL, the CA bundle the
        server's certificate is verified against (None: the system's) and a
        client certificate and key (mutual TLS). `name` and `kind`: the
        topology entry and what the relay status calls the target (embedded
        mode's: "clickhouse/embedded", "chdb")."""
        parts = urlsplit(url)
        super().__init__(name, f"{parts.scheme}://{parts.hostname}:{parts.port}", database)
        self.kind = kind
        self._url = url
        self._username = username
        self._password = password
        self._connect_timeout_s = connect_timeout_s
        self._send_receive_timeout_s = send_receive_timeout_s
        self._ca_file = ca_file
        self._client_cert = (client_cert_file, client_key_file)

    def _open_client(self) -> Client:
        parts = urlsplit(self._url)
        return clickhouse_connect.get_client(
            interface=parts.scheme, host=parts.hostname, port=parts.port,
            username=self._username, password=self._password,
            connect_timeout=self._connect_timeout_s,
            send_receive_timeout=self._send_receive_timeout_s,
            # Concurrent calls from worker threads share the client: no HTTP
            # session (ClickHouse serialises a session's queries).
            autogenerate_session_id=False,
            # Aware UTC datetimes, as from chdb.
            tz_mode="schema",
            # A failed request surfaces as AnalyticsUnavailable; the caller
            # (relay, service) decides about retrying.
            query_retries=0,
            # None is clickhouse-connect's own default for each.
            ca_cert=self._ca_file,
            client_cert=self._client_cert[0],
            client_cert_key=self._client_cert[1],
        )
