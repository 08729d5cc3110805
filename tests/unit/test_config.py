"""The topology config: YAML file, DATAGW_* overrides, and precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.runtime.config import ConfigError, load_config

BACKENDS = """
postgres:
  keyspaces:
    catalog:
      pool: {min_size: 1, max_size: 5}
      shards:
        - primary: postgresql://gw@db0:5432/catalog
        - primary: postgres://gw@db1:5432/catalog
redis:
  url: redis://cache:6379/0
  timeout: 100ms
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "datagw.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path | None, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_config(path, env or {})
    return str(err.value).splitlines()


def test_defaults_are_embedded_mode() -> None:
    cfg = load_config(None, {})
    assert cfg.embedded
    # Telemetry keys left unset: the OTEL_* variables decide (observability.py).
    assert (cfg.listen, cfg.exporter, cfg.log_level, cfg.ephemeral) == (
        "127.0.0.1:50051", None, "info", False)
    assert (cfg.otlp_protocol, cfg.service_name) == (None, None)
    assert cfg.keyspaces == {} and cfg.redis_url is None


def test_a_full_file_loads(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, BACKENDS + """
server:
  listen: 0.0.0.0:6000
  default_deadline: 2s
  max_concurrent_rpcs: 50
  shutdown_grace: 0s
telemetry: {exporter: otlp, otlp_endpoint: "http://collector:4317", otlp_protocol: grpc,
            service_name: orders-gateway}
logging: {level: debug, format: text}
metrics: {listen: ""}
policies_dir: /etc/datagw/policies
"""), {})
    assert not cfg.embedded
    assert cfg.listen == "0.0.0.0:6000"
    assert (cfg.default_deadline_s, cfg.max_concurrent_rpcs, cfg.shutdown_grace_s) == (2, 50, 0)
    assert (cfg.exporter, cfg.otlp_endpoint) == ("otlp", "http://collector:4317")
    assert (cfg.otlp_protocol, cfg.service_name) == ("grpc", "orders-gateway")
    assert (cfg.log_level, cfg.log_format) == ("debug", "text")
    assert cfg.metrics_listen is None
    assert cfg.policies_dir == Path("/etc/datagw/policies")
    catalog = cfg.keyspaces["catalog"]
    assert catalog.shard_dsns == ("postgresql://gw@db0:5432/catalog",
                                  "postgres://gw@db1:5432/catalog")
    assert (catalog.pool.min_size, catalog.pool.max_size) == (1, 5)
    assert (cfg.redis_url, cfg.redis_timeout_s) == ("redis://cache:6379/0", 0.1)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, BACKENDS + "server: {listen: 127.0.0.1:1}\nlogging: {level: info}\n")
    cfg = load_config(path, {
        "DATAGW_SERVER__LISTEN": "0.0.0.0:50051",
        "DATAGW_REDIS__URL": "redis://other:6380/1",
        "DATAGW_SERVER__MAX_CONCURRENT_RPCS": "7",
        "DATAGW_LOGGING__LEVEL": "warning",
        "DATAGW_EMBEDDED__EPHEMERAL": "true",
        "DATAGW_CONFIG": str(path),  # names the file; not a key of it
        "OTHER_SERVER__LISTEN": "ignored",
    })
    assert cfg.listen == "0.0.0.0:50051"
    assert cfg.redis_url == "redis://other:6380/1"
    assert cfg.max_concurrent_rpcs == 7  # read as a YAML scalar, so a number
    assert cfg.log_level == "warning"
    assert cfg.ephemeral is True
    # Keys the environment does not mention keep the file's values.
    assert cfg.redis_timeout_s == 0.1
    assert cfg.keyspaces["catalog"].pool.max_size == 5


def test_environment_alone_configures_backends() -> None:
    # Containers often have no config file: a YAML flow mapping sets a whole section.
    cfg = load_config(None, {"DATAGW_REDIS__URL": "redis://cache:6379/0",
                             "DATAGW_POSTGRES__KEYSPACES": "{catalog: {shards: "
                             "[{primary: 'postgresql://db/catalog'}]}}"})
    assert not cfg.embedded
    assert cfg.keyspaces["catalog"].shard_dsns == ("postgresql://db/catalog",)


@pytest.mark.parametrize("listen", ["[::]:50051", "0.0.0.0:50051", "unix:/tmp/x.sock"])
def test_listen_addresses_that_are_not_yaml(listen: str) -> None:
    assert load_config(None, {"DATAGW_SERVER__LISTEN": listen}).listen == listen


def test_unknown_keys_are_named_with_what_is_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "server: {lisen: x}\ncolour: blue\n")
    found = problems(path)
    assert sorted(found) == [
        f"{path}: colour: unknown key; allowed keys: server, metrics, telemetry, logging, "
        "policies_dir, postgres, redis, embedded, sagas, payments, clickhouse, retention, verify, "
        "backup, search",
        f"{path}: server.lisen: unknown key; allowed keys: listen, unix_socket, "
        "max_message_bytes, default_deadline, max_concurrent_rpcs, shutdown_grace, workers, tls, "
        "auth",
    ]


def test_an_unknown_key_from_the_environment_names_the_variable() -> None:
    (problem,) = problems(None, {"DATAGW_SERVER__LISTN": "0.0.0.0:1"})
    assert problem.startswith(
        "DATAGW_SERVER__LISTN: server.listn: unknown key; allowed keys: listen")


