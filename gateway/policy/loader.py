"""Loads and validates a policy directory.

Every problem is reported at once, each naming the file, the key path, the
value found and what is allowed, so an operator fixes a directory in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.policy.access import AccessPolicy
from gateway.policy.access_loader import ACCESS_FILE, parse_access
from gateway.policy.model import (
    CACHE_OFF,
    ORPHANED_EMAILS_GRACE_S,
    RETENTION_KEYS,
    ROW_RETENTION_KEYS,
    CachePolicy,
    Consistency,
    DomainPolicy,
    PolicyCatalog,
    PolicySet,
    QueryPolicy,
    SearchPolicy,
    SessionPolicy,
    Store,
    retention_keys,
)
from gateway.yaml_fields import FieldReader, Problem

_TOP_KEYS = ("domain", "store", "keyspace", "shard_key", "scatter", "consistency", "cache",
             "session", "retention", "query", "search")
_QUERY_KEYS = ("max_rows", "max_execution_time", "max_memory", "tables")
_SCATTER = ("allowed", "forbidden")
_CONSISTENCY_KEYS = ("default", "allowed", "max_staleness")
_CACHE_KEYS = ("ttl", "jitter", "negative_ttl", "search_ttl", "near_ttl",
               "stale_while_revalidate", "lease")
_SESSION_KEYS = ("ttl", "sliding", "max_per_user")
_SEARCH_KEYS = ("language", "synonyms")
# A text search configuration's name, optionally schema-qualified: whether
# the database has it is known only there (the search maintenance job logs a
# name it lacks and keeps the language it had).
_LANGUAGE = re.compile(r"^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$")
_LEVELS = tuple(c.value for c in Consistency)

# One problem of a policy directory: file, key path, what is wrong and allowed.
PolicyProblem = Problem


class PolicyError(Exception):
    """A policy directory that does not validate; `problems` lists every issue."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _consistency(c: FieldReader, raw: Any) -> tuple[Consistency, tuple[Consistency, ...], float]:
    body = c.mapping("consistency", raw, _CONSISTENCY_KEYS)
    default: Consistency | None = None
    if "default" in body:
        default = c.member("consistency.default", body["default"], Consistency)
    elif isinstance(raw, dict):  # a section that is not a mapping is reported already
        c.problem("consistency.default", f"required; use one of: {', '.join(_LEVELS)}")
    allowed: list[Consistency] = []
    allowed_raw = body.get("allowed")
    if "allowed" not in body:
        # The default alone; a bad default has been reported once already.
        allowed = [default] if default is not None else []
    elif not isinstance(allowed_raw, list) or not allowed_raw:
        c.problem("consistency.allowed", f"expected a non-empty list of: {', '.join(_LEVELS)}")
    else:
        for i, level in enumerate(allowed_raw):
            member = c.member(f"consistency.allowed[{i}]", level, Consistency)
            if member is not None:
                allowed.append(member)
    if default is not None and allowed and default not in allowed:
        c.problem(
            "consistency.default",
            f"{default.value!r} must also be listed in consistency.allowed "
            f"({', '.join(a.value for a in allowed)})",
        )
    staleness = 0.0
    if "max_staleness" in body:
        staleness = c.duration("consistency.max_staleness", body["max_staleness"])
    elif Consistency.BOUNDED_STALENESS in allowed:
        c.problem("consistency.max_staleness", "required when bounded_staleness is allowed")
    level = default if default is not None else Consistency.STRONG
    return level, tuple(allowed), staleness


def _cache(c: FieldReader, raw: Any) -> CachePolicy:
    # YAML reads a bare `off` as False; accept both spellings.
    if raw is None or raw is False or raw == "off":
        return CACHE_OFF
    body = c.mapping("cache", raw, _CACHE_KEYS)
    if "ttl" not in body:
        c.problem("cache.ttl", "required when the cache is on (or write cache: off)")
    ttl = c.duration("cache.ttl", body.get("ttl", "1s"))
    negative = c.duration("cache.negative_ttl", body.get("negative_ttl", "0s"), positive=False)
    search = c.duration("cache.search_ttl", body.get("search_ttl", "0s"), positive=False)
    jitter = c.percent("cache.jitter", body.get("jitter", "0%"))
    near = c.duration("cache.near_ttl", body.get("near_ttl", "0s"), positive=False)
    swr = c.duration("cache.stale_while_revalidate", body.get("stale_while_revalidate", "0s"),
                     positive=False)
    lease = c.duration("cache.lease", body.get("lease", "1s"))
    # A bad or missing ttl is reported already (and parsed as 0 or 1s).
    if "ttl" in body and ttl > 0 and near > ttl:
        c.problem("cache.near_ttl",
                  f"{body['near_ttl']!r} is longer than cache.ttl ({body['ttl']!r})")
    return CachePolicy(
        enabled=True, ttl_s=ttl, jitter_percent=jitter, negative_ttl_s=negative,
        search_ttl_s=search, near_ttl_s=near, stale_while_revalidate_s=swr, lease_s=lease,
    )


