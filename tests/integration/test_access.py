"""Callers' identities, the access policy and per-caller limits, on real gateways.

Each test runs a second gateway on the session stack's servers, configured
with the identity kinds it is about and a policy directory of its own, and
calls it as the callers a deployment has: workloads with client
certificates, services with tokens, the pod's own app on loopback.
"""

from __future__ import annotations

import collections
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest
from datagw.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    eventstore_pb2,
    eventstore_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)
from google.protobuf import descriptor_pool, message_factory

from gateway.api.auth.settings import AuthSettings, IdentityKind, JwtSettings
from gateway.api.auth.tokens import MIN_REFETCH_S
from gateway.runtime.config import ConfigError, TLSConfig
from gateway.runtime.server import Gateway
from gateway.runtime.services import POLICY_CATALOG
from tests.auth_fixtures import (
    AUDIENCE,
    CLIENT_SPIFFE_ID,
    ISSUER,
    Certs,
    Issuer,
    bearer,
    credentials,
)
from tests.helpers import eventually, fails, metric
from tests.policy_fixtures import POLICIES, copy_policies
from tests.policy_fixtures import running_gateway as gateway_beside

pytestmark = pytest.mark.integration

DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
SENSITIVE = [m for m in POLICY_CATALOG.methods if m.facts.sensitive]


@asynccontextmanager
async def running_gateway(
    shared: Gateway, tmp: Path, policies_dir: Path = POLICIES, **overrides: Any
) -> AsyncIterator[Gateway]:
    """A second gateway on the session gateway's own shards, with a Valkey of
    its own. The same topology matters: its projections follow the same
    source shards into the same read models, so their checkpoints agree."""
    async with gateway_beside(tmp, policies_dir, shared, **overrides) as (gw, _, _):
        yield gw


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


def policies(tmp: Path, access: str) -> Path:
    directory = copy_policies(tmp)
    (directory / "access.yaml").write_text(access)
    return directory


def jwt_auth(jwks: Path, **overrides: Any) -> AuthSettings:
    settings = JwtSettings(issuer=ISSUER, audience=AUDIENCE, jwks_file=str(jwks),
                           refresh_s=0.2, clock_skew_s=0.0)
    return AuthSettings(tcp=(IdentityKind.JWT,), unix_socket=(IdentityKind.LOCAL,),
                        jwt=settings, **overrides)


@asynccontextmanager
async def jwt_gateway(
    shared: Gateway, tmp: Path, issuer: Issuer, access: str = "", **overrides: Any
) -> AsyncIterator[tuple[Gateway, grpc.aio.Channel]]:
    jwks = issuer.write_jwks(tmp / "jwks.json")
    async with running_gateway(shared, tmp, policies(tmp, access), auth=jwt_auth(jwks),
                               **overrides) as gw:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as channel:
            yield gw, channel


async def call(channel: grpc.aio.Channel, method: str, request: Any = None,
               metadata: Any = None) -> Any:
    """Any method by its full name, with an empty request unless one is given."""
    service, name = method.split("/")
    descriptor = descriptor_pool.Default().FindServiceByName(service).methods_by_name[name]
    assert not descriptor.client_streaming and not descriptor.server_streaming
    request_class = message_factory.GetMessageClass(descriptor.input_type)
    response_class = message_factory.GetMessageClass(descriptor.output_type)
    stub = channel.unary_unary(f"/{method}", request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=response_class.FromString)
    return await stub(request if request is not None else request_class(), metadata=metadata,
                      timeout=10)


# -- identities ----------------------------------------------------------------


async def test_a_valid_token_names_the_caller_and_a_missing_one_is_refused(
    gateway: Gateway, tmp_path: Path, issuer: Issuer
) -> None:
    async with jwt_gateway(gateway, tmp_path, issuer) as (_, channel):
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        request = catalog_pb2.GetProductRequest(sku=f"no-such-{uuid.uuid4().hex[:6]}")
        missing = await fails(catalog.GetProduct(request), UNAUTHENTICATED)
        assert missing.error_info is not None
        assert missing.error_info.reason == "IDENTITY_REQUIRED"
        assert missing.error_info.metadata["accepted"] == "jwt"
        # With a token the call reaches the catalog (which has no such product).
        await fails(catalog.GetProduct(request, metadata=bearer(issuer.token("svc-web"))),
                    grpc.StatusCode.NOT_FOUND)


