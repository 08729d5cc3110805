"""postgres.keyspaces.*.pooler and shards[*].direct: a keyspace behind PgBouncer."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.runtime.config import ConfigError, load_config

POOLED = """
postgres:
  keyspaces:
    commerce:
      pooler: transaction
      password_file: {password}
      shards:
        - primary: postgresql://gw@bouncer:6432/commerce_0
          direct: postgresql://gw@db0:5432/commerce
        - primary: postgresql://gw@bouncer:6432/commerce_1
redis:
  url: redis://cache:6379/0
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pg.password").write_text("s3cret\n")
    path = tmp_path / "datagw.yaml"
    path.write_text(text.format(password=tmp_path / "pg.password"), encoding="utf-8")
    return path


def test_a_keyspace_behind_a_transaction_pooler(tmp_path: Path) -> None:
    commerce = load_config(write(tmp_path, POOLED), {}).keyspaces["commerce"]
    assert commerce.pool.transaction_pooler
    assert commerce.pool.statement_cache_size == 0
    # The direct DSN gets the keyspace's password too; the notifier of a shard
    # without one polls (None).
    assert commerce.listen_dsn(0) == "postgresql://gw:s3cret@db0:5432/commerce"
    assert commerce.listen_dsn(1) is None


def test_without_a_pooler_the_primary_is_listened_on(tmp_path: Path) -> None:
    text = POOLED.replace("      pooler: transaction\n", "").replace(
        "          direct: postgresql://gw@db0:5432/commerce\n", "")
    commerce = load_config(write(tmp_path, text), {}).keyspaces["commerce"]
    assert not commerce.pool.transaction_pooler
    assert commerce.pool.statement_cache_size > 0
    assert commerce.listen_dsn(1) == "postgresql://gw:s3cret@bouncer:6432/commerce_1"


@pytest.mark.parametrize(("old", "new", "key", "says"), [
    ("pooler: transaction", "pooler: statement", "postgres.keyspaces.commerce.pooler",
     "'statement' is not one of: none, transaction"),
    ("pooler: transaction", "pooler: none", "postgres.keyspaces.commerce.shards[0].direct",
     "is for a keyspace behind a pooler"),
    ("direct: postgresql://", "direct: mysql://", "postgres.keyspaces.commerce.shards[0].direct",
     "not a postgresql:// DSN"),
])
def test_bad_pooler_settings_are_named(
    tmp_path: Path, old: str, new: str, key: str, says: str
) -> None:
    path = write(tmp_path, POOLED.replace(old, new))
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    (problem,) = str(err.value).splitlines()
    assert problem.startswith(f"{path}: {key}: "), problem
    assert says in problem
