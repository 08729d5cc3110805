"""The topology config: where the backends are and how the server listens.

A YAML file (optional) plus environment overrides: DATAGW_<SECTION>__<KEY>
sets a nested key, e.g. DATAGW_SERVER__LISTEN=0.0.0.0:50051 or
DATAGW_REDIS__URL=redis://cache:6379/0. Without backends configured the
gateway runs in embedded mode and starts its own. Every problem is reported
with the key, the value and what is allowed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

import yaml

from gateway.api.auth.settings import AuthSettings, IdentityKind, JwtSettings
from gateway.domain.catalog.search_maintenance import SearchMaintenanceSettings
from gateway.domain.events.retention import RetentionSettings
from gateway.domain.orders.saga import SagaSettings
from gateway.domain.verify import Ages, VerifySettings
from gateway.runtime.embedded.backup import BackupSettings
from gateway.runtime.embedded.wal_archive import ARCHIVE_TIMEOUT_S
from gateway.secrets import redact_url
from gateway.storage.payments.provider import RulesProvider
from gateway.storage.postgres.keyspace_id import KeyRange, RangeError, check_cover, even_ranges
from gateway.storage.postgres.pool import PoolSettings
from gateway.storage.postgres.range_map import RangeMap
from gateway.storage.redis.cluster import parse_seed
from gateway.yaml_fields import FieldReader

ENV_PREFIX = "DATAGW_"
EXPORTERS = ("none", "console", "otlp")
# OTLP's transports, as OTEL_EXPORTER_OTLP_PROTOCOL names them.
OTLP_PROTOCOLS = ("grpc", "http/protobuf")
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("debug", "info", "warning", "error")
# What stands between the gateway and a keyspace's servers. A session-mode
# pooler keeps a server connection per client connection: "none" to us.
POOLERS = ("none", "transaction")

_SCHEMA: dict[str, tuple[str, ...]] = {
    "": ("server", "metrics", "telemetry", "logging", "policies_dir", "postgres", "redis",
         "embedded", "sagas", "payments", "clickhouse", "retention", "verify",
         "backup", "search"),
    "server": ("listen", "unix_socket", "max_message_bytes", "default_deadline",
               "max_concurrent_rpcs", "shutdown_grace", "workers", "tls", "auth"),
    "server.tls": ("cert_file", "key_file", "client_ca_file"),
    "server.auth": ("tcp", "unix_socket", "allow_anonymous", "local_name", "jwt"),
    "server.auth.jwt": ("issuer", "audience", "jwks_file", "jwks_url", "refresh", "clock_skew",
                        "identity_claim", "algorithms"),
    "metrics": ("listen",),
    "telemetry": ("exporter", "otlp_endpoint", "otlp_protocol", "service_name"),
    "logging": ("level", "format"),
    "postgres": ("keyspaces",),
    "redis": ("url", "password_file", "timeout", "cluster", "seeds"),
    "clickhouse": ("url", "database", "username", "password", "password_file", "connect_timeout",
                   "send_receive_timeout", "ca_file", "client_cert_file", "client_key_file"),
    "embedded": ("data_dir", "ephemeral", "shards", "replicas", "synchronous"),
    "sagas": ("lease", "recovery_interval", "reservation_ttl"),
    "retention": ("interval", "batch_size"),
    "search": ("vocabulary_recount",),
    "verify": ("interval", "sample", "stuck_saga_after"),
    "backup": ("base_interval", "keep", "archive_timeout"),
    "payments": ("decline_tokens", "decline_above_minor", "timeout_tokens", "timeout"),
    "postgres.keyspaces.*": ("shards", "pool", "range_map_version", "password_file", "pooler"),
    "postgres.keyspaces.*.shards[*]": ("primary", "replicas", "range", "direct"),
    "postgres.keyspaces.*.pool": ("min_size", "max_size"),
}


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class TLSConfig:
    cert_file: str
    key_file: str
    client_ca_file: str | None = None  # set: clients must present a cert (mTLS)


@dataclass(frozen=True)
class KeyspaceConfig:
    name: str
    shard_dsns: tuple[str, ...]
    pool: PoolSettings = field(default_factory=PoolSettings)
    # Per shard: its replicas' DSNs (empty: no replicas).
    replica_dsns: tuple[tuple[str, ...], ...] = ()
    # Per shard: the keyspace id range it serves at first (None: none, a
    # spare waiting for a range to be moved onto it; empty: equal ranges).
    # Once the control table holds the keyspace's map, that map is in force.
    ranges: tuple[KeyRange | None, ...] = ()
    range_map_version: int = 1
    # Behind a transaction pooler, per shard: the same database reached
    # without it, for LISTEN ("": none, the event notifier polls).
    direct_dsns: tuple[str, ...] = ()

    def initial_map(self) -> RangeMap:
        """The map the control table starts with when it has none."""
        if not self.ranges:
            return RangeMap.of(self.range_map_version, even_ranges(len(self.shard_dsns)))
        entries = sorted(((r, i) for i, r in enumerate(self.ranges) if r is not None),
                         key=lambda e: e[0].start)
        return RangeMap(self.range_map_version, tuple(entries))

    def replicas_of(self, shard: int) -> tuple[str, ...]:
        return self.replica_dsns[shard] if shard < len(self.replica_dsns) else ()

    def listen_dsn(self, shard: int) -> str | None:
        """Where the shard's event notifier LISTENs; None: nowhere, it polls.
        A transaction pooler would hand the LISTEN's server connection to
        other clients after the statement, and the notifications with it."""
        if not self.pool.transaction_pooler:
            return self.shard_dsns[shard]
        direct = self.direct_dsns[shard] if shard < len(self.direct_dsns) else ""
        return direct or None


@dataclass(frozen=True)
class ClickHouseConfig:
    url: str  # http[s]://host:port of the server's HTTP interface
    database: str = "datagw"
    username: str = "default"
    password: str = ""  # from DATAGW_CLICKHOUSE__PASSWORD or clickhouse.password_file
    connect_timeout_s: float = 5.0
    send_receive_timeout_s: float = 30.0
    # https only: the CA bundle the server's certificate must chain to (None:
    # the system's), and a client certificate for servers that require one.
    ca_file: str | None = None
    client_cert_file: str | None = None
    client_key_file: str | None = None


@dataclass
class Config:
    listen: str = "127.0.0.1:50051"
    unix_socket: str | None = None
    max_message_bytes: int = 4 * 1024 * 1024
    default_deadline_s: float = 30.0
    max_concurrent_rpcs: int = 1000
    shutdown_grace_s: float = 10.0
    # Serving processes sharing the port (runtime/worker_group.py).
    workers: int = 1
    tls: TLSConfig | None = None
    auth: AuthSettings = field(default_factory=AuthSettings)
    metrics_listen: str | None = "127.0.0.1:9464"
    # The telemetry keys: None when the configuration leaves them unset, and
    # the standard OTEL_* variables decide (runtime/observability.py).
    exporter: str | None = None
    otlp_endpoint: str | None = None
    otlp_protocol: str | None = None
    service_name: str | None = None
    log_level: str = "info"
    log_format: str = "json"
    policies_dir: Path = Path("policies")
    keyspaces: dict[str, KeyspaceConfig] = field(default_factory=dict)
    redis_url: str | None = None
    redis_timeout_s: float = 0.25
    # redis.url is one node of a Redis Cluster; redis_seeds (host:port) are
    # more nodes to discover it from.
    redis_cluster: bool = False
    redis_seeds: tuple[str, ...] = ()
    # None: chdb under data_dir in embedded mode, else no analytics store.
    clickhouse: ClickHouseConfig | None = None
    data_dir: Path = Path(".data")
    ephemeral: bool = False
    # Embedded mode: commerce shards (one PostgreSQL server each) and
    # streaming replicas per shard.
    embedded_shards: int = 2
    embedded_replicas: int = 0
    # Each commerce shard primary's commits wait for one of its replicas.
    embedded_synchronous: bool = False
    sagas: SagaSettings = field(default_factory=SagaSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    search: SearchMaintenanceSettings = field(default_factory=SearchMaintenanceSettings)
    verify: VerifySettings = field(default_factory=VerifySettings)
    # Embedded mode: WAL archiving and base backups (docs/backup.md).
    backup: BackupSettings = field(default_factory=BackupSettings)
    payments: RulesProvider = field(default_factory=RulesProvider)

    @property
    def embedded(self) -> bool:
        """No backends configured: start real ones ourselves."""
        return not self.keyspaces and self.redis_url is None


def _verify(r: FieldReader, ver: dict[str, Any]) -> VerifySettings:
    # YAML reads a bare `off` as false.
    interval = ver.get("interval", "off")
    sample = r.percent("verify.sample", ver.get("sample", "5%"))
    if sample == 0:
        r.problem("verify.sample", "0% samples nothing; give a percentage from 1% to 100%")
    return VerifySettings(
        interval_s=None if interval in ("off", False) else r.duration("verify.interval",
                                                                        interval),
        sample=max(sample, 1) / 100,
        ages=Ages(
            stuck_saga_s=r.duration("verify.stuck_saga_after",
                                    ver.get("stuck_saga_after", "1h"))))


def _env_value(value: str) -> Any:
    """The value read as YAML (numbers, booleans, flow lists); what YAML refuses stays text."""
    if not value:
        return value
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        # e.g. "[::]:50051", a valid listen address but not valid YAML.
        return value


def _env_overrides(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The override tree, and for each dotted key the variable that set it."""
    tree: dict[str, Any] = {}
    names: dict[str, str] = {}
    for name, value in env.items():
        # DATAGW_CONFIG names the file itself and is not a key of it.
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        path = name[len(ENV_PREFIX):].lower().split("__")
        node = tree
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                # DATAGW_SERVER=x and DATAGW_SERVER__LISTEN=y: the section wins.
                child = node[part] = {}
            node = child
        node[path[-1]] = _env_value(value)
        names[".".join(path)] = name
    return tree, names


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _section(
    r: FieldReader, raw: dict[str, Any], name: str, schema: str | None = None
) -> dict[str, Any]:
    """The section `name` of `raw`, its keys checked against `schema` (default: `name`)."""
    value = raw.get(name.rpartition(".")[2])
    if value is None:
        return {}  # absent, or written with nothing under it: every default
    return r.mapping(name, value, _SCHEMA[schema if schema is not None else name])