def _session(c: FieldReader, raw: Any) -> SessionPolicy:
    body = c.mapping("session", raw, _SESSION_KEYS)
    return SessionPolicy(
        ttl_s=c.duration("session.ttl", body.get("ttl")),
        sliding=c.boolean("session.sliding", body.get("sliding", False)),
        max_per_user=c.integer("session.max_per_user", body.get("max_per_user", 100), 1, 10_000),
    )


def _retention(c: FieldReader, raw: Any, store: Store | None,
               domain: str | None) -> tuple[tuple[str, float], ...]:
    if store is None or (store is Store.POSTGRES and domain is None):
        return ()  # the store or domain is missing or wrong, reported already
    allowed = retention_keys(store.value, domain)
    if not allowed:
        what = f"a {store.value} domain" if store is not Store.POSTGRES else f"the {domain} domain"
        c.problem("retention", f"{what} keeps no data with a retention; remove it")
        return ()
    if not isinstance(raw, dict):
        c.mapping("retention", raw, allowed)
        return ()
    found = []
    for k, v in raw.items():
        if k not in allowed:
            c.problem(f"retention.{k}", f"{_not_kept(k, store, domain)}; allowed keys: "
                      f"{', '.join(allowed)}")
            continue
        seconds = c.duration(f"retention.{k}", v)
        if k == "orphaned_emails" and 0 < seconds < ORPHANED_EMAILS_GRACE_S:
            c.problem(f"retention.{k}", f"{v!r} is shorter than 1h: a younger lookup row may be "
                      "a claim whose user is still being written")
        found.append((k, seconds))
    return tuple(found)


def _not_kept(key: str, store: Store, domain: str | None) -> str:
    """Why a retention key does not apply to this domain."""
    if store is Store.POSTGRES and key in RETENTION_KEYS["postgres"]:
        return f"the {domain} domain appends no events to expire"
    owners = [d for d, keys in ROW_RETENTION_KEYS.items() if key in keys]
    if store is Store.POSTGRES and owners:
        return f"the {domain} domain keeps no {key} (set it in the policy of: {', '.join(owners)})"
    return "unknown key"


def _query(c: FieldReader, raw: Any) -> QueryPolicy:
    body = c.mapping("query", raw, _QUERY_KEYS)
    if not isinstance(raw, dict):
        # Reported once as not a mapping, not again for each missing key.
        return QueryPolicy(max_rows=1, max_execution_s=0.0, tables=())
    return QueryPolicy(
        max_rows=c.integer("query.max_rows", body.get("max_rows", 10_000), 1, 1_000_000),
        max_execution_s=c.duration("query.max_execution_time",
                                   body.get("max_execution_time", "10s")),
        tables=tuple(c.strings("query.tables", body.get("tables"), "table names",
                               each=str.isidentifier, non_empty=True)),
        max_memory_bytes=c.size("query.max_memory", body.get("max_memory", "256MiB"),
                                16 * 2**20, 64 * 2**30),
    )


def _search(c: FieldReader, raw: Any) -> SearchPolicy:
    body = c.mapping("search", raw, _SEARCH_KEYS)
    language = str(body.get("language", "english"))
    if not _LANGUAGE.match(language):
        c.problem("search.language", f"{language!r} is not a text search configuration name "
                  "(e.g. english, simple, german)")
    groups: list[tuple[str, ...]] = []
    raw_groups = body.get("synonyms", [])
    if not isinstance(raw_groups, list):
        c.problem("search.synonyms", "expected a list of word lists, e.g. [[tv, television]]")
        raw_groups = []
    for i, group in enumerate(raw_groups):
        words = c.strings(f"search.synonyms[{i}]", group, "words or phrases",
                          each=lambda w: bool(w.strip()), non_empty=True)
        if len(words) == 1:
            c.problem(f"search.synonyms[{i}]", "a group needs two words or more")
        groups.append(tuple(dict.fromkeys(" ".join(w.lower().split()) for w in words)))
    return SearchPolicy(language=language, synonyms=tuple(groups))


def parse_policy(
    file: str, text: str, domains: Sequence[str]
) -> tuple[DomainPolicy | None, list[PolicyProblem]]:
    """One policy document of one of `domains`; the policy when valid, and
    every problem found."""
    policy, problems, _ = _parse(file, text, domains)
    return policy, problems


