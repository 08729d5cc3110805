"""The services table is the one list of services: every proto service of
datagw.v1 has an entry, every method its facts, and what derives from the
table (policy domains, health names) agrees with it."""

from __future__ import annotations

import importlib
from pathlib import Path

from gateway.policy.methods import Access, RouteKind
from gateway.runtime.services import POLICY_DOMAINS, SERVICE_NAMES, SERVICES, method_facts

ROOT = Path(__file__).resolve().parents[2]


def _proto_services() -> set[str]:
    names = set()
    for proto in sorted((ROOT / "proto/datagw/v1").glob("*.proto")):
        module = importlib.import_module(f"datagw.v1.{proto.stem}_pb2")
        names |= {s.full_name for s in module.DESCRIPTOR.services_by_name.values()}
    return names


def test_every_proto_service_has_exactly_one_entry() -> None:
    assert sorted(SERVICE_NAMES) == sorted(_proto_services())
    assert len(set(SERVICE_NAMES)) == len(SERVICE_NAMES)


def test_every_method_has_its_facts_and_no_fact_names_a_missing_method() -> None:
    for entry in SERVICES:
        declared = {m.name for m in entry.descriptor.methods}
        assert set(entry.methods) == declared, entry.name


def test_policy_domains_are_the_entries_domains() -> None:
    # Every file but the access policy configures one domain.
    policy_files = {p.stem for p in (ROOT / "policies").glob("*.yaml")} - {"access"}
    assert set(POLICY_DOMAINS) == policy_files
    assert len(set(POLICY_DOMAINS)) == len(POLICY_DOMAINS)


def test_planned_reads_are_reads_with_read_options() -> None:
    """A route marks a read whose consistency the policy plans: the request
    must carry ReadOptions (or be the scatter an admin lists with), and the
    routing field must exist."""
    for entry in SERVICES:
        for method in entry.descriptor.methods:
            facts = entry.methods[method.name]
            fields = {f.name for f in method.input_type.fields}
            if facts.route is None:
                assert "read_options" not in fields, f"{entry.name}/{method.name} lacks a route"
                continue
            assert facts.idempotent
            if facts.route.kind is RouteKind.SCATTER:
                assert facts.route.domain is not None
                continue
            assert facts.access is Access.READ
            assert "read_options" in fields, method.full_name
            if facts.route.kind in (RouteKind.KEY, RouteKind.ID):
                assert facts.route.field in fields, method.full_name


def test_method_facts_lookup() -> None:
    found = method_facts("/datagw.v1.OrderService/GetOrder")
    assert found is not None and found[1].route is not None
    assert found[1].route.kind is RouteKind.ID and found[1].route.id_kind == "o"
    assert method_facts("datagw.v1.OrderService/GetOrder") == found
    assert method_facts("datagw.v1.OrderService/Nope") is None
    assert method_facts("datagw.v1.Nope/GetOrder") is None
    erase = method_facts("datagw.v1.UserService/EraseUser")
    assert erase is not None and erase[1].sensitive and erase[1].access is Access.WRITE


def test_api_md_documents_every_service_and_method() -> None:
    doc = (ROOT / "docs/api.md").read_text("utf-8")
    headings = [line for line in doc.splitlines() if line.startswith("### ")]
    for entry in SERVICES:
        assert any(entry.descriptor.name in h for h in headings), entry.name
        missing = [m for m in entry.methods if f"`{m}`" not in doc]
        assert not missing, f"docs/api.md lacks {entry.descriptor.name}: {missing}"