def load_config(path: Path | None, env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    overrides, env_names = _env_overrides(env)
    r = FieldReader(str(path) if path else "(defaults)", env_names)
    raw: Any = {}
    if path is not None:
        text = r.read(path)
        if text is not None:
            raw = r.parse(text) or {}  # an empty file: every default
        if r.problems:  # unreadable or not YAML: nothing in it can be checked
            raise ConfigError(_report(r))
    if isinstance(raw, dict):
        raw = _merge(raw, overrides)
    cfg = Config()
    top = r.mapping("", raw, _SCHEMA[""])
    server = _section(r, top, "server")
    if "listen" in server:
        cfg.listen = r.text("server.listen", server["listen"]) or cfg.listen
    cfg.unix_socket = r.text("server.unix_socket", server.get("unix_socket"), optional=True)
    if "max_message_bytes" in server:
        cfg.max_message_bytes = r.integer(
            "server.max_message_bytes", server["max_message_bytes"], 1024, 256 * 1024 * 1024)
    if "default_deadline" in server:
        cfg.default_deadline_s = r.duration("server.default_deadline", server["default_deadline"])
    if "max_concurrent_rpcs" in server:
        cfg.max_concurrent_rpcs = r.integer(
            "server.max_concurrent_rpcs", server["max_concurrent_rpcs"], 1, 1_000_000)
    if "workers" in server:
        cfg.workers = r.integer("server.workers", server["workers"], 1, 64)
    if "shutdown_grace" in server:
        cfg.shutdown_grace_s = r.duration("server.shutdown_grace", server["shutdown_grace"],
                                          positive=False)
    tls = _section(r, server, "server.tls")
    if tls:
        if not tls.get("cert_file") or not tls.get("key_file"):
            r.problem("server.tls", "cert_file and key_file are both required for TLS")
        else:
            cfg.tls = TLSConfig(str(tls["cert_file"]), str(tls["key_file"]),
                                tls.get("client_ca_file") or None)
    cfg.auth = _auth(r, _section(r, server, "server.auth"), cfg.tls)
    metrics = _section(r, top, "metrics")
    if "listen" in metrics:
        cfg.metrics_listen = r.text("metrics.listen", metrics["listen"], optional=True)
    tel = _section(r, top, "telemetry")
    if tel.get("exporter"):
        cfg.exporter = r.choice("telemetry.exporter", tel["exporter"], EXPORTERS)
    cfg.otlp_endpoint = tel.get("otlp_endpoint") or None
    if tel.get("otlp_protocol"):
        cfg.otlp_protocol = r.choice("telemetry.otlp_protocol", tel["otlp_protocol"],
                                     OTLP_PROTOCOLS)
    cfg.service_name = str(tel["service_name"]) if tel.get("service_name") else None
    logging_ = _section(r, top, "logging")
    cfg.log_level = r.choice("logging.level", logging_.get("level", "info"),
                             LOG_LEVELS) or cfg.log_level
    cfg.log_format = r.choice("logging.format", logging_.get("format", "json"),
                              LOG_FORMATS) or cfg.log_format
    if "policies_dir" in top:
        cfg.policies_dir = Path(r.text("policies_dir", top["policies_dir"]) or cfg.policies_dir)
    pg = _section(r, top, "postgres")
    keyspaces = pg.get("keyspaces") or {}
    if not isinstance(keyspaces, dict):
        r.problem("postgres.keyspaces", "expected a mapping of keyspace name to settings")
        keyspaces = {}
    for name, ks in keyspaces.items():
        cfg.keyspaces[name] = _keyspace(r, str(name), ks)
    redis = _section(r, top, "redis")
    cfg.redis_url = r.text("redis.url", redis.get("url"), optional=True)
    if redis.get("password_file") is not None:
        cfg.redis_url = _redis_password(r, cfg.redis_url, redis["password_file"])
    if "timeout" in redis:
        cfg.redis_timeout_s = r.duration("redis.timeout", redis["timeout"])
    _redis_cluster(r, redis, cfg)
    cfg.clickhouse = _clickhouse(r, _section(r, top, "clickhouse"), env)
    emb = _section(r, top, "embedded")
    if "data_dir" in emb:
        cfg.data_dir = Path(r.text("embedded.data_dir", emb["data_dir"]) or cfg.data_dir)
    cfg.ephemeral = r.boolean("embedded.ephemeral", emb.get("ephemeral", False))
    if "shards" in emb:
        cfg.embedded_shards = r.integer("embedded.shards", emb["shards"], 1, 16)
    if "replicas" in emb:
        cfg.embedded_replicas = r.integer("embedded.replicas", emb["replicas"], 0, 3)
    cfg.embedded_synchronous = r.boolean("embedded.synchronous", emb.get("synchronous", False))
    ret = _section(r, top, "retention")
    cfg.retention = RetentionSettings(
        interval_s=r.duration("retention.interval", ret.get("interval", "1m")),
        batch_size=r.integer("retention.batch_size", ret.get("batch_size", 10_000), 1, 1_000_000))
    search = _section(r, top, "search")
    cfg.search = SearchMaintenanceSettings(recount_interval_s=r.duration(
        "search.vocabulary_recount", search.get("vocabulary_recount", "10m")))
    cfg.verify = _verify(r, _section(r, top, "verify"))
    bk = _section(r, top, "backup")
    cfg.backup = BackupSettings(
        base_interval_s=r.duration("backup.base_interval", bk.get("base_interval", "24h"),
                                   positive=False),
        keep=r.integer("backup.keep", bk.get("keep", 3), 1, 1000),
        archive_timeout_s=max(1, round(r.duration(
            "backup.archive_timeout", bk.get("archive_timeout", f"{ARCHIVE_TIMEOUT_S}s")))))
    sg = _section(r, top, "sagas")
    defaults = SagaSettings()
    cfg.sagas = SagaSettings(
        lease_s=r.duration("sagas.lease", sg.get("lease", "30s")),
        recovery_interval_s=r.duration("sagas.recovery_interval",
                                       sg.get("recovery_interval", "5s")),
        reservation_ttl_s=r.duration("sagas.reservation_ttl", sg.get("reservation_ttl", "15m")),
        duplicate_wait_s=defaults.duplicate_wait_s,
    )
    pay = _section(r, top, "payments")
    builtin = RulesProvider()
    cfg.payments = RulesProvider(
        decline_tokens=frozenset(r.strings(
            "payments.decline_tokens", pay.get("decline_tokens", sorted(builtin.decline_tokens)),
            "card tokens")),
        decline_above_minor=r.integer("payments.decline_above_minor",
                                      pay.get("decline_above_minor", builtin.decline_above_minor),
                                      0, 10**15),
        timeout_tokens=frozenset(r.strings(
            "payments.timeout_tokens", pay.get("timeout_tokens", sorted(builtin.timeout_tokens)),
            "card tokens")),
        timeout_s=r.duration("payments.timeout", pay.get("timeout", "2s")),
    )
    if bool(cfg.keyspaces) != bool(cfg.redis_url):
        r.problem("postgres/redis", "configure both postgres.keyspaces and redis.url, or neither "
                  "(neither starts embedded backends)")
    if r.problems:
        raise ConfigError(_report(r))
    return cfg


def _report(r: FieldReader) -> str:
    # A problem quotes the value found, which may be a DSN with its password.
    return redact_url("\n".join(str(p) for p in r.problems))


_JWT_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                   "ES512", "EdDSA")


