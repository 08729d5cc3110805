"""Policy validation (every mistake named by file and key) and read planning."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.policy.loader import PolicyError, PolicyProblem, load_policies, parse_policy
from gateway.policy.model import CACHE_OFF, Consistency, Store
from gateway.policy.registry import PolicyRegistry
from gateway.runtime.services import POLICY_CATALOG, POLICY_DOMAINS
from tests.policy_fixtures import POLICIES, copy_policies, edit

LEVELS = "strong, read_your_writes, bounded_staleness, eventual"
CATALOG = (POLICIES / "catalog.yaml").read_text("utf-8")
SESSIONS = (POLICIES / "sessions.yaml").read_text("utf-8")
INVENTORY = (POLICIES / "inventory.yaml").read_text("utf-8")
USERS = (POLICIES / "users.yaml").read_text("utf-8")
ORDERS = (POLICIES / "orders.yaml").read_text("utf-8")
ANALYTICS = (POLICIES / "analytics.yaml").read_text("utf-8")


def problems_of(text: str, file: str = "x.yaml") -> list[PolicyProblem]:
    policy, problems = parse_policy(file, text, POLICY_DOMAINS)
    assert policy is None and problems, "expected the policy to be refused"
    assert all(p.file == file for p in problems)
    return problems


def only_problem(text: str) -> PolicyProblem:
    (problem,) = problems_of(text)
    return problem


def load_error(directory: Path) -> list[PolicyProblem]:
    with pytest.raises(PolicyError) as err:
        load_policies(directory, POLICY_CATALOG)
    # The exception text is what the CLI and the logs show: one line per problem.
    assert str(err.value).splitlines() == [str(p) for p in err.value.problems]
    return err.value.problems


def test_the_default_directory_loads() -> None:
    policies = load_policies(POLICIES, POLICY_CATALOG)
    assert set(policies.domains) == {"catalog", "sessions", "users", "orders", "payments",
                                     "inventory", "events", "analytics"}
    analytics = policies.get("analytics")
    assert analytics.store is Store.CLICKHOUSE and analytics.query is not None
    assert analytics.retention_s("clickstream") == 90 * 86400
    assert policies.get("orders").retention_s("events") is None
    catalog, sessions = policies.get("catalog"), policies.get("sessions")
    assert catalog.source_file == "catalog.yaml"
    assert catalog.store is Store.POSTGRES and catalog.keyspace == "catalog"
    assert catalog.default_consistency is Consistency.EVENTUAL
    assert catalog.allowed_consistency == (
        Consistency.STRONG, Consistency.BOUNDED_STALENESS, Consistency.EVENTUAL)
    assert catalog.max_staleness_s == 5
    assert (catalog.cache.enabled, catalog.cache.ttl_s, catalog.cache.jitter_percent,
            catalog.cache.negative_ttl_s, catalog.cache.search_ttl_s) == (True, 300, 10, 30, 30)
    assert catalog.cache.near_ttl_s == 2
    assert sessions.store is Store.REDIS and sessions.keyspace is None
    assert sessions.cache == CACHE_OFF
    assert sessions.session is not None
    assert (sessions.session.ttl_s, sessions.session.sliding,
            sessions.session.max_per_user) == (1800, True, 50)


@pytest.mark.parametrize(("old", "new", "key", "says"), [
    ("domain: catalog", "domain: catalog\ncolour: blue", "colour",
     "allowed keys: domain, store, keyspace, shard_key, scatter, consistency, cache, session"),
    ("domain: catalog", "domain: widgets", "domain",
     "catalog, sessions, users, orders, payments, inventory, events, analytics"),
    ("store: postgres", "store: mongo", "store", "postgres, redis"),
    ("keyspace: catalog\n", "", "keyspace", "needs a keyspace"),
    ("default: eventual", "default: read_your_writes", "consistency.default",
     "strong, bounded_staleness, eventual"),
    ("[strong, bounded_staleness, eventual]", "[strong, sometimes, eventual]",
     "consistency.allowed[1]", LEVELS),
    ("  max_staleness: 5s\n", "", "consistency.max_staleness",
     "required when bounded_staleness is allowed"),
    ("ttl: 5m", "ttl: 5 minutes", "cache.ttl", "250ms, 5s, 5m, 1h or 7d"),
    ("ttl: 5m", "ttl: 300", "cache.ttl", "250ms, 5s, 5m, 1h or 7d"),
    ("negative_ttl: 30s", "negative_ttl: soon", "cache.negative_ttl", "a duration"),
    ("jitter: 10%", "jitter: 150%", "cache.jitter", "0% to 100%"),
    ("near_ttl: 2s", "near_ttl: soon", "cache.near_ttl", "a duration"),
    ("near_ttl: 2s", "near_ttl: 10m", "cache.near_ttl", "'10m' is longer than cache.ttl ('5m')"),
    ("jitter: 10%", "jitter: 1.5%", "cache.jitter", "0% to 100%"),
    ("  ttl: 5m\n", "", "cache.ttl", "cache: off"),
    ("  jitter: 10%", "  jitter: 10%\n  size: 1GB", "cache.size", "ttl, jitter, negative_ttl"),
    ("  default: eventual", "  default: eventual\n  mode: fast", "consistency.mode",
     "default, allowed, max_staleness"),
    ("max_staleness: 5s", "max_staleness: 0s", "consistency.max_staleness", "greater than zero"),
    ("  default: eventual\n", "", "consistency.default", LEVELS),
    ("domain: catalog", "domain: catalog\nsession: {ttl: 5m}", "session",
     "only the sessions domain"),
])
def test_each_catalog_mistake_is_named(old: str, new: str, key: str, says: str) -> None:
    assert old in CATALOG
    problem = only_problem(CATALOG.replace(old, new))
    assert problem.key == key
    assert says in problem.message


def test_the_catalog_may_expire_its_product_events() -> None:
    text = CATALOG.replace("idempotency_keys: 7d", "idempotency_keys: 7d\n  events: 30d")
    policy, problems = parse_policy("catalog.yaml", text, POLICY_DOMAINS)
    assert problems == [] and policy is not None
    assert dict(policy.retention)["events"] == 30 * 86_400


@pytest.mark.parametrize(("old", "new", "key", "says"), [
    ("session:\n  ttl: 30m\n  sliding: true\n  max_per_user: 50\n", "", "session",
     "required for the sessions domain"),
    ("sliding: true", "sliding: yes please", "session.sliding", "true or false"),
    ("max_per_user: 50", "max_per_user: 0", "session.max_per_user", "1 to 10000"),
    ("max_per_user: 50", "max_per_user: many", "session.max_per_user", "1 to 10000"),
    ("ttl: 30m", "ttl: forever", "session.ttl", "a duration"),
    ("  max_per_user: 50", "  max_per_user: 50\n  idle: 5m", "session.idle",
     "ttl, sliding, max_per_user"),
    ("store: redis", "store: redis\nkeyspace: sessions", "keyspace", "only postgres"),
    ("store: redis", "store: redis\ncache: {ttl: 5m}", "cache", "cache: off"),
    ("[strong]", "[strong, bounded_staleness]", "consistency.max_staleness", "required"),
])
def test_each_sessions_mistake_is_named(old: str, new: str, key: str, says: str) -> None:
    assert old in SESSIONS
    problem = only_problem(SESSIONS.replace(old, new))
    assert problem.key == key
    assert says in problem.message


@pytest.mark.parametrize(("text", "old", "new", "key", "says"), [
    # Retention of a postgres domain: its event streams, as a duration.
    (INVENTORY, "events: 400d", "clickstream: 400d", "retention.clickstream",
     "unknown key; allowed keys: events"),
    (INVENTORY, "events: 400d", "events: forever", "retention.events", "a duration"),
    (INVENTORY, "events: 400d", "events: 400", "retention.events", "a duration"),
    (INVENTORY, "events: 400d", "events: 0d", "retention.events", "greater than zero"),
    (INVENTORY, "retention:\n  events: 400d\n  idempotency_keys: 7d", "retention: 400d",
     "retention", "expected a mapping with keys events, idempotency_keys"),
    (INVENTORY, "cache: off", "cache: off\nquery: {max_rows: 10, tables: [stock]}", "query",
     "only a clickhouse domain"),
    (CATALOG, "idempotency_keys: 7d", "idempotency_keys: 7d\n  clickstream: 30d",
     "retention.clickstream", "unknown key; allowed keys: events, idempotency_keys"),
    # Rows kept for a while: each key only in the policy of the domain owning them.
    (INVENTORY, "events: 400d", "events: 400d\n  finished_sagas: 30d",
     "retention.finished_sagas", "the inventory domain keeps no finished_sagas (set it in the "
     "policy of: orders); allowed keys: events, idempotency_keys"),
    (INVENTORY, "idempotency_keys: 7d", "idempotency_keys: 7", "retention.idempotency_keys",
     "a duration"),
    (USERS, "orphaned_emails: 1d", "orphaned_emails: 10m", "retention.orphaned_emails",
     "shorter than 1h"),
    (USERS, "orphaned_emails: 1d", "idempotency_keys: 1d", "retention.idempotency_keys",
     "set it in the policy of: orders, inventory, catalog"),
    # A redis domain keeps nothing with a retention.
    (SESSIONS, "store: redis", "store: redis\nretention: {events: 30d}", "retention",
     "a redis domain keeps no data with a retention"),
    # The clickhouse domain: its tables' TTLs, and RunQuery limits it must have.
    (ANALYTICS, "clickstream: 90d", "clickstream: 90d\n  events: 30d", "retention.events",
     "allowed keys: domain_events, clickstream"),
    (ANALYTICS, "clickstream: 90d", "clickstream: a while", "retention.clickstream",
     "a duration"),
    (ANALYTICS, "query:\n  max_rows: 10000\n  max_execution_time: 10s\n"
     "  max_memory: 256MiB    # per query; the embedded engine shares the gateway's memory\n"
     "  tables: [orders, order_lines, clickstream, domain_events]\n", "", "query",
     "required for a clickhouse domain"),
    (ANALYTICS, "max_rows: 10000", "max_rows: 0", "query.max_rows", "1 to 1000000"),
    (ANALYTICS, "max_rows: 10000", "max_rows: lots", "query.max_rows", "1 to 1000000"),
    (ANALYTICS, "max_execution_time: 10s", "max_execution_time: soon",
     "query.max_execution_time", "a duration"),
    (ANALYTICS, "max_memory: 256MiB", "max_memory: 256MB", "query.max_memory",
     "a size such as 256MiB"),
    (ANALYTICS, "max_memory: 256MiB", "max_memory: 1MiB", "query.max_memory",
     "from 16MiB to 64GiB"),
    (ANALYTICS, "[orders, order_lines, clickstream, domain_events]", "[]", "query.tables",
     "a non-empty list of table names"),
    (ANALYTICS, "[orders, order_lines, clickstream, domain_events]", "[system.tables]",
     "query.tables", "a non-empty list of table names"),
    (ANALYTICS, "  max_rows: 10000", "  max_rows: 10000\n  sql: SELECT 1", "query.sql",
     "allowed keys: max_rows, max_execution_time, max_memory, tables"),
    (ANALYTICS, "query:\n  max_rows: 10000\n  max_execution_time: 10s\n"
     "  max_memory: 256MiB    # per query; the embedded engine shares the gateway's memory\n"
     "  tables: [orders, order_lines, clickstream, domain_events]\n", "query: all\n", "query",
     "expected a mapping with keys max_rows, max_execution_time, max_memory, tables"),
    (ANALYTICS, "store: clickhouse", "store: clickhouse\nkeyspace: analytics", "keyspace",
     "only postgres domains"),
])
def test_each_retention_and_query_mistake_is_named(text: str, old: str, new: str, key: str,
                                                    says: str) -> None:
    assert old in text
    problem = only_problem(text.replace(old, new))
    assert problem.key == key
    assert says in problem.message


def test_retention_and_query_limits_are_read() -> None:
    inventory, problems = parse_policy("x.yaml", INVENTORY, POLICY_DOMAINS)
    assert problems == [] and inventory is not None
    assert inventory.retention == (("events", 400 * 86400), ("idempotency_keys", 7 * 86400))
    orders, problems = parse_policy("x.yaml", ORDERS, POLICY_DOMAINS)
    assert problems == [] and orders is not None
    assert orders.retention_s("finished_sagas") == 30 * 86400
    assert orders.retention_s("idempotency_keys") == 7 * 86400
    users, problems = parse_policy("x.yaml", USERS, POLICY_DOMAINS)
    assert problems == [] and users is not None
    assert users.retention_s("orphaned_emails") == 86400
    assert inventory.retention_s("events") == 400 * 86400 and inventory.query is None
    # A query section without max_execution_time gets 10s, without max_memory 256MiB.
    analytics, problems = parse_policy("x.yaml", ANALYTICS.replace(
        "  max_execution_time: 10s\n", "").replace("  max_memory: 256MiB", "  # no limit set"),
        POLICY_DOMAINS)
    assert problems == [] and analytics is not None and analytics.query is not None
    assert analytics.retention_s("domain_events") == 730 * 86400
    assert analytics.retention_s("events") is None
    assert (analytics.query.max_rows, analytics.query.max_execution_s,
            analytics.query.tables) == (10_000, 10.0, ("orders", "order_lines", "clickstream",
                                                        "domain_events"))
    assert analytics.query.max_memory_bytes == 256 * 2**20
    edited, problems = parse_policy("x.yaml", ANALYTICS.replace("256MiB", "2GiB"),
                                    POLICY_DOMAINS)
    assert problems == [] and edited is not None and edited.query is not None
    assert edited.query.max_memory_bytes == 2 * 2**30


def test_retention_under_a_bad_store_is_not_reported_again() -> None:
    problem = only_problem(INVENTORY.replace("store: postgres", "store: mongo"))
    assert problem.key == "store"


@pytest.mark.parametrize(("near", "seconds"), [("", 0.0), ("  near_ttl: 0s\n", 0.0),
                                                ("  near_ttl: 250ms\n", 0.25),
                                                ("  near_ttl: 5m\n", 300.0)])
def test_near_ttl_is_off_by_default_and_at_most_the_ttl(near: str, seconds: float) -> None:
    policy, problems = parse_policy("x.yaml", CATALOG.replace("  near_ttl: 2s\n", near),
                                    POLICY_DOMAINS)
    assert problems == []
    assert policy is not None and policy.cache.near_ttl_s == seconds


def test_near_ttl_beyond_a_bad_ttl_is_not_reported_twice() -> None:
    problem = only_problem(CATALOG.replace("ttl: 5m", "ttl: 1 second"))
    assert problem.key == "cache.ttl"


@pytest.mark.parametrize("spelling", ["off", "'off'", "false"])
def test_cache_off_is_accepted(spelling: str) -> None:
    text = CATALOG.split("cache:")[0] + f"cache: {spelling}\n"
    policy, problems = parse_policy("x.yaml", text, POLICY_DOMAINS)
    assert problems == []
    assert policy is not None and policy.cache == CACHE_OFF


def test_allowed_defaults_to_the_default_level() -> None:
    policy, _ = parse_policy("x.yaml", SESSIONS.replace("  allowed: [strong]\n", ""),
                             POLICY_DOMAINS)
    assert policy is not None and policy.allowed_consistency == (Consistency.STRONG,)


def test_several_mistakes_in_one_file_are_all_reported() -> None:
    text = (CATALOG.replace("store: postgres", "store: mongo")
            .replace("[strong, bounded_staleness, eventual]", "[strong, sometimes]")
            .replace("jitter: 10%", "jitter: 150%")
            .replace("ttl: 5m", "ttl: 5 minutes"))
    keys = {p.key for p in problems_of(text)}
    assert keys == {"store", "consistency.allowed[1]", "consistency.default", "cache.jitter",
                    "cache.ttl"}


def test_a_bad_default_is_reported_once() -> None:
    problem = only_problem(SESSIONS.replace("default: strong", "default: sometimes")
                           .replace("  allowed: [strong]\n", ""))
    assert (problem.key, problem.message) == (
        "consistency.default", f"'sometimes' is not one of: {LEVELS}")


@pytest.mark.parametrize("text", ["cache: off\n", "{}\n"])
def test_missing_required_keys(text: str) -> None:
    keys = {p.key for p in problems_of(text)}
    assert keys == {"domain", "store", "consistency"}


@pytest.mark.parametrize("text", ["", "- a list\n", "just text\n"])
def test_a_document_that_is_not_a_mapping(text: str) -> None:
    problem = only_problem(text)
    assert problem.key == "(document)"
    assert "expected a mapping" in problem.message


def test_invalid_yaml_names_the_line() -> None:
    text = CATALOG.replace("allowed: [strong, bounded_staleness, eventual]",
                           "allowed: [strong, bounded_staleness")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "bounded_staleness" in s)
    problem = only_problem(text)
    assert problem.key in {f"line {line}", f"line {line + 1}"}
    assert "not valid YAML" in problem.message


def test_duplicate_domain_across_two_files(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    (policies / "catalog-copy.yml").write_text(CATALOG)
    (problem,) = load_error(policies)
    assert problem.file in {"catalog.yaml", "catalog-copy.yml"}
    assert problem.key == "domain"
    assert "already defined in" in problem.message


def test_missing_required_domain(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    (policies / "sessions.yaml").unlink()
    (problem,) = load_error(policies)
    assert (problem.file, problem.key) == (str(policies), "(directory)")
    assert "'sessions'" in problem.message


def test_an_invalid_file_is_not_also_reported_missing(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    edit(policies / "sessions.yaml", "default: strong", "default: sometimes")
    (problem,) = load_error(policies)
    assert (problem.file, problem.key) == ("sessions.yaml", "consistency.default")


def test_problems_of_every_file_are_reported_together(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    edit(policies / "catalog.yaml", "jitter: 10%", "jitter: 150%")
    edit(policies / "sessions.yaml", "ttl: 30m", "ttl: 30 minutes")
    (policies / "notes.txt").write_text("not a policy: ignored\n")
    (policies / ".sessions.yaml.swp").write_text("\x00 editor junk")
    found = {(p.file, p.key) for p in load_error(policies)}
    assert found == {("catalog.yaml", "cache.jitter"), ("sessions.yaml", "session.ttl")}


def test_an_unreadable_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    (policies / "broken.yaml").write_bytes(b"domain: \xff\xfe\n")
    (policies / "dir.yaml").mkdir()
    found = {(p.file, p.key) for p in load_error(policies)}
    assert found == {("broken.yaml", "(file)"), ("dir.yaml", "(file)")}


def test_not_a_directory(tmp_path: Path) -> None:
    (problem,) = load_error(tmp_path / "missing")
    assert problem.message == "not a directory"


def test_registry_keeps_the_old_policies_on_a_bad_reload(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    registry = PolicyRegistry(policies, POLICY_CATALOG)
    edit(policies / "sessions.yaml", "ttl: 30m", "ttl: 10m")
    registry.reload()
    assert registry.generation == 2
    session = registry.get("sessions").session
    assert session is not None and session.ttl_s == 600
    edit(policies / "sessions.yaml", "ttl: 10m", "ttl: never")
    with pytest.raises(PolicyError):
        registry.reload()
    assert registry.generation == 2
    session = registry.get("sessions").session
    assert session is not None and session.ttl_s == 600


def test_registry_refuses_a_reload_that_moves_a_domain(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    registry = PolicyRegistry(policies, POLICY_CATALOG)
    edit(policies / "catalog.yaml", "keyspace: catalog", "keyspace: commerce")
    with pytest.raises(PolicyError) as err:
        registry.reload()
    (problem,) = err.value.problems
    assert (problem.file, problem.key) == ("catalog.yaml", "keyspace")
    assert "'catalog' -> 'commerce' takes a restart" in problem.message
    assert registry.generation == 1 and registry.get("catalog").keyspace == "catalog"


@pytest.mark.parametrize(("new", "key", "says"), [
    ("search: {language: \"english; drop\"}", "search.language",
     "not a text search configuration name"),
    ("search: {synonyms: tv}", "search.synonyms", "a list of word lists"),
    ("search: {synonyms: [[tv]]}", "search.synonyms[0]", "two words or more"),
    ("search: {synonyms: [[tv, '']]}", "search.synonyms[0]", "list of words or phrases"),
    ("search: {stemming: off}", "search.stemming", "allowed keys: language, synonyms"),
])
def test_each_search_mistake_is_named(new: str, key: str, says: str) -> None:
    problem = only_problem(CATALOG.split("\nsearch:")[0] + "\n" + new + "\n")
    assert problem.key == key
    assert says in problem.message


def test_search_settings_are_read_and_only_the_catalog_has_them() -> None:
    text = CATALOG.split("\nsearch:")[0] + (
        "\nsearch:\n  language: pg_catalog.german\n"
        "  synonyms: [[Laptop, notebook, NoteBook], [tv, flat  screen]]\n")
    catalog, problems = parse_policy("x.yaml", text, POLICY_DOMAINS)
    assert problems == [] and catalog is not None
    assert catalog.search.language == "pg_catalog.german"
    assert catalog.search.synonyms == (("laptop", "notebook"), ("tv", "flat screen"))
    default, _ = parse_policy("x.yaml", CATALOG, POLICY_DOMAINS)
    assert default is not None and default.search.language == "english"
    assert only_problem(INVENTORY + "search: {language: english}\n").key == "search"
