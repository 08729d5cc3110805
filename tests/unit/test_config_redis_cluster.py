"""The redis section's cluster keys: redis.cluster and redis.seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.runtime.config import ConfigError, load_config

PG = "postgres:\n  keyspaces:\n    catalog:\n      shards:\n        - primary: postgresql://db/catalog\n"


def write(tmp_path: Path, redis: str) -> Path:
    path = tmp_path / "datagw.yaml"
    path.write_text(PG + "redis:\n" + redis, encoding="utf-8")
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(path, env or {})
    return str(err.value).splitlines()


def test_single_node_is_the_default(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "  url: redis://cache:6379/0\n"), {})
    assert (cfg.redis_cluster, cfg.redis_seeds) == (False, ())


def test_a_cluster_with_seeds(tmp_path: Path) -> None:
    path = write(tmp_path, "  url: redis://:pw@cache-0:6379\n  cluster: true\n"
                           "  seeds: [cache-1:6379, '10.0.0.7:7001', '[fd00::5]:6379']\n")
    cfg = load_config(path, {})
    assert cfg.redis_cluster
    assert cfg.redis_seeds == ("cache-1:6379", "10.0.0.7:7001", "[fd00::5]:6379")


def test_from_the_environment() -> None:
    cfg = load_config(None, {
        "DATAGW_POSTGRES__KEYSPACES": "{catalog: {shards: [{primary: postgresql://db/c}]}}",
        "DATAGW_REDIS__URL": "redis://cache-0:6379", "DATAGW_REDIS__CLUSTER": "true",
        "DATAGW_REDIS__SEEDS": "[cache-1:6379]"})
    assert cfg.redis_cluster and cfg.redis_seeds == ("cache-1:6379",)


@pytest.mark.parametrize("seeds", ["[cache-1]", "[cache-1:port]", "[redis://cache-1:6379]",
                                   "[':6379']", "cache-1:6379", "[cache-1:70000]"])
def test_a_seed_that_is_not_host_port(tmp_path: Path, seeds: str) -> None:
    path = write(tmp_path, f"  url: redis://cache-0:6379\n  cluster: true\n  seeds: {seeds}\n")
    (line,) = problems(path)
    assert "redis.seeds" in line and "host:port" in line


def test_seeds_without_cluster(tmp_path: Path) -> None:
    path = write(tmp_path, "  url: redis://cache-0:6379\n  seeds: [cache-1:6379]\n")
    (line,) = problems(path)
    assert "redis.seeds" in line and "redis.cluster: true" in line


def test_a_cluster_has_only_database_0(tmp_path: Path) -> None:
    path = write(tmp_path, "  url: redis://:secret@cache-0:6379/2\n  cluster: true\n")
    (line,) = problems(path)
    assert "redis.url" in line and "database" in line and "secret" not in line
    assert load_config(write(tmp_path, "  url: redis://cache-0:6379/0\n  cluster: true\n"),
                       {}).redis_cluster


def test_a_cluster_needs_a_url(tmp_path: Path) -> None:
    path = tmp_path / "datagw.yaml"
    path.write_text("redis:\n  cluster: true\n", encoding="utf-8")
    assert any("redis.cluster" in line and "redis.url" in line for line in problems(path))