def _kinds(r: FieldReader, key: str, value: Any) -> tuple[IdentityKind, ...]:
    names = r.strings(key, value, f"identity kinds ({', '.join(k.value for k in IdentityKind)})",
                      each=lambda v: v in {k.value for k in IdentityKind})
    return tuple(IdentityKind(n) for n in names)


def _auth(r: FieldReader, raw: dict[str, Any], tls: TLSConfig | None) -> AuthSettings:
    """Who each listener accepts. By default a local caller, plus a client
    certificate when TLS asks for one, plus a token when jwt is configured."""
    jwt = _jwt(r, _section(r, raw, "server.auth.jwt")) if raw.get("jwt") else None
    default_tcp = tuple(k for k, on in ((IdentityKind.MTLS, tls is not None and
                                         tls.client_ca_file is not None),
                                        (IdentityKind.JWT, jwt is not None),
                                        (IdentityKind.LOCAL, True)) if on)
    tcp = _kinds(r, "server.auth.tcp", raw["tcp"]) if "tcp" in raw else default_tcp
    unix = (_kinds(r, "server.auth.unix_socket", raw["unix_socket"]) if "unix_socket" in raw
            else tuple(k for k in (IdentityKind.LOCAL, IdentityKind.JWT)
                       if k is IdentityKind.LOCAL or jwt is not None))
    if IdentityKind.MTLS in tcp and (tls is None or tls.client_ca_file is None):
        r.problem("server.auth.tcp", "mtls needs server.tls with a client_ca_file")
    if IdentityKind.MTLS in unix:
        r.problem("server.auth.unix_socket", "the unix socket has no TLS: use local or jwt")
    if IdentityKind.JWT in (*tcp, *unix) and jwt is None:
        r.problem("server.auth", "jwt is accepted but server.auth.jwt is not configured")
    local_name = r.text("server.auth.local_name", raw.get("local_name"), optional=True)
    return AuthSettings(
        tcp=tcp, unix_socket=unix,
        allow_anonymous=r.boolean("server.auth.allow_anonymous",
                                  raw.get("allow_anonymous", False)),
        local_name=local_name, jwt=jwt)


