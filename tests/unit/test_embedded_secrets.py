"""The embedded servers' password files: made once, private, reused."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gateway.runtime.embedded.process import EmbeddedBackendError
from gateway.runtime.embedded.secrets import (
    EmbeddedSecrets,
    ensure_secret,
    postgres_dsn,
    read_secret,
    valkey_url,
)
from gateway.secrets import redact_url


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_once_private_and_reused(tmp_path: Path) -> None:
    secrets = EmbeddedSecrets(tmp_path)
    first = ensure_secret(secrets.postgres_file)
    assert len(first) >= 40 and first.replace("-", "").replace("_", "").isalnum()
    assert mode(secrets.directory) == 0o700 and mode(secrets.postgres_file) == 0o600
    assert ensure_secret(secrets.postgres_file) == first == secrets.postgres_password()
    assert ensure_secret(secrets.valkey_file) != first


def test_servers_starting_side_by_side_agree_on_one_password(tmp_path: Path) -> None:
    path = EmbeddedSecrets(tmp_path).postgres_file
    with ThreadPoolExecutor(max_workers=8) as pool:
        passwords = set(pool.map(lambda _: ensure_secret(path), range(32)))
    assert len(passwords) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == ["postgres.password"]


def test_a_file_written_by_hand_is_tightened_and_read_without_its_newline(
        tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "valkey.password"
    path.parent.mkdir()
    path.write_text("chosen-by-hand\n")
    path.chmod(0o644)
    assert ensure_secret(path) == "chosen-by-hand"
    assert mode(path) == 0o600


@pytest.mark.parametrize("text", ["", "\n", "two\nlines\n"])
def test_a_file_that_is_not_one_password_is_refused_without_its_text(
        tmp_path: Path, text: str) -> None:
    path = tmp_path / "pw"
    path.write_text(text)
    with pytest.raises(EmbeddedBackendError, match="must hold one line") as err:
        read_secret(path)
    assert "two" not in str(err.value)


def test_urls_carry_the_password_and_redact_it() -> None:
    dsn = postgres_dsn("127.0.0.1:5432", "p@ss/w:rd", "catalog")
    assert dsn == "postgresql://postgres:p%40ss%2Fw%3Ard@127.0.0.1:5432/catalog"
    assert redact_url(dsn) == "postgresql://postgres:***@127.0.0.1:5432/catalog"
    url = valkey_url("127.0.0.1:6379", "secret")
    assert url == "redis://:secret@127.0.0.1:6379/0"
    assert redact_url(url) == "redis://:***@127.0.0.1:6379/0"