@pytest.mark.parametrize(("make", "reason"), [
    (lambda i: i.token("svc-web", ttl_s=-5), "TOKEN_EXPIRED"),
    (lambda i: i.token("svc-web", aud="someone-else"), "TOKEN_INVALID"),
    (lambda i: i.token("svc-web", iss="https://evil.test"), "TOKEN_INVALID"),
    (lambda i: i.token("svc-web", nbf=2**40), "TOKEN_NOT_YET_VALID"),
    (lambda i: i.token("svc-web")[:-6] + "AAAAAA", "TOKEN_INVALID"),
    (lambda i: "not-a-jwt", "TOKEN_INVALID"),
    (lambda i: Issuer().token("svc-web", kid=None), "TOKEN_KEY_UNKNOWN"),
])
async def test_bad_tokens_are_unauthenticated_with_the_reason(
    gateway: Gateway, tmp_path: Path, issuer: Issuer, make: Any, reason: str
) -> None:
    async with jwt_gateway(gateway, tmp_path, issuer) as (_, channel):
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        before = metric("datagw_authn_failures_total", reason=reason)
        failure = await fails(catalog.GetProduct(catalog_pb2.GetProductRequest(sku="x"),
                                                 metadata=bearer(make(issuer))), UNAUTHENTICATED)
        assert failure.error_info is not None and failure.error_info.reason == reason
        assert metric("datagw_authn_failures_total", reason=reason) == before + 1


async def test_a_rotated_key_is_picked_up_and_a_retired_one_refused(
    gateway: Gateway, tmp_path: Path, issuer: Issuer
) -> None:
    async with jwt_gateway(gateway, tmp_path, issuer) as (_, channel):
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        request = catalog_pb2.GetProductRequest(sku="rotation")
        old = issuer.current
        old_token = issuer.token("svc-web")
        await fails(catalog.GetProduct(request, metadata=bearer(old_token)),
                    grpc.StatusCode.NOT_FOUND)
        issuer.rotate()
        issuer.retire(old)
        issuer.write_jwks(tmp_path / "jwks.json")
        new_token = issuer.token("svc-web")

        async def new_key_accepted() -> bool:
            try:
                await catalog.GetProduct(request, metadata=bearer(new_token))
            except grpc.aio.AioRpcError as exc:
                return exc.code() is grpc.StatusCode.NOT_FOUND
            return True

        await eventually(new_key_accepted, "the rotated key is accepted")
        # The retired key no longer vouches for the token it signed, cached or not.
        failure = await fails(catalog.GetProduct(request, metadata=bearer(old_token)),
                              UNAUTHENTICATED)
        assert failure.error_info is not None
        assert failure.error_info.reason == "TOKEN_KEY_UNKNOWN"


async def test_a_client_certificate_names_the_workload_by_its_san_uri_else_its_subject(
    gateway: Gateway, tmp_path: Path, certs: Certs
) -> None:
    tls = TLSConfig(str(certs.server_cert), str(certs.server_key), str(certs.ca))
    access = f"""
rules:
  - name: orders-workload
    callers: ["mtls:{CLIENT_SPIFFE_ID}"]
    allow: [AdminService/GetTopology]
"""
    async with running_gateway(gateway, tmp_path, policies(tmp_path, access), tls=tls,
                               auth=AuthSettings(tcp=(IdentityKind.MTLS,))) as gw:
        target = f"127.0.0.1:{gw.port}"
        async with grpc.aio.secure_channel(target, credentials(certs)) as workload:
            admin = admin_pb2_grpc.AdminServiceStub(workload)
            await admin.GetTopology(admin_pb2.GetTopologyRequest(), timeout=10)
        async with grpc.aio.secure_channel(target, credentials(certs, plain=True)) as plain:
            admin = admin_pb2_grpc.AdminServiceStub(plain)
            failure = await fails(admin.GetTopology(admin_pb2.GetTopologyRequest(), timeout=10),
                                  DENIED)
            assert failure.error_info is not None
            assert failure.error_info.metadata["caller"] == "mtls:CN=plain,O=datagw test"
            assert failure.error_info.metadata["rule"] == "default-sensitive"


