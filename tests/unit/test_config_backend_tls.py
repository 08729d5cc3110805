"""TLS settings for the backends: ClickHouse's CA and client certificate."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.runtime.config import ConfigError, load_config

HTTPS = """
clickhouse:
  url: https://ch.example:8443
  ca_file: /etc/datagw/ch-ca.pem
  client_cert_file: /etc/datagw/ch-client.pem
  client_key_file: /etc/datagw/ch-client.key
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "datagw.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_clickhouse_over_https_with_a_ca_and_a_client_certificate(tmp_path: Path) -> None:
    ch = load_config(write(tmp_path, HTTPS), {}).clickhouse
    assert ch is not None
    assert (ch.ca_file, ch.client_cert_file, ch.client_key_file) == (
        "/etc/datagw/ch-ca.pem", "/etc/datagw/ch-client.pem", "/etc/datagw/ch-client.key")


@pytest.mark.parametrize(("old", "new", "key", "says"), [
    ("https://", "http://", "clickhouse.url", "need an https:// URL"),
    ("  client_key_file: /etc/datagw/ch-client.key\n", "", "clickhouse",
     "client_cert_file and client_key_file come together"),
])
def test_bad_tls_settings_are_named(
    tmp_path: Path, old: str, new: str, key: str, says: str
) -> None:
    path = write(tmp_path, HTTPS.replace(old, new))
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    (problem,) = str(err.value).splitlines()
    assert problem.startswith(f"{path}: {key}: "), problem
    assert says in problem
