"""Loads and validates a policy directory.

Every problem is reported at once, each naming the file, the key path, the
value found and what is allowed, so an operator fixes a directory in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gateway.policy.durations import DURATION_HINT, parse_duration
from gateway.policy.model import (
    CACHE_OFF,
    EVENT_STREAM_PREFIXES,
    RETENTION_KEYS,
    CachePolicy,
    Consistency,
    DomainPolicy,
    PolicySet,
    QueryPolicy,
    SessionPolicy,
    Store,
)

_TOP_KEYS = ("domain", "store", "keyspace", "shard_key", "scatter", "consistency", "cache",
             "session", "retention", "query")
_QUERY_KEYS = ("max_rows", "max_execution_time", "tables")
_SCATTER = ("allowed", "forbidden")
_CONSISTENCY_KEYS = ("default", "allowed", "max_staleness")
_CACHE_KEYS = ("ttl", "jitter", "negative_ttl", "search_ttl", "near_ttl")
_SESSION_KEYS = ("ttl", "sliding", "max_per_user")
_LEVELS = tuple(c.value for c in Consistency)
_STORES = tuple(s.value for s in Store)


@dataclass(frozen=True)
class PolicyProblem:
    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


class PolicyError(Exception):
    """A policy directory that does not validate; `problems` lists every issue."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _FileChecker:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[PolicyProblem] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(PolicyProblem(self.file, key, message))

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.problem(key or "(document)",
                         f"expected a mapping with keys {', '.join(allowed)}, got {value!r}")
            return {}
        for k in value:
            if k not in allowed:
                where = f"{key}.{k}" if key else str(k)
                self.problem(where, f"unknown key; allowed keys: {', '.join(allowed)}")
        return value

    def choice(self, value: Any, key: str, allowed: tuple[str, ...]) -> str | None:
        if value not in allowed:
            self.problem(key, f"{value!r} is not allowed; use one of: {', '.join(allowed)}")
            return None
        return str(value)

    def duration(self, value: Any, key: str, *, positive: bool = True) -> float:
        try:
            seconds = parse_duration(str(value)) if isinstance(value, str) else -1.0
        except ValueError:
            seconds = -1.0
        if seconds < 0 or (positive and seconds == 0):
            self.problem(key, f"{value!r} is not {DURATION_HINT} (greater than zero)")
            return 0.0
        return seconds

    def percent(self, value: Any, key: str) -> int:
        text = str(value).strip()
        digits = text[:-1] if text.endswith("%") else text
        if not digits.isdigit() or int(digits) > 100:
            self.problem(key, f"{value!r} is not a percentage from 0% to 100%")
            return 0
        return int(digits)


def _consistency(c: _FileChecker, raw: Any) -> tuple[Consistency, tuple[Consistency, ...], float]:
    body = c.mapping(raw, "consistency", _CONSISTENCY_KEYS)
    default: str | None = None
    if "default" in body:
        default = c.choice(body["default"], "consistency.default", _LEVELS)
    elif isinstance(raw, dict):  # a section that is not a mapping is reported already
        c.problem("consistency.default", f"required; use one of: {', '.join(_LEVELS)}")
    allowed: list[Consistency] = []
    allowed_raw = body.get("allowed")
    if "allowed" not in body:
        # The default alone; a bad default has been reported once already.
        allowed = [Consistency(default)] if default else []
    elif not isinstance(allowed_raw, list) or not allowed_raw:
        c.problem("consistency.allowed", f"expected a non-empty list of: {', '.join(_LEVELS)}")
    else:
        for i, level in enumerate(allowed_raw):
            name = c.choice(level, f"consistency.allowed[{i}]", _LEVELS)
            if name:
                allowed.append(Consistency(name))
    if default and allowed and Consistency(default) not in allowed:
        c.problem(
            "consistency.default",
            f"{default!r} must also be listed in consistency.allowed "
            f"({', '.join(a.value for a in allowed)})",
        )
    staleness = 0.0
    if "max_staleness" in body:
        staleness = c.duration(body["max_staleness"], "consistency.max_staleness")
    elif Consistency.BOUNDED_STALENESS in allowed:
        c.problem("consistency.max_staleness", "required when bounded_staleness is allowed")
    level = Consistency(default) if default else Consistency.STRONG
    return level, tuple(allowed), staleness