def _parse(
    file: str, text: str, domains: Sequence[str]
) -> tuple[DomainPolicy | None, list[PolicyProblem], str | None]:
    """As parse_policy, plus the known domain the file names even when it is invalid."""
    c = FieldReader(file)
    raw = c.parse(text)
    if c.problems:  # not YAML
        return None, c.problems, None
    body = c.mapping("", raw, _TOP_KEYS)
    if not isinstance(raw, dict):
        return None, c.problems, None
    for required in ("domain", "store", "consistency"):
        if required not in body:
            c.problem(required, "required key is missing")
    domain = c.choice("domain", body["domain"], tuple(domains)) if "domain" in body else None
    store = c.member("store", body["store"], Store) if "store" in body else None
    keyspace = body.get("keyspace")
    if store is Store.POSTGRES and not (isinstance(keyspace, str) and keyspace):
        c.problem("keyspace", f"{keyspace!r}: a postgres domain needs a keyspace name")
    if store is Store.REDIS and keyspace is not None:
        c.problem("keyspace", "only postgres domains have a keyspace")
    default, allowed, staleness = (
        _consistency(c, body["consistency"]) if "consistency" in body
        else (Consistency.STRONG, (), 0.0)  # reported as missing above
    )
    cache = _cache(c, body.get("cache"))
    if store is Store.REDIS and cache.enabled:
        c.problem("cache", "a redis domain already lives in redis; remove it or write cache: off")
    shard_key = body.get("shard_key")
    if shard_key is not None and (store is not Store.POSTGRES or not isinstance(shard_key, str)
                                  or not shard_key):
        c.problem("shard_key", f"{shard_key!r}: a shard key is a field name, for postgres domains")
    scatter = c.choice("scatter", body.get("scatter", "allowed"), _SCATTER)
    session = _session(c, body["session"]) if "session" in body else None
    if domain == "sessions" and session is None:
        c.problem("session", "required for the sessions domain (ttl, sliding, max_per_user)")
    if domain not in (None, "sessions") and session is not None:
        c.problem("session", f"only the sessions domain has a session section, not {domain!r}")
    retention = _retention(c, body["retention"], store, domain) if "retention" in body else ()
    query = _query(c, body["query"]) if "query" in body else None
    if query is not None and store is not Store.CLICKHOUSE:
        c.problem("query", "only a clickhouse domain (analytics) has query limits")
    if store is Store.CLICKHOUSE and query is None:
        c.problem("query", "required for a clickhouse domain (max_rows, max_execution_time, "
                  "tables)")
    search = _search(c, body["search"]) if "search" in body else SearchPolicy()
    if "search" in body and domain not in (None, "catalog"):
        c.problem("search", f"only the catalog domain has a search section, not {domain!r}")
    if store is Store.CLICKHOUSE and keyspace is not None:
        c.problem("keyspace", "only postgres domains have a keyspace")
    if c.problems or domain is None or store is None:
        return None, c.problems, domain
    return (
        DomainPolicy(
            domain=domain,
            source_file=file,
            store=store,
            keyspace=keyspace if isinstance(keyspace, str) else None,
            default_consistency=default,
            allowed_consistency=allowed,
            max_staleness_s=staleness,
            cache=cache,
            session=session,
            shard_key=shard_key if isinstance(shard_key, str) else None,
            scatter_allowed=scatter != "forbidden",
            retention=retention,
            query=query,
            search=search,
        ),
        [],
        domain,
    )


def load_policies(directory: Path, catalog: PolicyCatalog) -> PolicySet:
    """Every *.yaml/*.yml file of `directory`: one per domain of the catalog
    (the services table's), and the access policy; PolicyError lists all
    problems."""
    names = catalog.domains
    problems: list[PolicyProblem] = []
    domains: dict[str, DomainPolicy] = {}
    if not directory.is_dir():
        raise PolicyError([PolicyProblem(str(directory), "(directory)", "not a directory")])
    # Dot files are editor swap files and locks, not policies.
    files = sorted(p for p in directory.iterdir()
                   if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))
    declared: set[str] = set()
    access = AccessPolicy()
    for path in files:
        reader = FieldReader(path.name)
        text = reader.read(path)
        if text is None:
            problems.extend(reader.problems)
            continue
        if path.name == ACCESS_FILE:
            parsed, found = parse_access(path.name, text, catalog.methods)
            problems.extend(found)
            access = parsed or access
            continue
        policy, found, named = _parse(path.name, text, names)
        problems.extend(found)
        if named is not None:
            declared.add(named)
        if policy is None:
            continue
        if policy.domain in domains:
            problems.append(
                PolicyProblem(
                    path.name, "domain",
                    f"{policy.domain!r} is already defined in {domains[policy.domain].source_file}",
                )
            )
            continue
        domains[policy.domain] = policy
    for name in names:
        # A file that names the domain but is invalid has been reported already.
        if name not in declared and not any(p.key == "domain" for p in problems):
            problems.append(
                PolicyProblem(str(directory), "(directory)", f"no policy file for domain {name!r}")
            )
    if problems:
        raise PolicyError(problems)
    return PolicySet(directory=str(directory), domains=domains, access=access)
