"""Every client package is released at clients/VERSION, and the gateway pins
the Python client at it: one version of the API's clients (datagw.v1 -> 1.x)."""

from __future__ import annotations

import json
import re
import tomllib

from tests.conftest import ROOT

CLIENTS = ROOT / "clients"
VERSION = (CLIENTS / "VERSION").read_text().strip()


def test_the_version_is_semver_with_the_apis_major() -> None:
    assert re.fullmatch(r"1\.\d+\.\d+", VERSION), VERSION


def test_the_python_client_is_at_the_version() -> None:
    project = tomllib.loads((CLIENTS / "python" / "pyproject.toml").read_text())["project"]
    assert project["version"] == VERSION


def test_the_gateway_pins_the_python_client_at_the_version() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d for d in dependencies if d.startswith("datagw-client")]
    assert pins == [f"datagw-client=={VERSION}"]


def test_the_node_client_is_at_the_version() -> None:
    package = json.loads((CLIENTS / "node" / "package.json").read_text())
    lock = json.loads((CLIENTS / "node" / "package-lock.json").read_text())
    assert package["version"] == VERSION
    assert lock["version"] == lock["packages"][""]["version"] == VERSION


def test_the_python_client_ships_the_shared_service_config() -> None:
    # scripts/generate_python.sh copies it; the package reads its copy.
    shipped = CLIENTS / "python" / "datagw" / "service_config.json"
    assert shipped.read_bytes() == (CLIENTS / "service_config.json").read_bytes()
