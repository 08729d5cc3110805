"""Executable docs: the YAML examples in docs/ must be what the code accepts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.policy.access_loader import parse_access
from gateway.policy.loader import parse_policy
from gateway.runtime.config import load_config
from gateway.runtime.services import POLICY_CATALOG, POLICY_DOMAINS
from gateway.storage.postgres.pool import redact
from tests.conftest import ROOT

_YAML = re.compile(r"```yaml\n(.*?)```", re.S)


def yaml_blocks(doc: str) -> list[str]:
    return _YAML.findall((ROOT / "docs" / doc).read_text("utf-8"))


@pytest.mark.parametrize("index", range(len(yaml_blocks("policies.md"))))
def test_policy_examples_validate(index: int) -> None:
    policy, problems = parse_policy(f"policies.md#{index}", yaml_blocks("policies.md")[index],
                                    POLICY_DOMAINS)
    assert problems == [] and policy is not None


@pytest.mark.parametrize("domain", ["catalog", "sessions", "users", "orders", "payments",
                                    "inventory", "events", "analytics"])
def test_documented_defaults_are_the_shipped_files(domain: str) -> None:
    documented = [b for b in yaml_blocks("policies.md") if b.startswith(f"# policies/{domain}")]
    assert len(documented) == 1
    shipped = (ROOT / "policies" / f"{domain}.yaml").read_text("utf-8")
    doc_policy, _ = parse_policy("x", documented[0], POLICY_DOMAINS)
    file_policy, _ = parse_policy("x", shipped, POLICY_DOMAINS)
    assert doc_policy == file_policy


def test_configuration_example_loads(tmp_path: Path) -> None:
    block, embedded = yaml_blocks("configuration.md")
    path = tmp_path / "datagw.yaml"
    path.write_text(embedded)
    cfg = load_config(path, env={})
    assert cfg.embedded and cfg.embedded_synchronous
    assert (cfg.embedded_shards, cfg.embedded_replicas) == (2, 1)
    path.write_text(block)
    cfg = load_config(path, env={})
    assert cfg.listen == "0.0.0.0:50051" and cfg.tls is not None
    assert cfg.keyspaces["catalog"].shard_dsns == ("postgresql://datagw@catalog-db:5432/catalog",)
    commerce = cfg.keyspaces["commerce"]
    assert commerce.initial_map().describe() == "-80->0, 80-->1"
    assert commerce.replicas_of(0) == ("postgresql://datagw@commerce-0-replica:5432/commerce",)
    assert cfg.sagas.lease_s == 30 and cfg.payments.timeout_s == 2
    assert cfg.clickhouse is not None and cfg.clickhouse.url == "http://clickhouse:8123"
    assert not cfg.embedded
    assert [k.value for k in cfg.auth.tcp] == ["mtls", "jwt"]
    assert cfg.auth.jwt is not None and cfg.auth.jwt.jwks_url is not None
    assert cfg.auth.local_name == "orders-app"


def test_security_access_example_is_a_valid_access_policy() -> None:
    (block,) = yaml_blocks("security.md")
    policy, problems = parse_access("access.yaml", block, POLICY_CATALOG.methods)
    assert problems == [] and policy is not None
    assert [r.name for r in policy.rules] == ["operators", "web-no-analytics",
                                              "shoppers-own-data"]


def test_configuration_env_examples_apply(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text("utf-8")
    block = doc.split("## Environment overrides", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    env = dict(line.split("=", 1) for line in block.strip().splitlines())
    path = tmp_path / "datagw.yaml"
    path.write_text(yaml_blocks("configuration.md")[0].replace("redis://cache", "redis://old"))
    cfg = load_config(path, env=env)
    assert cfg.listen == "0.0.0.0:50051"
    assert cfg.redis_url == "redis://cache:6379/0"
    assert cfg.exporter == "console" and cfg.log_level == "warning"
    assert str(cfg.data_dir) == "/var/lib/datagw"
    assert cfg.clickhouse is not None and cfg.clickhouse.password == "0123-secret"


def _defines(source: str, dotted: str) -> bool:
    """Does `source` define `dotted` (a name, or Class.method)?"""
    *owner, name = dotted.split(".")
    if owner and not re.search(rf"^class {owner[0]}\b", source, re.M):
        return False
    return re.search(rf"^\s*(?:async def|def|class) {name}\b", source, re.M) is not None


def test_architecture_names_what_the_code_has() -> None:
    """Every gateway file ARCHITECTURE.md names exists, and every "`file.py`
    `name`" it points a reader to is defined there: the walk through the code
    stays true when the code moves."""
    text = (ROOT / "ARCHITECTURE.md").read_text("utf-8")
    files = set(re.findall(r"`((?:gateway/)?(?:runtime|api|domain|storage|policy|records)"
                           r"/[\w/]*\.py)`", text))
    assert len(files) > 15
    for name in files:
        path = ROOT / (name if name.startswith("gateway/") else f"gateway/{name}")
        assert path.is_file(), f"ARCHITECTURE.md names {name}, which does not exist"
    pointers = re.findall(r"`([\w/]+\.py)` `([A-Za-z_][\w.]*)`", text)
    assert len(pointers) >= 10
    for name, symbol in pointers:
        source = (ROOT / "gateway" / name).read_text("utf-8")
        assert _defines(source, symbol), f"ARCHITECTURE.md: {name} has no {symbol}"


def test_operations_failover_example_loads(tmp_path: Path) -> None:
    (block,) = yaml_blocks("operations.md")
    path = tmp_path / "datagw.yaml"
    path.write_text(block + "redis:\n  url: redis://cache:6379\n")
    cfg = load_config(path, env={})
    (dsn,) = cfg.keyspaces["commerce"].shard_dsns
    assert redact(dsn) == "pg-a:5432,pg-b:5432"
    assert dsn.endswith("?target_session_attrs=read-write")
