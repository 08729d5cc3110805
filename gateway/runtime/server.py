"""The gateway's lifecycle: open the backends, wire the domains, serve gRPC,
run the background jobs; drain and close in reverse on stop.

What is built lives elsewhere: runtime/startup.py opens the backends,
runtime/wiring.py builds the domains, runtime/services.py lists the services
and builds their servicers, runtime/health.py derives health.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import _async as health_aio
from grpc_health.v1 import health, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from gateway.api.auth.gate import AccessGate
from gateway.api.auth.tokens import KeySetError
from gateway.api.interceptors import GatewayInterceptor
from gateway.errors import Unavailable
from gateway.policy.registry import PolicyRegistry
from gateway.runtime import health as health_status
from gateway.runtime.config import Config, ConfigError
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.growth import add_embedded_shard
from gateway.runtime.reflection import enable_reflection
from gateway.runtime.services import (
    METHOD_DOMAINS,
    POLICY_CATALOG,
    POLICY_DOMAINS,
    SERVICE_NAMES,
    SERVICES,
    planned_reads,
)
from gateway.runtime.startup import OpenBackends, open_backends
from gateway.runtime.wiring import Wiring, wire
from gateway.runtime.worker_group import worker_group_lock, worker_index
from gateway.storage.eventstore.notify import EventNotifiers
from gateway.storage.postgres.election import Election
from gateway.storage.topology import Backends
from gateway.tasks import stop_tasks
from gateway.telemetry import BACKGROUND_JOBS

log = logging.getLogger(__name__)

# Health rounds while calls arrive: a hung backend is found within this plus
# a probe's bound.
HEALTH_INTERVAL_S = 0.5
# With no call since the last round began, the next comes after this (an
# idle sidecar pays a probe per backend per round), or HEALTH_INTERVAL_S
# after the next call.
HEALTH_IDLE_INTERVAL_S = 5.0
# Saga recovery with no call since its last round runs this many times
# less often (30 s for the default 5 s): abandoned sagas and expired holds
# are settled that late at most (gateways that take calls settle them at
# sagas.recovery_interval).
RECOVERY_IDLE_FACTOR = 6


class NotStarted(RuntimeError):
    pass


class Gateway:
    """One gateway process's state; `start` (or `open_backends` alone, for
    `datagw migrate`) fills it, `stop` empties it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.port = 0
        self._opened: OpenBackends | None = None
        self._wiring: Wiring | None = None
        self._server: grpc.aio.Server | None = None
        self._health = health_aio.HealthServicer()
        # The access policy is read on each call: ReloadPolicies swaps it.
        self.gate = AccessGate(config.auth, POLICY_CATALOG.methods,
                               lambda: self.policies.access)
        self.interceptor = GatewayInterceptor(
            max_concurrent=config.max_concurrent_rpcs,
            default_deadline_s=config.default_deadline_s, gate=self.gate,
            method_domains=METHOD_DOMAINS)
        self._tasks: list[asyncio.Task[None]] = []
        # The background jobs (below): running in this process now or not.
        self._jobs: list[asyncio.Task[None]] = []
        self._jobs_running = False

    # -- what tests, benchmarks and the CLI look at ----------------------------

    @property
    def opened(self) -> OpenBackends:
        if self._opened is None:
            raise NotStarted("the gateway's backends are not open")
        return self._opened

    @property
    def wiring(self) -> Wiring:
        if self._wiring is None:
            raise NotStarted("the gateway is not started")
        return self._wiring

    @property
    def backends(self) -> Backends:
        return self.opened.backends

    @property
    def embedded(self) -> EmbeddedBackends | None:
        return self.opened.embedded

    @property
    def policies(self) -> PolicyRegistry:
        return self.opened.policies

    @property
    def notifiers(self) -> EventNotifiers:
        return self.opened.notifiers

    # -- lifecycle -------------------------------------------------------------

    async def open_backends(self) -> OpenBackends:
        """Policies, backends (started when embedded) and migrations; no listening."""
        self._opened = await open_backends(self.config, POLICY_CATALOG)
        return self._opened

    async def start(self) -> None:
        """Open the backends (migrated), then serve gRPC."""
        tokens = self.gate.authenticator.tokens
        if tokens is not None:
            # Before any backend: a gateway that cannot verify tokens must not start.
            try:
                await asyncio.to_thread(tokens.load)
            except KeySetError as exc:
                raise ConfigError(f"server.auth.jwt: {exc}") from exc
        opened = await self.open_backends()
        self.interceptor.set_keyspaces({
            domain: keyspace for domain in POLICY_DOMAINS
            if (keyspace := opened.policies.get(domain).keyspace) is not None})
        self._wiring = wiring = wire(self.config, opened, planned_reads())
        if opened.embedded is not None and opened.maps is not None and self.config.workers == 1:
            # Embedded mode starts shard servers itself, also while serving
            # (not with more workers: the others would not know the new server).
            wiring.resharding.allow_growth(functools.partial(add_embedded_shard, opened, wiring))
        # Before anything reads or copies: stores behind a restored database
        # are brought in line with it first.
        await wiring.rewind.reconcile()
        self._server = self._build_server(wiring)
        for cache in wiring.caches:
            cache.start()
        # In every worker: each one's reads wait for its own follower to catch up.
        wiring.catalog_follower.start()
        await self._update_health()
        await self._server.start()
        self.gate.start()
        self._tasks = [asyncio.create_task(self._health_loop())]
        if self.config.workers == 1:
            await self._start_jobs()
        else:
            # One worker of the group runs them: whoever holds the lock.
            if opened.control_dsn is None:
                raise ConfigError(
                    "server.workers: more than one worker elects the one running the background "
                    "jobs with a session lock in the control database, which a transaction "
                    "pooler cannot hold: give the catalog keyspace's shard a direct DSN")
            election = Election(opened.control_dsn, worker_group_lock(),
                                self._start_jobs, self._stop_jobs)
            self._tasks.append(asyncio.create_task(election.run()))

    async def _start_jobs(self) -> None:
        """The background jobs: saga recovery, the relay, projections,
        retention, the search maintenance (vocabulary, language), the
        resharding driver, the store watermarks, sampled verification, the
        backup monitor."""
        wiring = self.wiring
        self._jobs = [asyncio.create_task(self._recovery_loop())]
        if wiring.relay is not None:
            wiring.relay.start()
        wiring.projections.start()
        wiring.retention.start()
        wiring.search_maintenance.start()
        wiring.resharding.start()
        wiring.rewind.start(self.interceptor.activity)
        wiring.verifier.start()
        wiring.backups.start()
        self._jobs_running = True
        BACKGROUND_JOBS.set(1)

    async def _stop_jobs(self) -> None:
        if not self._jobs_running or self._wiring is None:
            return
        self._jobs_running = False
        BACKGROUND_JOBS.set(0)
        wiring = self._wiring
        await stop_tasks(*self._jobs, what="saga recovery")
        if wiring.relay is not None:
            await wiring.relay.stop()
        await wiring.projections.stop()
        await wiring.retention.stop()
        await wiring.search_maintenance.stop()
        await wiring.resharding.stop()
        await wiring.rewind.stop()
        await wiring.verifier.stop()
        await wiring.backups.stop()

    def _build_server(self, wiring: Wiring) -> grpc.aio.Server:
        cfg = self.config
        options: list[tuple[str, Any]] = [
            ("grpc.max_receive_message_length", cfg.max_message_bytes),
            ("grpc.max_send_message_length", cfg.max_message_bytes),
            # More workers share the port; one alone must not (a second
            # gateway on the same port would silently take half its calls).
            ("grpc.so_reuseport", int(cfg.workers > 1)),
        ]
        server = grpc.aio.server(interceptors=[self.interceptor], options=options)
        for entry in SERVICES:
            entry.register(wiring, server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        enable_reflection((*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
        if cfg.tls is not None:
            creds = grpc.ssl_server_credentials(
                [(Path(cfg.tls.key_file).read_bytes(), Path(cfg.tls.cert_file).read_bytes())],
                root_certificates=Path(cfg.tls.client_ca_file).read_bytes()
                if cfg.tls.client_ca_file else None,
                require_client_auth=cfg.tls.client_ca_file is not None,
            )
            self.port = server.add_secure_port(cfg.listen, creds)
        else:
            self.port = server.add_insecure_port(cfg.listen)
        if self.port == 0:
            raise ConfigError(f"server.listen: cannot listen on {cfg.listen!r}")
        if cfg.unix_socket and not worker_index():
            # The socket is for same-pod callers; the pod boundary is the trust boundary.
            server.add_insecure_port(f"unix:{cfg.unix_socket}")
        return server

    async def _update_health(self) -> None:
        for name, status in health_status.statuses(self.opened).items():
            await self._health.set(name, status)

    async def _health_loop(self) -> None:
        activity = self.interceptor.activity
        seen = activity.calls
        while True:
            # The first call after a quiet spell brings a round within
            # HEALTH_INTERVAL_S: a call on a hung backend is cut as fast as
            # under traffic.
            seen = await activity.pause(seen, HEALTH_INTERVAL_S, HEALTH_IDLE_INTERVAL_S)
            try:
                await self.backends.check()
                await self._update_health()
                for cache in self.wiring.caches:
                    cache.export_near_metrics()
            except Exception:
                log.exception("health check failed")

    async def _recovery_loop(self) -> None:
        """Finish or compensate abandoned sagas, settle expired reservations.

        Runs at start-up, then every recovery_interval while calls arrive
        (RECOVERY_IDLE_FACTOR times that when none did); a shard that is
        down is skipped this round and retried the next.
        """
        sagas = self.wiring.sagas
        activity = self.interceptor.activity
        seen = activity.calls
        while True:
            for shard in sagas.keyspace.shards:
                try:
                    await sagas.recover(shard)
                except Unavailable:
                    pass
                except Exception:
                    log.exception("saga recovery on shard %s failed", shard.index)
            try:
                await sagas.sweep_reservations()
            except Unavailable:
                pass
            except Exception:
                log.exception("reservation expiry sweep failed")
            interval = self.config.sagas.recovery_interval_s
            seen = await activity.pause(seen, interval, interval * RECOVERY_IDLE_FACTOR)

    def describe(self) -> list[str]:
        cfg = self.config
        where = [f"grpc {'tls' if cfg.tls else 'plaintext'} on {cfg.listen.rsplit(':', 1)[0]}:"
                 f"{self.port}"]
        if cfg.unix_socket and not worker_index():
            where.append(f"grpc on unix:{cfg.unix_socket}")
        return where + (self._opened.startup_lines if self._opened else [])

    async def stop(self) -> None:
        """Drain: NOT_SERVING first, refuse new calls, let in-flight ones finish."""
        loop = asyncio.get_running_loop()
        grace_ends = loop.time() + self.config.shutdown_grace_s
        # First of all, before anything that may take a while: probes answer
        # NOT_SERVING and new calls get a clear UNAVAILABLE while calls drain
        # (stopping the server right away would close the listener and hide
        # both).
        await self._health.enter_graceful_shutdown()
        self.interceptor.drain()
        await stop_tasks(*self._tasks, what="gateway loops")
        await self._stop_jobs()
        await self.gate.stop()
        wiring, self._wiring = self._wiring, None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(grace_ends):
                await self.interceptor.wait_idle()
        opened, self._opened = self._opened, None
        try:
            if self._server is not None:
                await self._server.stop(max(grace_ends - loop.time(), 0.0))
            if wiring is not None:
                await wiring.catalog_follower.stop()
                for cache in wiring.caches:
                    await cache.close()
        finally:
            # Whatever failed above, never leave embedded servers running.
            if opened is not None:
                await opened.close()
