"""The Dockerfile, .dockerignore and docs/deploy.md, held to the chart and the code.

There is no Docker engine here, so the Dockerfile is checked as text: what
the chart relies on (the user, the ports, the entrypoint) must be in it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.runtime.cli import _parser
from gateway.runtime.config import load_config
from tests.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text("utf-8")
VALUES = yaml.safe_load((ROOT / "deploy" / "helm" / "datagw" / "values.yaml").read_text("utf-8"))
DEPLOY_DOC = (ROOT / "docs" / "deploy.md").read_text("utf-8")
YAML_BLOCKS = re.findall(r"```yaml\n(.*?)```", DEPLOY_DOC, re.S)


def instructions(name: str) -> list[str]:
    """The arguments of every `NAME ...` instruction (continuations joined)."""
    text = DOCKERFILE.replace("\\\n", " ")
    return re.findall(rf"^{name}\s+(.*)$", text, re.M)


def test_image_runs_the_gateway_as_the_charts_non_root_user() -> None:
    (user,) = instructions("USER")
    uid, _, gid = user.partition(":")
    # Numeric, so the kubelet can check runAsNonRoot without a passwd lookup.
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit()
    assert int(uid) == VALUES["securityContext"]["runAsUser"]
    assert int(gid) == VALUES["securityContext"]["runAsGroup"]
    (entrypoint,) = instructions("ENTRYPOINT")
    command = json.loads(entrypoint)
    assert command == ["datagw", "serve"]
    assert _parser().parse_args(command[1:]).command == "serve"
    (exposed,) = instructions("EXPOSE")
    assert set(exposed.split()) == {str(VALUES["server"]["port"]), str(VALUES["metrics"]["port"])}


def test_image_is_multi_stage_without_embedded_backends() -> None:
    stages = instructions("FROM")
    assert len(stages) >= 2 and stages[0].endswith("AS build")
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", DOCKERFILE, re.M)
    # The extra that starts its own PostgreSQL, Valkey and ClickHouse.
    assert "[embedded" not in DOCKERFILE and "embedded]" not in DOCKERFILE
    assert any("--no-index" in run and "datagw" in run for run in instructions("RUN"))


def test_dockerignore_lets_in_what_the_build_copies() -> None:
    allowed = {line[1:].rstrip("/") for line in
               (ROOT / ".dockerignore").read_text("utf-8").splitlines()
               if line.startswith("!")}
    for copy in instructions("COPY"):
        parts = [p for p in copy.split() if not p.startswith("--")]
        if "--from" in copy:
            continue
        for source in parts[:-1]:
            assert any(source == a or source.startswith(a + "/") for a in allowed), source
            assert (ROOT / source).exists(), source


@pytest.mark.parametrize("index", range(len(YAML_BLOCKS)))
def test_deploy_doc_yaml_examples_parse(index: int) -> None:
    docs = [d for d in yaml.safe_load_all(YAML_BLOCKS[index]) if d is not None]
    assert docs and all(isinstance(d, dict) for d in docs)


def test_documented_topology_secret_loads_and_covers_the_policies(tmp_path: Path) -> None:
    (secret,) = [yaml.safe_load(b) for b in YAML_BLOCKS if "kind: Secret" in b]
    assert secret["metadata"]["name"] == VALUES["topology"]["existingSecret"]
    path = tmp_path / VALUES["topology"]["key"]
    path.write_text(secret["stringData"][VALUES["topology"]["key"]])
    cfg = load_config(path, env={})
    assert not cfg.embedded
    named = {policy["keyspace"] for policy in
             (yaml.safe_load(p.read_text("utf-8")) for p in (ROOT / "policies").glob("*.yaml"))
             if "keyspace" in policy}
    assert named <= set(cfg.keyspaces)


def _leaves(values: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in values.items():
        path = prefix + key
        keys |= _leaves(value, path + ".") if isinstance(value, dict) and value else {path}
    return keys


def test_values_table_documents_every_value() -> None:
    table = DEPLOY_DOC.split("\n## Values\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    documented = {key for cell in rows for key in re.findall(r"`([^`]+)`", cell)}
    leaves = _leaves(VALUES)
    # A documented key covers the keys under it (probes.liveness.periodSeconds).
    undocumented = {leaf for leaf in leaves
                    if not any(leaf == d or leaf.startswith(d + ".") for d in documented)}
    assert not undocumented
    unknown = {d for d in documented
               if not any(leaf == d or leaf.startswith(d + ".") for leaf in leaves)}
    assert not unknown
