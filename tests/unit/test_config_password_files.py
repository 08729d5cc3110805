"""password_file options: passwords for configured backends kept out of the
config file and the environment, read at start."""

from __future__ import annotations

from pathlib import Path

from gateway.runtime.config import load_config
from tests.unit.test_config import problems as config_problems
from tests.unit.test_config import write

SECRET = "s3cret/Pa55:w@rd"  # characters a URL must escape
QUOTED = "s3cret%2FPa55%3Aw%40rd"


def secret_file(tmp_path: Path, text: str = SECRET + "\n", name: str = "pw") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def problems(path: Path | None, env: dict[str, str] | None = None) -> list[str]:
    """The config's problems, which must never quote the password."""
    found = config_problems(path, env)
    assert not any(SECRET in line for line in found)
    return found


def backends(pg_file: Path | str, *, replica: str = "postgresql://gw@db0r:5432/catalog",
             redis: str = "redis: {url: 'redis://cache:6379/0'}") -> str:
    return f"""
postgres:
  keyspaces:
    catalog:
      password_file: {pg_file}
      shards:
        - primary: postgresql://gw@db0:5432/catalog
          replicas: ['{replica}']
        - primary: postgresql://other:own@db1:5432/catalog
        - primary: postgresql://db2/catalog?sslmode=require
{redis}
"""


def test_a_keyspace_password_file_fills_every_dsn_without_a_password(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, backends(secret_file(tmp_path))), {})
    catalog = cfg.keyspaces["catalog"]
    assert catalog.shard_dsns == (
        f"postgresql://gw:{QUOTED}@db0:5432/catalog",
        # A DSN with a password of its own keeps it.
        "postgresql://other:own@db1:5432/catalog",
        f"postgresql://:{QUOTED}@db2/catalog?sslmode=require",
    )
    assert catalog.replicas_of(0) == (f"postgresql://gw:{QUOTED}@db0r:5432/catalog",)


def test_the_password_reaches_asyncpg_as_written(tmp_path: Path) -> None:
    # asyncpg's own DSN parser (private, but it is what the pool runs on the DSN).
    from asyncpg.connect_utils import _parse_connect_dsn_and_args  # type: ignore[attr-defined]

    cfg = load_config(write(tmp_path, backends(secret_file(tmp_path))), {})
    _addrs, params = _parse_connect_dsn_and_args(
        dsn=cfg.keyspaces["catalog"].shard_dsns[0], host=None, port=None, user=None,
        password=None, passfile=None, database=None, ssl=None, direct_tls=None,
        server_settings=None, target_session_attrs=None, krbsrvname=None, gsslib=None,
        service=None, servicefile=None)
    assert (params.user, params.password) == ("gw", SECRET)


def test_redis_password_file(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, backends(
        secret_file(tmp_path), redis=f"redis:\n  url: redis://cache:6379/0\n"
        f"  password_file: {secret_file(tmp_path, name='redis-pw')}")), {})
    assert cfg.redis_url == f"redis://:{QUOTED}@cache:6379/0"
    from redis.connection import parse_url

    assert parse_url(cfg.redis_url)["password"] == SECRET


def test_redis_password_file_from_the_environment(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, backends(secret_file(tmp_path))), {
        "DATAGW_REDIS__PASSWORD_FILE": str(secret_file(tmp_path, name="redis-pw")),
        "DATAGW_REDIS__URL": "redis://app@cache:6379/1"})
    assert cfg.redis_url == f"redis://app:{QUOTED}@cache:6379/1"


def test_clickhouse_password_file(tmp_path: Path) -> None:
    pw = secret_file(tmp_path, "only one line\r\n")
    path = write(tmp_path, f"clickhouse:\n  url: http://ch:8123\n  password_file: {pw}\n")
    cfg = load_config(path, {})
    assert cfg.clickhouse is not None and cfg.clickhouse.password == "only one line"


def test_only_one_trailing_newline_is_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, f"clickhouse:\n  url: http://ch:8123\n"
                 f"  password_file: {secret_file(tmp_path, ' spaced ')}\n")
    cfg = load_config(path, {})
    assert cfg.clickhouse is not None and cfg.clickhouse.password == " spaced "


def test_an_unreadable_file_names_the_key_and_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "pw"
    path = write(tmp_path, backends(missing))
    assert problems(path) == [
        f"{path}: postgres.keyspaces.catalog.password_file: cannot read the password file "
        f"{str(missing)!r}: No such file or directory"]


def test_a_directory_empty_file_or_several_lines_are_refused(tmp_path: Path) -> None:
    empty, lines = secret_file(tmp_path, "\n", "empty"), secret_file(tmp_path, "a\nb\n", "two")
    path = write(tmp_path, f"""
clickhouse: {{url: 'http://ch:8123', password_file: {tmp_path}}}
redis: {{url: 'redis://cache:6379/0', password_file: {empty}}}
postgres: {{keyspaces: {{catalog: {{password_file: {lines},
  shards: [{{primary: 'postgresql://db/catalog'}}]}}}}}}
""")
    assert sorted(problems(path)) == sorted([
        f"{path}: postgres.keyspaces.catalog.password_file: the password file {str(lines)!r} "
        "has more than one line (it must hold the password alone)",
        f"{path}: redis.password_file: the password file {str(empty)!r} is empty",
        f"{path}: clickhouse.password_file: cannot read the password file {str(tmp_path)!r}: "
        "Is a directory",
    ])


def test_an_error_never_shows_the_file_text(tmp_path: Path) -> None:
    # Not UTF-8: the problem says so, and nothing of what is in it.
    binary = tmp_path / "bin"
    binary.write_bytes(b"\xff" + SECRET.encode())
    path = write(tmp_path, f"clickhouse: {{url: 'http://ch:8123', password_file: {binary}}}\n")
    assert problems(path) == [
        f"{path}: clickhouse.password_file: the password file {str(binary)!r} is not UTF-8 text"]


def test_two_passwords_for_one_backend_are_refused(tmp_path: Path) -> None:
    pw = secret_file(tmp_path)
    path = write(tmp_path, backends(pw, redis=f"redis: {{url: 'redis://:other@cache:6379/0',"
                                              f" password_file: {pw}}}") +
                 f"clickhouse: {{url: 'http://ch:8123', password_file: {pw}}}\n")
    assert problems(path, {"DATAGW_CLICKHOUSE__PASSWORD": "x"}) == [
        f"{path}: redis.password_file: redis.url has a password already; give it in the URL "
        "or in the file, not both",
        f"{path}: clickhouse.password_file: DATAGW_CLICKHOUSE__PASSWORD sets the password "
        "already; give it in one of them, not both",
    ]


def test_a_redis_password_file_without_a_url(tmp_path: Path) -> None:
    pw = secret_file(tmp_path)
    assert problems(None, {"DATAGW_REDIS__PASSWORD_FILE": str(pw)}) == [
        "DATAGW_REDIS__PASSWORD_FILE: redis.password_file: needs redis.url (embedded mode "
        "makes its own password)"]