def _jwt(r: FieldReader, raw: dict[str, Any]) -> JwtSettings | None:
    key = "server.auth.jwt"
    issuer = r.text(f"{key}.issuer", raw.get("issuer"))
    audience = r.text(f"{key}.audience", raw.get("audience"))
    jwks_file = r.text(f"{key}.jwks_file", raw.get("jwks_file"), optional=True)
    jwks_url = r.text(f"{key}.jwks_url", raw.get("jwks_url"), optional=True)
    if (jwks_file is None) == (jwks_url is None):
        r.problem(key, "give exactly one of jwks_file or jwks_url (the issuer's signing keys)")
    if jwks_url is not None and urlsplit(jwks_url).scheme not in ("https", "http"):
        r.problem(f"{key}.jwks_url", f"{jwks_url!r} is not an http(s) URL")
    algorithms = r.strings(f"{key}.algorithms", raw.get("algorithms", ["RS256", "ES256", "EdDSA"]),
                           f"signature algorithms ({', '.join(_JWT_ALGORITHMS)})",
                           each=lambda a: a in _JWT_ALGORITHMS, non_empty=True)
    if issuer is None or audience is None:
        return None
    return JwtSettings(
        issuer=issuer, audience=audience, jwks_file=jwks_file, jwks_url=jwks_url,
        refresh_s=r.duration(f"{key}.refresh", raw.get("refresh", "5m")),
        clock_skew_s=r.duration(f"{key}.clock_skew", raw.get("clock_skew", "30s"),
                                positive=False),
        identity_claim=r.text(f"{key}.identity_claim", raw.get("identity_claim", "sub")) or "sub",
        algorithms=tuple(algorithms))


