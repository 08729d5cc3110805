"""The Dockerfile, its locks, .dockerignore and docs/deploy.md, held to the
chart and the code.

There is no Docker engine here, so the Dockerfile is checked as text: what
the chart relies on (the user, the ports, the entrypoint) must be in it, and
what it installs must be the locked, hashed set of the pyprojects'
dependencies.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gateway.runtime.cli import _parser
from gateway.runtime.config import load_config
from tests.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text("utf-8")
VALUES = yaml.safe_load((ROOT / "deploy" / "helm" / "datagw" / "values.yaml").read_text("utf-8"))
DEPLOY_DOC = (ROOT / "docs" / "deploy.md").read_text("utf-8")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
CLIENT_PROJECT = tomllib.loads((ROOT / "clients" / "python" / "pyproject.toml").read_text("utf-8"))
LOCKS = ROOT / "deploy" / "docker"
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
    assert all(stage.startswith("${PYTHON_IMAGE}") for stage in stages)
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


def test_base_image_is_pinned_by_digest() -> None:
    (default,) = [arg.partition("=")[2] for arg in instructions("ARG")
                  if arg.startswith("PYTHON_IMAGE=")]
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", default)
    # docs/deploy.md says how to refresh it, and shows the pinned one.
    assert "docker buildx imagetools inspect python:3.11-slim-bookworm" in DEPLOY_DOC
    assert default.partition("@")[2] in DEPLOY_DOC


def labels() -> dict[str, str]:
    (label,) = instructions("LABEL")
    return dict(re.findall(r'(\S+)="([^"]*)"', label))


def test_image_carries_the_oci_labels() -> None:
    found = labels()
    args = dict(arg.partition("=")[::2] for arg in instructions("ARG"))
    oci = {key.removeprefix("org.opencontainers.image."): value for key, value in found.items()}
    assert set(oci) >= {"title", "description", "version", "source", "licenses",
                        "revision", "created", "base.name"}
    assert oci["title"] == PROJECT["project"]["name"]
    # Build arguments, so every build says which commit and when.
    for key, arg in (("version", "VERSION"), ("revision", "REVISION"),
                     ("created", "CREATED"), ("base.name", "PYTHON_IMAGE")):
        assert oci[key] == f"${{{arg}}}"
    assert args["VERSION"] == PROJECT["project"]["version"]
    assert oci["source"].startswith("https://")
    # SPDX: the project's license once it declares one.
    license_ = PROJECT["project"].get("license")
    assert oci["licenses"] == (license_ if isinstance(license_, str) else "NOASSERTION")


def test_healthcheck_runs_datagw_health() -> None:
    (check,) = instructions("HEALTHCHECK")
    options, _, command = check.partition("CMD ")
    argv = json.loads(command)
    assert argv[:2] == ["datagw", "health"]
    args = _parser().parse_args(argv[1:])
    assert args.command == "health"
    # The call gives up before Docker's own timeout kills it.
    (timeout,) = re.findall(r"--timeout=(\d+)s", options)
    assert args.timeout < int(timeout)


def locked(name: str) -> dict[str, tuple[str, list[str]]]:
    """A lock file's requirements: name -> (version, hashes)."""
    text = (LOCKS / name).read_text("utf-8").replace("\\\n", " ")
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement = Requirement(line.split(" --hash")[0].strip())
        (spec,) = requirement.specifier
        assert spec.operator == "==", line
        out[canonicalize_name(requirement.name)] = (spec.version,
                                                    re.findall(r"--hash=(\S+)", line))
    return out


@pytest.mark.parametrize(("lock", "requirements"), [
    ("requirements.lock",
     [d for project in (PROJECT, CLIENT_PROJECT) for d in project["project"]["dependencies"]]),
    ("build-requirements.lock",
     [d for project in (PROJECT, CLIENT_PROJECT) for d in project["build-system"]["requires"]]),
])
def test_the_locks_cover_the_pyprojects_dependencies(lock: str, requirements: list[str]) -> None:
    """Every dependency at a version its pyproject allows (its pin, where it
    pins one), every locked file hashed; scripts/lock_requirements.sh
    rewrites a lock that falls behind."""
    pins = locked(lock)
    for text in requirements:
        requirement = Requirement(text)
        if requirement.name == "datagw-client":  # built from clients/python
            continue
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock} misses {text} (run scripts/lock_requirements.sh)"
        version = pins[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} has {name}=={version}, pyproject.toml wants {text} "
            "(run scripts/lock_requirements.sh)")
    for name, (_, hashes) in pins.items():
        assert hashes and all(h.startswith("sha256:") for h in hashes), name
    # Development and embedded-mode packages stay out of the image.
    extras = PROJECT["project"]["optional-dependencies"]
    for text in extras["dev"] + extras["embedded"]:
        name = canonicalize_name(Requirement(text).name)
        declared = {canonicalize_name(Requirement(d).name) for d in requirements}
        assert name in declared or name not in pins, f"{lock} holds {name}"


def test_the_image_installs_only_what_is_locked() -> None:
    runs = instructions("RUN")
    for lock in ("build-requirements.lock", "requirements.lock"):
        (install,) = [run for run in runs if f"-r {lock}" in run]
        assert "--require-hashes" in install and "--only-binary=:all:" in install
    # Our own wheels come with no dependencies and no index: the lock has them.
    (own,) = [run for run in runs if "/wheels/*.whl" in run]
    assert "--no-deps --no-index" in own and "pip check" in own