async def test_local_callers_are_named_by_their_listener_and_remote_ones_need_more(
    gateway: Gateway, tmp_path: Path, issuer: Issuer
) -> None:
    with tempfile.TemporaryDirectory(prefix="dgw-") as d:
        socket = Path(d) / "datagw.sock"
        auth = AuthSettings(local_name="orders-app")
        async with running_gateway(gateway, tmp_path / "local", auth=auth,
                                   unix_socket=str(socket)) as gw:
            for target in (f"unix:{socket}", f"127.0.0.1:{gw.port}"):
                async with grpc.aio.insecure_channel(target) as channel:
                    users = user_pb2_grpc.UserServiceStub(channel)
                    uid = f"local-{uuid.uuid4().hex[:8]}"
                    await users.CreateUser(user_pb2.CreateUserRequest(
                        user_id=uid, email=f"{uid}@example.com", display_name="L",
                        request_id=uid), timeout=10)
                    trail = await eventstore_pb2_grpc.EventStoreServiceStub(channel)\
                        .GetAuditTrail(eventstore_pb2.GetAuditTrailRequest(
                            entity_type=eventstore_pb2.AUDIT_ENTITY_TYPE_USER, entity_id=uid))
                    assert trail.entries[0].actor == "local:orders-app"
    # A listener that takes tokens only: a loopback caller without one is refused.
    async with jwt_gateway(gateway, tmp_path, issuer) as (_, channel):
        await fails(call(channel, "datagw.v1.AdminService/GetTopology"), UNAUTHENTICATED)


# -- authorization -------------------------------------------------------------


async def test_every_sensitive_method_is_denied_by_default_and_allowed_by_a_rule_naming_it(
    gateway: Gateway, tmp_path: Path, issuer: Issuer
) -> None:
    assert len(SENSITIVE) >= 14  # every admin method, EraseUser, RunQuery, deletes
    # `AdminService/*` and `*` grant nothing sensitive: only a name does.
    access = """
rules:
  - name: wildcards-grant-nothing-sensitive
    callers: ["jwt:*"]
    allow: ["*", "AdminService/*"]
  - name: ops
    callers: ["jwt:ops"]
    allow: [AdminService/GetTopology, AdminService/FlushCache, UserService/EraseUser]
"""
    async with jwt_gateway(gateway, tmp_path, issuer, access) as (_, channel):
        web = bearer(issuer.token("svc-web"))
        for entry in SENSITIVE:
            failure = await fails(call(channel, entry.name, metadata=web), DENIED)
            assert failure.error_info is not None
            assert failure.error_info.reason == "ACCESS_DENIED", entry.name
            assert dict(failure.error_info.metadata) == {
                "rule": "default-sensitive", "method": entry.name, "caller": "jwt:svc-web"}
        ops = bearer(issuer.token("ops"))
        await call(channel, "datagw.v1.AdminService/GetTopology", metadata=ops)
        await call(channel, "datagw.v1.AdminService/FlushCache",
                   admin_pb2.FlushCacheRequest(domain="catalog"), metadata=ops)
        # Past authorization: EraseUser checks its request (and refuses an empty one).
        await fails(call(channel, "datagw.v1.UserService/EraseUser", metadata=ops),
                    grpc.StatusCode.INVALID_ARGUMENT)
        # Not granted to ops by name: still denied.
        await fails(call(channel, "datagw.v1.AnalyticsService/RunQuery", metadata=ops), DENIED)


async def test_a_rule_naming_every_sensitive_method_lets_each_one_through(
    gateway: Gateway, tmp_path: Path, issuer: Issuer
) -> None:
    names = "".join(f"      - {m.name}\n" for m in SENSITIVE)
    access = f"""
rules:
  - name: root
    callers: ["jwt:root"]
    allow:
{names}"""
    async with jwt_gateway(gateway, tmp_path, issuer, access) as (_, channel):
        root = bearer(issuer.token("root"))
        for entry in SENSITIVE:
            # Empty requests: each method answers for itself (OK, or a refusal
            # of the request), never the gate's PERMISSION_DENIED.
            try:
                await call(channel, entry.name, metadata=root)
            except grpc.aio.AioRpcError as exc:
                assert exc.code() is not DENIED, (entry.name, exc.details())


