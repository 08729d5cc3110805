"""`datagw backup` and `datagw restore`: embedded mode's backups and
point-in-time restore (docs/backup.md)."""

from __future__ import annotations

from gateway.runtime.config import Config, ConfigError
from gateway.runtime.embedded.backends import EmbeddedBackends, running_servers, shard_count
from gateway.runtime.embedded.requests import ask
from gateway.runtime.embedded.restore import MAIN_KEYSPACES, parse_target, plan, restore

# A base backup of a big server takes a while; the gateway answers when done.
BACKUP_WAIT_S = 4 * 3600.0


def _embedded_data(cfg: Config, command: str, needs: str) -> None:
    """Refuse unless `cfg` is embedded mode on a kept data dir holding `needs`."""
    if not cfg.embedded:
        raise ConfigError(
            f"datagw {command} acts on embedded mode's own servers; configured PostgreSQL is "
            "backed up with pgBackRest or WAL-G (docs/backup.md)")
    if cfg.ephemeral:
        raise ConfigError("an ephemeral data dir is deleted on stop: there is nothing to "
                          f"{command} (use --data-dir)")
    if not (cfg.data_dir / needs).exists():
        raise ConfigError(f"{cfg.data_dir} holds no embedded {needs.split('/')[0]} "
                          "(--data-dir, or embedded.data_dir)")


def backup(cfg: Config) -> int:
    """Back every server up: by the running gateway that owns them, else by
    starting them here, backing up and stopping them."""
    _embedded_data(cfg, "backup", "postgres/PG_VERSION")
    if running_servers(cfg.data_dir):
        print("datagw: asking the running datagw to back up", flush=True)
        lines = ask(cfg.data_dir, "backup", timeout_s=BACKUP_WAIT_S).splitlines()
    else:
        # As `datagw serve` would start them, with as many shards as the
        # data holds (replicas are started, not backed up).
        backends = EmbeddedBackends(cfg.data_dir, ephemeral=False,
                                    shards=shard_count(cfg.data_dir),
                                    replicas=cfg.embedded_replicas,
                                    synchronous=cfg.embedded_synchronous, supervise=False,
                                    backup=cfg.backup, analytics=False)
        with backends:
            # No gateway and no engine process has this data dir's chdb
            # directory open: its files are copied too.
            lines = backends.back_up(clickhouse=True).lines()
    for line in lines:
        print(f"datagw backup: {line}")
    return 0


def restore_to(cfg: Config, to: str, shard: int | None, keyspace: str | None) -> int:
    # Not the servers' data: a restore is also for when a data dir was lost.
    _embedded_data(cfg, "restore", "backups")
    target = parse_target(to)
    steps = plan(cfg.data_dir, target, shard=shard, keyspace=keyspace)
    if keyspace in MAIN_KEYSPACES:
        print(f"datagw restore: {' and '.join(MAIN_KEYSPACES)} both live on the main server: "
              "both are restored", flush=True)
    print(f"datagw restore: restoring {', '.join(s.name for s in steps)} to "
          f"{target.isoformat()}", flush=True)
    took = restore(cfg.data_dir, target, steps, lambda line: print(f"datagw restore: {line}"))
    print(f"datagw restore: done in {took:.1f}s; Valkey and the analytics store were not "
          "rolled back (the gateway reconciles them when it starts)")
    return 0