def _cache(c: _FileChecker, raw: Any) -> CachePolicy:
    # YAML reads a bare `off` as False; accept both spellings.
    if raw is None or raw is False or raw == "off":
        return CACHE_OFF
    body = c.mapping(raw, "cache", _CACHE_KEYS)
    if "ttl" not in body:
        c.problem("cache.ttl", "required when the cache is on (or write cache: off)")
    ttl = c.duration(body.get("ttl", "1s"), "cache.ttl")
    negative = c.duration(body.get("negative_ttl", "0s"), "cache.negative_ttl", positive=False)
    search = c.duration(body.get("search_ttl", "0s"), "cache.search_ttl", positive=False)
    jitter = c.percent(body.get("jitter", "0%"), "cache.jitter")
    near = c.duration(body.get("near_ttl", "0s"), "cache.near_ttl", positive=False)
    # A bad or missing ttl is reported already (and parsed as 0 or 1s).
    if "ttl" in body and ttl > 0 and near > ttl:
        c.problem("cache.near_ttl",
                  f"{body['near_ttl']!r} is longer than cache.ttl ({body['ttl']!r})")
    return CachePolicy(
        enabled=True, ttl_s=ttl, jitter_percent=jitter, negative_ttl_s=negative,
        search_ttl_s=search, near_ttl_s=near,
    )


def _session(c: _FileChecker, raw: Any) -> SessionPolicy:
    body = c.mapping(raw, "session", _SESSION_KEYS)
    ttl = c.duration(body.get("ttl"), "session.ttl")
    sliding = body.get("sliding", False)
    if not isinstance(sliding, bool):
        c.problem("session.sliding", f"{sliding!r} is not true or false")
        sliding = False
    max_per_user = body.get("max_per_user", 100)
    if not isinstance(max_per_user, int) or isinstance(max_per_user, bool) or not (
        1 <= max_per_user <= 10_000
    ):
        c.problem("session.max_per_user", f"{max_per_user!r} is not a whole number from 1 to 10000")
        max_per_user = 100
    return SessionPolicy(ttl_s=ttl, sliding=sliding, max_per_user=max_per_user)


def _retention(c: _FileChecker, raw: Any, store: str | None) -> tuple[tuple[str, float], ...]:
    if store is None:
        return ()  # the store is missing or wrong, reported already
    allowed = RETENTION_KEYS.get(store, ())
    if not allowed:
        c.problem("retention", f"a {store} domain keeps no data with a retention; remove it")
        return ()
    body = c.mapping(raw, "retention", allowed)
    return tuple((k, c.duration(v, f"retention.{k}")) for k, v in body.items() if k in allowed)