def _password_file(r: FieldReader, key: str, value: Any) -> str | None:
    """The password in the file `value` names (one trailing newline dropped),
    read now, at start; a problem names the key and the path, never the text."""
    path = r.text(key, value)
    if path is None:  # reported
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        r.problem(key, f"cannot read the password file {path!r}: {exc.strerror or exc}")
        return None
    except UnicodeDecodeError:
        r.problem(key, f"the password file {path!r} is not UTF-8 text")
        return None
    password = text.removesuffix("\n").removesuffix("\r")
    if not password:
        r.problem(key, f"the password file {path!r} is empty")
        return None
    if "\n" in password:
        r.problem(key, f"the password file {path!r} has more than one line "
                  "(it must hold the password alone)")
        return None
    return password


def _dsn_has_password(dsn: str) -> bool:
    parts = urlsplit(dsn)
    userinfo, at, _hosts = parts.netloc.rpartition("@")
    return bool(at and ":" in userinfo) or "password" in parse_qs(parts.query)


def _with_password(url: str, password: str) -> str:
    """`url` with `password` in its authority (user kept, none is fine)."""
    parts = urlsplit(url)
    user, at, hosts = parts.netloc.rpartition("@")
    netloc = f"{user if at else ''}:{quote(password, safe='')}@{hosts}"
    return urlunsplit(parts._replace(netloc=netloc))


