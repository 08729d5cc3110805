"""The `datagw` command: serve, policy check, migrate, failover, reshard, verify,
backup, restore, health (runtime/command.py, the console script, answers
`datagw health` without importing this module)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from gateway.errors import Unavailable
from gateway.policy.loader import PolicyError, load_policies
from gateway.runtime import backup_cli, event_loop, health_cli, reshard_cli, verify_cli
from gateway.runtime.config import Config, ConfigError, load_config
from gateway.runtime.embedded.backends import EmbeddedBackends, running_servers
from gateway.runtime.embedded.process import EmbeddedBackendError
from gateway.runtime.embedded.requests import ask
from gateway.runtime.observability import setup_logging, setup_tracing, start_metrics_server
from gateway.runtime.server import Gateway
from gateway.runtime.services import POLICY_CATALOG
from gateway.runtime.worker_group import (
    WorkerGroup,
    is_group_leader,
    reexec_as_group_leader,
    remove_metrics_dir,
    worker_config,
    worker_index,
)
from gateway.secrets import redact_url

# Beyond the drain grace: closing pools and stopping embedded servers.
STOP_MARGIN_S = 20.0


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from {low} to {high}")
        return int(text)

    return parse


def _config(args: argparse.Namespace) -> Config:
    path = args.config or os.environ.get("DATAGW_CONFIG")
    cfg = load_config(Path(path) if path else None)
    if getattr(args, "ephemeral", False):
        cfg.ephemeral = True
    if getattr(args, "data_dir", None):
        cfg.data_dir = Path(args.data_dir)
    if getattr(args, "listen", None):
        cfg.listen = args.listen
    if getattr(args, "policies", None):
        cfg.policies_dir = Path(args.policies)
    if getattr(args, "metrics_listen", None) is not None:
        cfg.metrics_listen = args.metrics_listen or None
    if getattr(args, "shards", None) is not None:
        cfg.embedded_shards = args.shards
    if getattr(args, "replicas", None) is not None:
        cfg.embedded_replicas = args.replicas
    if getattr(args, "workers", None) is not None:
        cfg.workers = args.workers
    return cfg


async def serve(cfg: Config) -> int:
    """`datagw serve` in this process: one gateway, the first worker of
    several (which starts the others), or one of the others."""
    setup_logging(cfg)
    provider = setup_tracing(cfg)
    gateway = Gateway(cfg)
    index = worker_index()
    group: WorkerGroup | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await gateway.start()
        if index:
            print(f"datagw worker {index} serving (pid {os.getpid()})", flush=True)
        else:
            lines = gateway.describe()
            if cfg.workers > 1:
                group = WorkerGroup(worker_config(cfg, gateway.opened, gateway.port))
                group.start()
                lines.insert(1, f"{cfg.workers} workers (this one pid {os.getpid()})")
            if cfg.metrics_listen:
                host, port = start_metrics_server(cfg.metrics_listen)
                lines.insert(1, f"metrics (Prometheus) on http://{host}:{port}/metrics")
            print("datagw serving:", flush=True)
            for line in lines:
                # No line carries a password; redacted all the same, should one ever.
                print(f"  {redact_url(line)}", flush=True)
        await stop.wait()
        if not index:
            print("datagw: draining (grace "
                  f"{cfg.shutdown_grace_s:g}s)", flush=True)
    finally:
        if group is not None:
            # First: they use the backends (embedded servers) this one stops.
            await group.stop(cfg.shutdown_grace_s + STOP_MARGIN_S)
        stopped = await _stop_within(gateway, cfg.shutdown_grace_s + STOP_MARGIN_S)
        if provider is not None:
            provider.shutdown()
        remove_metrics_dir()
    if not index:
        print("datagw: stopped" if stopped else "datagw: stopped late (see the log)",
              flush=True)
    return 0 if stopped else 1


async def _stop_within(gateway: Gateway, limit_s: float) -> bool:
    """Stop, but never hang: past the limit the stop is cancelled, which still
    stops the embedded servers (Gateway.stop does that in a finally)."""
    try:
        async with asyncio.timeout(limit_s):
            await gateway.stop()
    except TimeoutError:
        logging.getLogger(__name__).error(
            "shutdown took longer than %.0fs; abandoned what was left", limit_s)
        return False
    return True


async def _migrate(cfg: Config) -> int:
    gateway = Gateway(cfg)
    try:
        # Opening the backends applies migrations on every shard; nothing listens.
        await gateway.open_backends()
        print("datagw: migrations are up to date on every keyspace")
    finally:
        await gateway.stop()
    return 0


def _failover(cfg: Config, shard: int, keyspace: str) -> int:
    """Fail `shard` of the embedded sharded keyspace over to its replica.

    Servers that run belong to a gateway: it is asked to fail over itself
    (requests.py), never acted on behind its back: its supervisor
    would restart a stopped primary beside the promoted replica (two
    primaries). Stopped servers are started here, failed over, and stopped.
    """
    if not cfg.embedded:
        raise ConfigError(
            "datagw failover acts on embedded mode's own servers; configured PostgreSQL fails "
            "over with its own tooling (pg_promote(), Patroni, ...), which the gateway follows "
            "through a multi-host DSN with target_session_attrs=read-write")
    if cfg.ephemeral:
        raise ConfigError("an ephemeral data dir is deleted on stop: there is nothing to fail "
                          "over (use --data-dir)")
    sharded = sorted({p.keyspace for p in load_policies(cfg.policies_dir, POLICY_CATALOG)
                      .domains.values() if p.keyspace and p.shard_key})
    if keyspace not in sharded:
        raise ConfigError(f"keyspace {keyspace!r} has no replicas in embedded mode; only the "
                          f"sharded one does: {', '.join(sharded) or 'none'}")
    if not (cfg.data_dir / "shards.txt").is_file():
        raise ConfigError(f"{cfg.data_dir} holds no embedded data with commerce shards "
                          "(--data-dir, or embedded.data_dir)")
    if running_servers(cfg.data_dir):
        print(f"datagw: asking the running datagw to fail {keyspace} shard {shard} over",
              flush=True)
        done = ask(cfg.data_dir, "failover", shard=shard)
    else:
        backends = EmbeddedBackends(cfg.data_dir, ephemeral=False, shards=cfg.embedded_shards,
                                    replicas=cfg.embedded_replicas,
                                    synchronous=cfg.embedded_synchronous, supervise=False,
                                    analytics=False)
        with backends:
            backends.failover(shard)
            done = backends.roles(shard)
    print(f"datagw: {keyspace} {done} (recorded in {cfg.data_dir}; later starts keep it)")
    return 0


def _policy_check(directory: str) -> int:
    try:
        policies = load_policies(Path(directory), POLICY_CATALOG)
    except PolicyError as exc:
        print(f"invalid policies in {directory}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    for name, p in sorted(policies.domains.items()):
        print(f"ok  {p.source_file}: domain {name} ({p.store.value})")
    access = policies.access
    print(f"ok  {access.source_file}: access, {len(access.rules)} rule(s), "
          f"default {'allow' if access.default_allow else 'deny'} (sensitive methods: deny)")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="datagw", description="gRPC data gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gateway (embedded backends without a config)")
    serve.add_argument("--config", help="topology config file (or DATAGW_CONFIG)")
    serve.add_argument("--ephemeral", action="store_true",
                       help="throw-away embedded backends in a temp dir")
    serve.add_argument("--data-dir", help="where embedded backends keep data (default .data)")
    serve.add_argument("--listen", help="host:port for gRPC (default 127.0.0.1:50051)")
    serve.add_argument("--policies", help="policy directory (default policies)")
    serve.add_argument("--metrics-listen", help="host:port for /metrics ('' turns it off)")
    serve.add_argument("--shards", type=_count(1, 16),
                       help="embedded mode: commerce shards, one PostgreSQL each (default 2)")
    serve.add_argument("--replicas", type=_count(0, 3),
                       help="embedded mode: streaming replicas per commerce shard (default 0)")
    serve.add_argument("--workers", type=_count(1, 64),
                       help="serving processes on the one port (default 1; server.workers)")
    migrate = sub.add_parser("migrate", help="apply schema migrations and exit")
    migrate.add_argument("--config")
    migrate.add_argument("--data-dir")
    migrate.add_argument("--policies")
    policy = sub.add_parser("policy", help="policy tools")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    check = policy_sub.add_parser("check", help="validate a policy directory")
    check.add_argument("directory")
    failover = sub.add_parser(
        "failover", help="embedded mode: promote a shard's first replica and make the old "
                         "primary its standby (rehearse a failover; a running datagw does it)")
    failover.add_argument("--shard", type=_count(0, 15), required=True,
                          help="the shard to fail over (from 0)")
    failover.add_argument("--keyspace", default="commerce",
                          help="the sharded keyspace (default commerce)")
    failover.add_argument("--config")
    failover.add_argument("--data-dir")
    failover.add_argument("--policies")
    reshard_cli.add_parser(sub)
    verify_cli.add_parser(sub)
    health_cli.configure(sub.add_parser(
        "health", help="a running gateway's grpc.health.v1 status (exit 0 SERVING)"))
    backup = sub.add_parser(
        "backup", help="embedded mode: a base backup of every PostgreSQL server, a Valkey "
                       "snapshot (a running datagw takes them; docs/backup.md)")
    restore = sub.add_parser(
        "restore", help="embedded mode: restore PostgreSQL servers to a point in time "
                        "(the gateway stopped; docs/backup.md)")
    restore.add_argument("--to", required=True, metavar="TIMESTAMP",
                         help="RFC 3339 with its zone, e.g. 2026-12-06T21:30:00Z")
    which = restore.add_mutually_exclusive_group()
    which.add_argument("--shard", type=_count(0, 15),
                       help="only this commerce shard's server (default: every server)")
    which.add_argument("--keyspace", help="catalog or inventory: the main server (both)")
    for command in (backup, restore):
        command.add_argument("--config")
        command.add_argument("--data-dir")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "policy":
            return _policy_check(args.directory)
        if args.command == "reshard":
            return reshard_cli.run(args)
        if args.command == "verify":
            return verify_cli.run(args)
        if args.command == "health":
            return health_cli.run(args)
        cfg = _config(args)
        if args.command == "migrate":
            return asyncio.run(_migrate(cfg))
        if args.command == "failover":
            return _failover(cfg, args.shard, args.keyspace)
        if args.command == "backup":
            return backup_cli.backup(cfg)
        if args.command == "restore":
            return backup_cli.restore_to(cfg, args.to, args.shard, args.keyspace)
        if cfg.workers > 1 and not is_group_leader():
            reexec_as_group_leader()
        return event_loop.run(serve(cfg))
    except (ConfigError, PolicyError, EmbeddedBackendError) as exc:
        if args.command in ("failover", "backup", "restore"):
            print(f"datagw {args.command}: {redact_url(str(exc))}", file=sys.stderr)
            return 2
        # What the operator must fix, said plainly: no traceback, no password.
        print(f"datagw: refusing to start:\n{redact_url(str(exc))}", file=sys.stderr)
        return 2
    except Unavailable as exc:
        # A configured backend did not answer at start (migrations need every
        # shard): nothing to fix in the config, maybe only to wait, so its own
        # status, and no traceback either.
        where = ", ".join(f"{k} {v}" for k, v in sorted(exc.metadata.items()))
        print(f"datagw: cannot start, a backend is unreachable: {redact_url(exc.message)}"
              f"{f' ({redact_url(where)})' if where else ''}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