async def test_a_deny_rule_names_itself_and_reload_changes_the_decision(
    gateway: Gateway, tmp_path: Path, issuer: Issuer
) -> None:
    access = """
rules:
  - name: web-reads-no-analytics
    callers: ["jwt:svc-web"]
    deny: ["AnalyticsService/*"]
"""
    async with jwt_gateway(gateway, tmp_path, issuer, access) as (gw, channel):
        web = bearer(issuer.token("svc-web"))
        before = metric("datagw_authz_decisions_total", decision="deny",
                        rule="web-reads-no-analytics")
        failure = await fails(call(channel, "datagw.v1.AnalyticsService/ActiveUsers",
                                   metadata=web), DENIED)
        assert failure.error_info is not None
        assert failure.error_info.metadata["rule"] == "web-reads-no-analytics"
        assert metric("datagw_authz_decisions_total", decision="deny",
                      rule="web-reads-no-analytics") == before + 1
        (tmp_path / "policies" / "access.yaml").write_text("default: allow\n")
        gw.policies.reload()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(channel, "datagw.v1.AnalyticsService/ActiveUsers", metadata=web)
        assert caught.value.code() is not DENIED


async def test_a_scoped_grant_lets_a_caller_touch_its_own_user_only(
    gateway: Gateway, tmp_path: Path, issuer: Issuer
) -> None:
    access = """
default: deny
rules:
  - name: own-user
    callers: ["jwt:*"]
    allow: [UserService/GetUser, UserService/CreateUser]
    where: {user_id: "claim:uid"}
"""
    async with jwt_gateway(gateway, tmp_path, issuer, access) as (_, channel):
        uid = f"scoped-{uuid.uuid4().hex[:8]}"
        token = bearer(issuer.token("shopper-app", uid=uid))
        users = user_pb2_grpc.UserServiceStub(channel)
        await users.CreateUser(user_pb2.CreateUserRequest(
            user_id=uid, email=f"{uid}@example.com", display_name="S", request_id=uid),
            metadata=token, timeout=10)
        await users.GetUser(user_pb2.GetUserRequest(user_id=uid), metadata=token, timeout=10)
        other = await fails(users.GetUser(user_pb2.GetUserRequest(user_id=f"{uid}-x"),
                                          metadata=token), DENIED)
        assert other.error_info is not None and other.error_info.reason == "OUT_OF_SCOPE"
        assert other.error_info.metadata["field"] == "user_id"
        # default: deny covers what no rule names.
        await fails(users.UpdateUser(user_pb2.UpdateUserRequest(user_id=uid, display_name="T",
                                                                request_id=f"{uid}-u"),
                                     metadata=token), DENIED)


async def test_the_audit_actor_is_the_identity_and_the_header_only_says_on_whose_behalf(
    gateway: Gateway, tmp_path: Path, issuer: Issuer
) -> None:
    async with jwt_gateway(gateway, tmp_path, issuer) as (_, channel):
        uid = f"audit-{uuid.uuid4().hex[:8]}"
        metadata = (*bearer(issuer.token("svc-accounts")), ("datagw-actor", "jwt:ops"))
        await user_pb2_grpc.UserServiceStub(channel).CreateUser(user_pb2.CreateUserRequest(
            user_id=uid, email=f"{uid}@example.com", display_name="A", request_id=uid),
            metadata=metadata, timeout=10)
        trail = await eventstore_pb2_grpc.EventStoreServiceStub(channel).GetAuditTrail(
            eventstore_pb2.GetAuditTrailRequest(
                entity_type=eventstore_pb2.AUDIT_ENTITY_TYPE_USER, entity_id=uid),
            metadata=bearer(issuer.token("auditor")))
        entry = trail.entries[0]
        assert (entry.actor, entry.on_behalf_of) == ("jwt:svc-accounts", "jwt:ops")


# -- per-caller limits ---------------------------------------------------------