def _redis_password(r: FieldReader, url: str | None, path: Any) -> str | None:
    password = _password_file(r, "redis.password_file", path)
    if url is None:
        r.problem("redis.password_file", "needs redis.url (embedded mode makes its own "
                  "password)")
        return url
    if password is None:  # reported
        return url
    if _dsn_has_password(url):
        # Two passwords: whichever we took, the other one would be a silent lie.
        r.problem("redis.password_file", "redis.url has a password already; give it in "
                  "the URL or in the file, not both")
        return url
    return _with_password(url, password)


def _is_seed(value: str) -> bool:
    try:
        parse_seed(value)
    except ValueError:
        return False
    return True


def _redis_cluster(r: FieldReader, redis: dict[str, Any], cfg: Config) -> None:
    cfg.redis_cluster = r.boolean("redis.cluster", redis.get("cluster", False))
    if "seeds" in redis:
        cfg.redis_seeds = tuple(r.strings("redis.seeds", redis["seeds"], "host:port nodes",
                                          each=_is_seed))
    if cfg.redis_seeds and not cfg.redis_cluster:
        r.problem("redis.seeds", "only for a cluster (set redis.cluster: true)")
    if not cfg.redis_cluster:
        return
    if cfg.redis_url is None:
        r.problem("redis.cluster", "needs redis.url, one node of the cluster (embedded mode "
                  "runs a single node)")
    elif urlsplit(cfg.redis_url).path.strip("/") not in ("", "0"):
        r.problem("redis.url", f"{redact_url(cfg.redis_url)!r} names a database; a cluster "
                  "has only database 0")