def _query(c: _FileChecker, raw: Any) -> QueryPolicy:
    body = c.mapping(raw, "query", _QUERY_KEYS)
    if not isinstance(raw, dict):
        # Reported once as not a mapping, not again for each missing key.
        return QueryPolicy(max_rows=1, max_execution_s=0.0, tables=())
    max_rows = body.get("max_rows", 10_000)
    if not isinstance(max_rows, int) or isinstance(max_rows, bool) or not (
        1 <= max_rows <= 1_000_000
    ):
        c.problem("query.max_rows", f"{max_rows!r} is not a whole number from 1 to 1000000")
        max_rows = 1
    timeout = c.duration(body.get("max_execution_time", "10s"), "query.max_execution_time")
    tables = body.get("tables")
    if not isinstance(tables, list) or not tables or not all(
            isinstance(t, str) and t.isidentifier() for t in tables):
        c.problem("query.tables", f"{tables!r}: expected a non-empty list of table names")
        tables = []
    return QueryPolicy(max_rows=max_rows, max_execution_s=timeout, tables=tuple(tables))


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
    c = _FileChecker(file)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(document)"
        c.problem(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")
        return None, c.problems, None
    body = c.mapping(raw, "", _TOP_KEYS)
    if not isinstance(raw, dict):
        return None, c.problems, None
    for required in ("domain", "store", "consistency"):
        if required not in body:
            c.problem(required, "required key is missing")
    domain = c.choice(body.get("domain"), "domain", tuple(domains)) if "domain" in body else None
    store = c.choice(body.get("store"), "store", _STORES) if "store" in body else None
    keyspace = body.get("keyspace")
    if store == Store.POSTGRES.value and not (isinstance(keyspace, str) and keyspace):
        c.problem("keyspace", f"{keyspace!r}: a postgres domain needs a keyspace name")
    if store == Store.REDIS.value and keyspace is not None:
        c.problem("keyspace", "only postgres domains have a keyspace")
    default, allowed, staleness = (
        _consistency(c, body["consistency"]) if "consistency" in body
        else (Consistency.STRONG, (), 0.0)  # reported as missing above
    )
    cache = _cache(c, body.get("cache"))
    if store == Store.REDIS.value and cache.enabled:
        c.problem("cache", "a redis domain already lives in redis; remove it or write cache: off")
    shard_key = body.get("shard_key")
    if shard_key is not None and (store != Store.POSTGRES.value or not isinstance(shard_key, str)
                                  or not shard_key):
        c.problem("shard_key", f"{shard_key!r}: a shard key is a field name, for postgres domains")
    scatter = c.choice(body.get("scatter", "allowed"), "scatter", _SCATTER)
    session = _session(c, body["session"]) if "session" in body else None
    if domain == "sessions" and session is None:
        c.problem("session", "required for the sessions domain (ttl, sliding, max_per_user)")
    if domain not in (None, "sessions") and session is not None:
        c.problem("session", f"only the sessions domain has a session section, not {domain!r}")
    retention = _retention(c, body["retention"], store) if "retention" in body else ()
    if retention and store == Store.POSTGRES.value and domain not in EVENT_STREAM_PREFIXES:
        c.problem("retention", f"the {domain} domain appends no events to expire; remove it")
    query = _query(c, body["query"]) if "query" in body else None
    if query is not None and store != Store.CLICKHOUSE.value:
        c.problem("query", "only a clickhouse domain (analytics) has query limits")
    if store == Store.CLICKHOUSE.value and query is None:
        c.problem("query", "required for a clickhouse domain (max_rows, max_execution_time, "
                  "tables)")
    if store == Store.CLICKHOUSE.value and keyspace is not None:
        c.problem("keyspace", "only postgres domains have a keyspace")
    if c.problems or domain is None or store is None:
        return None, c.problems, domain
    return (
        DomainPolicy(
            domain=domain,
            source_file=file,
            store=Store(store),
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
        ),
        [],
        domain,
    )


def load_policies(directory: Path, names: Sequence[str]) -> PolicySet:
    """Every *.yaml/*.yml file of `directory`, one per domain of `names` (the
    services table's); PolicyError lists all problems."""
    problems: list[PolicyProblem] = []
    domains: dict[str, DomainPolicy] = {}
    if not directory.is_dir():
        raise PolicyError([PolicyProblem(str(directory), "(directory)", "not a directory")])
    # Dot files are editor swap files and locks, not policies.
    files = sorted(p for p in directory.iterdir()
                   if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))
    declared: set[str] = set()
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(PolicyProblem(path.name, "(file)", f"cannot be read: {exc}"))
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
    return PolicySet(directory=str(directory), domains=domains)
