"""Passwords never reach an error, a log line or a caller: redact_url and its uses."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from gateway.runtime.config import ConfigError, load_config
from gateway.runtime.observability import log_handler
from gateway.secrets import redact_url


@pytest.mark.parametrize(("text", "redacted"), [
    ("postgresql://app:s3cret@db.example:5432/orders",
     "postgresql://app:***@db.example:5432/orders"),
    ("postgres://app:s3cret@db/orders", "postgres://app:***@db/orders"),
    ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
    ("rediss://default:s3cret@cache:6380", "rediss://default:***@cache:6380"),
    ("https://reader:s3cret@ch.example:8443", "https://reader:***@ch.example:8443"),
    # IPv6 hosts: the host's colons are not a password.
    ("postgresql://app:s3cret@[::1]:5432/orders", "postgresql://app:***@[::1]:5432/orders"),
    ("postgresql://app:s3cret@[2001:db8::7]/orders", "postgresql://app:***@[2001:db8::7]/orders"),
    ("postgresql://[::1]:5432/orders", "postgresql://[::1]:5432/orders"),
    # No password: nothing changes.
    ("postgresql://app@db:5432/orders", "postgresql://app@db:5432/orders"),
    ("postgresql://db:5432/orders", "postgresql://db:5432/orders"),
    ("redis://cache:6379/0", "redis://cache:6379/0"),
    ("no connection string here", "no connection string here"),
    ("", ""),
    # An unescaped "@" in the password, percent-escapes, several hosts.
    ("postgresql://app:p@ss@db/orders", "postgresql://app:***@db/orders"),
    ("postgresql://app:p%40ss@db1:5432,db2:5433/orders",
     "postgresql://app:***@db1:5432,db2:5433/orders"),
    # Query-string and key/value passwords.
    ("postgresql://app@db/orders?sslmode=require&password=s3cret",
     "postgresql://app@db/orders?sslmode=require&password=***"),
    ("postgresql://app@db/orders?password=s3cret&sslmode=require",
     "postgresql://app@db/orders?password=***&sslmode=require"),
    ("postgresql://db/orders?sslpassword=s3cret", "postgresql://db/orders?sslpassword=***"),
    ("host=db port=5432 password=s3cret dbname=orders",
     "host=db port=5432 password=*** dbname=orders"),
    ("host=db password='s3 cret' dbname=orders", "host=db password=*** dbname=orders"),
    ("DATAGW_CLICKHOUSE__PASSWORD=s3cret", "DATAGW_CLICKHOUSE__PASSWORD=***"),
    # Inside a sentence or a quoted list, each one.
    ("'postgresql://a:s3cret@db0/x' is not a postgresql:// DSN",
     "'postgresql://a:***@db0/x' is not a postgresql:// DSN"),
    ("['postgres://a:one@db0/x', 'postgres://b:two@db1:6432/x']",
     "['postgres://a:***@db0/x', 'postgres://b:***@db1:6432/x']"),
])
def test_redact_url(text: str, redacted: str) -> None:
    assert redact_url(text) == redacted


def config_error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    path = tmp_path / "datagw.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, env or {})
    return str(err.value)


def test_a_bad_dsn_is_reported_without_its_password(tmp_path: Path) -> None:
    error = config_error(tmp_path, """
postgres:
  keyspaces:
    catalog:
      shards:
        - primary: mysql://gw:s3cret@db0:3306/catalog
          replicas: [postgresql://gw:s3cret@db1:5432/catalog, tcp://gw:s3cret@db2/catalog]
redis: {url: "redis://:s3cret@cache:6379/0"}
""")
    assert "s3cret" not in error
    assert "'mysql://gw:***@db0:3306/catalog' is not a postgresql:// DSN" in error
    assert "tcp://gw:***@db2/catalog" in error


def test_a_bad_url_from_the_environment_is_reported_without_its_password(
        tmp_path: Path) -> None:
    error = config_error(tmp_path, "", {
        "DATAGW_CLICKHOUSE__URL": "http://default:s3cret@ch:8123",
        "DATAGW_POSTGRES__KEYSPACES__CATALOG__SHARDS":
            "[{primary: 'postgresql://gw:s3cret@db0:5432/catalog?x'}, 'oops://gw:s3cret@db1']",
    })
    assert "s3cret" not in error
    assert "DATAGW_CLICKHOUSE__URL: clickhouse.url: 'http://default:***@ch:8123'" in error


def test_log_lines_are_redacted() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.secrets")
    logger.addHandler(log_handler(stream, "text"))
    logger.propagate = False
    try:
        try:
            raise OSError("cannot reach postgresql://gw:s3cret@db0:5432/catalog")
        except OSError:
            logger.exception("connect to %s failed", "redis://:s3cret@cache:6379/0")
    finally:
        logger.handlers.clear()
        logger.propagate = True
    text = stream.getvalue()
    assert "s3cret" not in text
    assert "redis://:***@cache:6379/0" in text
    assert "postgresql://gw:***@db0:5432/catalog" in text