def _clickhouse(
    r: FieldReader, raw: dict[str, Any], env: Mapping[str, str]
) -> ClickHouseConfig | None:
    url = r.text("clickhouse.url", raw.get("url"), optional=True)
    if url is None:
        if raw:
            r.problem("clickhouse.url", "required when the clickhouse section is given")
        return None
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None \
            or parts.path not in ("", "/") or parts.username or parts.password:
        r.problem("clickhouse.url", f"{url!r} is not http[s]://host:port (the HTTP interface; "
                  "credentials go in username and DATAGW_CLICKHOUSE__PASSWORD)")
    password = ""
    if "clickhouse.password" in r.origins:
        # The variable's text as is: read as YAML, "0123" or "yes" would change.
        password = env[r.origins["clickhouse.password"]]
    elif "password" in raw:
        # A secret in a file ends up in repositories and config maps.
        r.problem("clickhouse.password", "set it with DATAGW_CLICKHOUSE__PASSWORD or "
                  "clickhouse.password_file, not in the file")
    if raw.get("password_file") is not None:
        from_file = _password_file(r, "clickhouse.password_file", raw["password_file"])
        if "clickhouse.password" in r.origins:
            r.problem("clickhouse.password_file", f"{r.origins['clickhouse.password']} sets "
                      "the password already; give it in one of them, not both")
        elif from_file is not None:
            password = from_file
    defaults = ClickHouseConfig(url)
    ca_file, client_cert_file, client_key_file = (
        r.text(f"clickhouse.{key}", raw.get(key), optional=True)
        for key in ("ca_file", "client_cert_file", "client_key_file"))
    if (ca_file or client_cert_file or client_key_file) and parts.scheme != "https":
        r.problem("clickhouse.url", "ca_file and client certificates need an https:// URL")
    if bool(client_cert_file) != bool(client_key_file):
        r.problem("clickhouse", "client_cert_file and client_key_file come together")
    return ClickHouseConfig(
        url=url,
        database=r.text("clickhouse.database", raw.get("database", defaults.database))
        or defaults.database,
        username=r.text("clickhouse.username", raw.get("username", defaults.username))
        or defaults.username,
        password=password,
        connect_timeout_s=r.duration("clickhouse.connect_timeout",
                                     raw.get("connect_timeout", "5s")),
        send_receive_timeout_s=r.duration("clickhouse.send_receive_timeout",
                                          raw.get("send_receive_timeout", "30s")),
        ca_file=ca_file, client_cert_file=client_cert_file, client_key_file=client_key_file,
    )