async def test_a_caller_over_its_rate_gets_resource_exhausted_with_retry_info(
    gateway: Gateway, tmp_path: Path, issuer: Issuer
) -> None:
    access = """
limits:
  callers:
    - match: ["jwt:batch-*"]
      rate: 1
      burst: 3
"""
    async with jwt_gateway(gateway, tmp_path, issuer, access) as (_, channel):
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        request = catalog_pb2.GetProductRequest(sku="limits")
        batch = bearer(issuer.token("batch-nightly"))
        for _ in range(3):
            await fails(catalog.GetProduct(request, metadata=batch), grpc.StatusCode.NOT_FOUND)
        over = await fails(catalog.GetProduct(request, metadata=batch),
                           grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert over.error_info is not None and over.error_info.reason == "CALLER_RATE_LIMIT"
        assert over.retry_info is not None
        delay = over.retry_info.retry_delay.ToNanoseconds() / 1e9
        assert 0 < delay <= 1.0
        # Another caller is not limited by this one's use.
        await fails(catalog.GetProduct(request, metadata=bearer(issuer.token("svc-web"))),
                    grpc.StatusCode.NOT_FOUND)


async def test_a_subscription_holds_one_of_its_callers_concurrent_calls(
    gateway: Gateway, tmp_path: Path, issuer: Issuer
) -> None:
    access = """
limits:
  default: {concurrency: 1}
"""
    async with jwt_gateway(gateway, tmp_path, issuer, access) as (_, channel):
        token = bearer(issuer.token("svc-feed"))
        events = eventstore_pb2_grpc.EventStoreServiceStub(channel)
        subscription = events.SubscribeToAll(eventstore_pb2.SubscribeToAllRequest(),
                                             metadata=token)
        await subscription.read()  # the subscription is live and holds its slot
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        request = catalog_pb2.GetProductRequest(sku="conc")
        busy = await fails(catalog.GetProduct(request, metadata=token),
                           grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert busy.error_info is not None
        assert busy.error_info.reason == "CALLER_CONCURRENCY_LIMIT"
        subscription.cancel()

        seen: list[str] = []

        async def slot_returned() -> bool:
            try:
                await catalog.GetProduct(request, metadata=token)
            except grpc.aio.AioRpcError as exc:
                seen.append(exc.code().name)
                return exc.code() is grpc.StatusCode.NOT_FOUND
            return True

        try:
            await eventually(slot_returned, "the cancelled subscription gives its slot back")
        finally:
            # What the calls got meanwhile (RESOURCE_EXHAUSTED: the slot still
            # held), for the failure report of a run where it is not given back.
            print("GetProduct after the cancel:", collections.Counter(seen))


@contextmanager
def jwks_server(issuer: Issuer) -> Iterator[tuple[str, list[int]]]:
    """The issuer's JWKS over HTTP, as an identity provider serves it; and
    the count of fetches."""
    fetches = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = issuer.jwks().encode()
            fetches[0] += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json", fetches
    finally:
        server.shutdown()
        thread.join()


async def test_keys_from_a_url_are_fetched_again_when_a_token_names_a_new_key(
    gateway: Gateway, tmp_path: Path, issuer: Issuer
) -> None:
    with jwks_server(issuer) as (url, fetches):
        # A long refresh interval: only the unknown key id makes it fetch again.
        settings = JwtSettings(issuer=ISSUER, audience=AUDIENCE, jwks_url=url, refresh_s=3600)
        auth = AuthSettings(tcp=(IdentityKind.JWT,), jwt=settings)
        async with running_gateway(gateway, tmp_path, policies(tmp_path, ""),
                                   auth=auth) as gw:
            assert fetches[0] == 1
            async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as channel:
                catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
                request = catalog_pb2.GetProductRequest(sku="url-keys")
                await fails(catalog.GetProduct(request, metadata=bearer(issuer.token("a"))),
                            grpc.StatusCode.NOT_FOUND)
                issuer.rotate()
                token = issuer.token("a")

                async def accepted() -> bool:
                    try:
                        await catalog.GetProduct(request, metadata=bearer(token))
                    except grpc.aio.AioRpcError as exc:
                        assert exc.code() in (UNAUTHENTICATED, grpc.StatusCode.NOT_FOUND)
                        return exc.code() is grpc.StatusCode.NOT_FOUND
                    return True

                # At most one early fetch per MIN_REFETCH_S after the last one.
                await eventually(accepted, "the new key is fetched", within_s=MIN_REFETCH_S + 10)
                assert fetches[0] == 2


async def test_a_gateway_whose_keys_cannot_be_read_does_not_start(
    gateway: Gateway, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"server\.auth\.jwt: .*missing\.json: cannot be read"):
        async with running_gateway(gateway, tmp_path, auth=jwt_auth(tmp_path / "missing.json")):
            pass


async def test_a_failure_inside_the_gate_is_internal_with_an_id_not_unknown(
    gateway: Gateway, channel: grpc.aio.Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("a bug in the gate")

    monkeypatch.setattr(gateway.gate, "enter", broken)
    catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
    failure = await fails(catalog.GetProduct(catalog_pb2.GetProductRequest(sku="x")),
                          grpc.StatusCode.INTERNAL)
    assert failure.error_info is not None and failure.error_info.metadata["error_id"]
