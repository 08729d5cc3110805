"""The clickhouse section of the topology config."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.runtime.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "datagw.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(path, env or {})
    return str(err.value).splitlines()


def test_absent_means_no_server() -> None:
    assert load_config(None, {}).clickhouse is None


def test_a_server_with_defaults_and_the_password_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "clickhouse:\n  url: https://ch.example:8443\n")
    # Taken as is: read as YAML, 0123 would be a number and "yes" a boolean.
    cfg = load_config(path, {"DATAGW_CLICKHOUSE__PASSWORD": "0123"})
    assert cfg.clickhouse is not None
    ch = cfg.clickhouse
    assert (ch.url, ch.database, ch.username, ch.password) == (
        "https://ch.example:8443", "datagw", "default", "0123")
    assert (ch.connect_timeout_s, ch.send_receive_timeout_s) == (5.0, 30.0)


def test_the_whole_section_from_the_environment() -> None:
    cfg = load_config(None, {"DATAGW_CLICKHOUSE__URL": "http://ch:8123",
                             "DATAGW_CLICKHOUSE__CONNECT_TIMEOUT": "2s"})
    assert cfg.clickhouse is not None and cfg.clickhouse.connect_timeout_s == 2.0


@pytest.mark.parametrize(("url", "shown"), [
    ("clickhouse://ch:9000", "clickhouse://ch:9000"), ("http://ch", "http://ch"),
    # The problem quotes the URL without its password.
    ("http://user:pw@ch:8123", "http://user:***@ch:8123"),
    ("http://ch:8123/db", "http://ch:8123/db"), ("http://ch:port", "http://ch:port")])
def test_a_url_that_is_not_the_http_interface(tmp_path: Path, url: str, shown: str) -> None:
    path = write(tmp_path, f"clickhouse:\n  url: '{url}'\n")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}: clickhouse.url: {shown!r} is not http[s]://host:port")


def test_a_password_in_the_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "clickhouse:\n  url: http://ch:8123\n  password: hunter2\n")
    assert problems(path) == [
        f"{path}: clickhouse.password: set it with DATAGW_CLICKHOUSE__PASSWORD or "
        "clickhouse.password_file, not in the file"]


def test_settings_without_a_url(tmp_path: Path) -> None:
    path = write(tmp_path, "clickhouse:\n  database: x\n  send_receive_timeout: -1s\n")
    assert problems(path) == [
        f"{path}: clickhouse.url: required when the clickhouse section is given"]