def _keyspace(r: FieldReader, name: str, raw: Any) -> KeyspaceConfig:
    key = f"postgres.keyspaces.{name}"
    r.mapping(key, raw, _SCHEMA["postgres.keyspaces.*"])
    if not isinstance(raw, dict):  # reported
        return KeyspaceConfig(name, ())
    password = (_password_file(r, f"{key}.password_file", raw["password_file"])
                if raw.get("password_file") is not None else None)
    shards = raw.get("shards")
    dsns: list[str] = []
    replicas: list[tuple[str, ...]] = []
    directs: list[str] = []
    ranges: list[KeyRange | None] = []
    pooler = r.choice(f"{key}.pooler", raw.get("pooler", "none"), POOLERS)
    if not isinstance(shards, list) or not shards:
        r.problem(f"{key}.shards", "expected a non-empty list of {primary: DSN}")
        shards = []
    for i, shard in enumerate(shards):
        where = f"{key}.shards[{i}]"
        r.mapping(where, shard, _SCHEMA["postgres.keyspaces.*.shards[*]"])
        if not isinstance(shard, dict):  # reported
            continue
        dsn = shard.get("primary")
        if not _is_dsn(dsn):
            r.problem(f"{where}.primary", f"{dsn!r} is not a postgresql:// DSN")
        else:
            dsns.append(str(dsn))
        replicas.append(tuple(r.strings(f"{where}.replicas", shard.get("replicas", []),
                                        "postgresql:// DSNs", each=_is_dsn)))
        direct = shard.get("direct")
        if direct is not None and pooler == "none":
            r.problem(f"{where}.direct", "is for a keyspace behind a pooler (pooler: "
                      "transaction); without one, the primary is direct already")
        elif direct is not None and not _is_dsn(direct):
            r.problem(f"{where}.direct", f"{direct!r} is not a postgresql:// DSN")
        directs.append(str(direct or ""))
        if "range" not in shard:
            ranges.append(None)
        elif shard["range"] in ("", None, "none"):
            ranges.append(None)  # a spare: serves nothing until a range moves onto it
        else:
            try:
                ranges.append(KeyRange.parse(str(shard["range"])))
            except RangeError as exc:
                r.problem(f"{where}.range", str(exc))
    given = [rng for rng in ranges if rng is not None]
    if given:
        try:
            check_cover(sorted(given, key=lambda g: g.start))
        except RangeError as exc:
            r.problem(f"{key}.shards", str(exc))
    else:
        ranges = []
    pool = _section(r, raw, f"{key}.pool", "postgres.keyspaces.*.pool")
    settings = PoolSettings(
        min_size=r.integer(f"{key}.pool.min_size", pool.get("min_size", 2), 0, 1000),
        max_size=r.integer(f"{key}.pool.max_size", pool.get("max_size", 20), 1, 1000),
        transaction_pooler=pooler == "transaction",
    )
    if settings.min_size > settings.max_size:
        r.problem(f"{key}.pool", f"min_size {settings.min_size} is above max_size "
                  f"{settings.max_size}")
    version = r.integer(f"{key}.range_map_version", raw.get("range_map_version", 1), 1, 2**31)
    if password is not None:
        # A DSN with a password of its own keeps it (another user, say).
        def fill(dsn: str) -> str:
            return dsn if _dsn_has_password(dsn) else _with_password(dsn, password)

        dsns = [fill(d) for d in dsns]
        replicas = [tuple(fill(d) for d in shard) for shard in replicas]
        directs = [d and fill(d) for d in directs]
    return KeyspaceConfig(name, tuple(dsns), settings, tuple(replicas), tuple(ranges), version,
                          tuple(directs) if any(directs) else ())


def _is_dsn(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("postgres://", "postgresql://"))