def test_unknown_keys_inside_a_keyspace(tmp_path: Path) -> None:
    path = write(tmp_path, BACKENDS.replace("pool: {min_size: 1, max_size: 5}",
                                            "pool: {min_size: 1, max: 5}\n      replicas: 2"))
    found = problems(path)
    assert any(": postgres.keyspaces.catalog.replicas: unknown key; allowed keys: shards, pool"
               in p for p in found), found
    assert any(": postgres.keyspaces.catalog.pool.max: unknown key; allowed keys: min_size, "
               "max_size" in p for p in found), found


@pytest.mark.parametrize(("text", "key", "says"), [
    ("server: {default_deadline: 5 minutes}", "server.default_deadline",
     "'5 minutes' is not a duration such as 250ms, 5s, 5m, 1h or 7d"),
    ("server: {default_deadline: 0s}", "server.default_deadline", "greater than zero"),
    ("server: {shutdown_grace: soon}", "server.shutdown_grace", "a duration"),
    ("server: {max_concurrent_rpcs: 0}", "server.max_concurrent_rpcs", "from 1 to 1000000"),
    ("server: {max_message_bytes: many}", "server.max_message_bytes", "whole number"),
    ("server: {listen: null}", "server.listen", "non-empty string"),
    ("server: {tls: {cert_file: a.crt}}", "server.tls", "cert_file and key_file"),
    ("telemetry: {exporter: jaeger}", "telemetry.exporter",
     "'jaeger' is not one of: none, console, otlp"),
    ("logging: {level: loud}", "logging.level", "debug, info, warning, error"),
    ("logging: {format: xml}", "logging.format", "json, text"),
    ("embedded: {ephemeral: 'no'}", "embedded.ephemeral", "true or false"),
    ("server: 5", "server", "expected a mapping"),
])
def test_bad_values_are_named(tmp_path: Path, text: str, key: str, says: str) -> None:
    path = write(tmp_path, text + "\n")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}: {key}: "), problem
    assert says in problem


@pytest.mark.parametrize(("old", "new", "key", "says"), [
    ("timeout: 100ms", "timeout: 0ms", "redis.timeout", "greater than zero"),
    ("postgresql://gw@db0", "mysql://gw@db0", "postgres.keyspaces.catalog.shards[0].primary",
     "not a postgresql:// DSN"),
    ("min_size: 1", "min_size: 9", "postgres.keyspaces.catalog.pool", "min_size 9 is above"),
])
def test_bad_backend_values_are_named(
    tmp_path: Path, old: str, new: str, key: str, says: str
) -> None:
    path = write(tmp_path, BACKENDS.replace(old, new))
    (problem,) = problems(path)
    assert problem.startswith(f"{path}: {key}: "), problem
    assert says in problem


def test_a_bad_value_from_the_environment_names_the_variable() -> None:
    (problem,) = problems(None, {"DATAGW_TELEMETRY__EXPORTER": "zipkin"})
    assert problem == ("DATAGW_TELEMETRY__EXPORTER: telemetry.exporter: "
                       "'zipkin' is not one of: none, console, otlp")


@pytest.mark.parametrize("only", [
    "redis: {url: 'redis://cache:6379/0'}\n",
    "postgres: {keyspaces: {catalog: {shards: [{primary: 'postgresql://db/catalog'}]}}}\n",
])
def test_postgres_and_redis_come_together(tmp_path: Path, only: str) -> None:
    (problem,) = problems(write(tmp_path, only))
    assert ": postgres/redis: configure both postgres.keyspaces and redis.url, or neither" \
        in problem


def test_only_redis_from_the_environment_is_refused() -> None:
    (problem,) = problems(None, {"DATAGW_REDIS__URL": "redis://cache:6379/0"})
    assert "configure both postgres.keyspaces and redis.url" in problem


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(write(tmp_path, "server: {default_deadline: x, max_concurrent_rpcs: -1}\n"
                                     "telemetry: {exporter: jaeger}\nbogus: 1\n"))
    assert len(found) == 4
    assert {p.split(": ")[1] for p in found} == {
        "server.default_deadline", "server.max_concurrent_rpcs", "telemetry.exporter", "bogus"}


@pytest.mark.parametrize(("text", "says"), [
    ("- a\n- b\n", "(document): expected a mapping with keys server, metrics, "),
    ("server: [unclosed\n", "line 2: not valid YAML: "),
])
def test_a_file_that_is_not_a_mapping(tmp_path: Path, text: str, says: str) -> None:
    path = write(tmp_path, text)
    (problem,) = problems(path)
    assert problem.startswith(f"{path}: {says}"), problem


@pytest.mark.parametrize("content", [None, b"server: {listen: \xff}\n"])
def test_a_file_that_cannot_be_read(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "datagw.yaml"
    if content is not None:
        path.write_bytes(content)
    (problem,) = problems(path)
    assert problem.startswith(f"{path}: (file): cannot be read: "), problem


def test_verify_settings_read_with_defaults(tmp_path: Path) -> None:
    default = load_config(write(tmp_path, "verify: {}\n"), {}).verify
    assert (default.interval_s, default.sample) == (None, 0.05)
    assert default.ages.stuck_saga_s == 3600
    cfg = load_config(write(tmp_path, "verify: {interval: 6h, sample: 20%, "
                                      "stuck_saga_after: 2d}\n"), {}).verify
    assert (cfg.interval_s, cfg.sample, cfg.ages.stuck_saga_s) == (21600, 0.2, 172800)
    assert problems(write(tmp_path, "verify: {sample: 0%}\n")) != []


def test_search_settings_read_with_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "search: {}\n"), {}).search.recount_interval_s == 600
    cfg = load_config(write(tmp_path, "search: {vocabulary_recount: 1h}\n"), {}).search
    assert cfg.recount_interval_s == 3600
    assert problems(write(tmp_path, "search: {vocabulary_recount: often}\n")) != []
