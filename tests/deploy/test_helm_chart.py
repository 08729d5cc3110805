"""The Helm chart in deploy/helm: lint, render, validate, and hold it to the gateway.

Each value set is rendered once per module. Every manifest is validated
strictly against the Kubernetes JSON schemas that kubernetes-validate ships,
and the datagw container's environment goes through the gateway's own config
loader, so a key the chart invents fails here and not in a cluster.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import Any

import grpc
import jsonschema
import kubernetes_validate
import promql_parser
import pytest
import yaml
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from gateway.api.auth.settings import IdentityKind
from gateway.policy.access_loader import ACCESS_FILE, parse_access
from gateway.policy.loader import load_policies
from gateway.runtime.cli import _parser
from gateway.runtime.config import TLSConfig, load_config
from gateway.runtime.services import POLICY_CATALOG
from tests.conftest import ROOT, need_tool

HELM = ROOT / ".tools" / "helm" / "bin" / "helm"
# The cluster version everything is validated for (Chart.yaml allows >=1.30).
KUBE_VERSION = "1.34.0"
DATAGW_CHART = ROOT / "deploy" / "helm" / "datagw"
# Inside the chart: where scripts/dist_chart.sh copies policies/ (gitignored).
CHART_POLICIES = Path("files") / "policies"
APP_CHART = Path("examples") / "app-with-sidecar"
# The standalone example values: mTLS and an access policy.
STANDALONE_EXAMPLE = ROOT / "deploy" / "helm" / "examples" / "standalone-mtls.yaml"
SOCKET = "/var/run/datagw/datagw.sock"
# Chart defaults the drain assertions are about: server.shutdownGraceSeconds
# and the example application's shutdownSeconds.
DRAIN_GRACE_S = 10
APP_SHUTDOWN_S = 10
STANDALONE_KINDS = {"ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler",
                    "PodDisruptionBudget", "NetworkPolicy"}
SIDECAR_KINDS = {"ConfigMap", "Deployment"}
TLS_ARGS = ["--set", "server.tls.enabled=true", "--set", "server.tls.secretName=datagw-tls"]
# Standalone renders only with an access policy; this one keeps the bundled
# defaults (sensitive methods to local callers only). As a mapping here; the
# example file gives it as a mapping too and the docs as --set-file text.
ACCESS_ARGS = ["--set-json", 'accessPolicy={"default":"allow","rules":[{"name":"in-pod",'
               '"callers":["local:*"],"allow":["AdminService/GetTopology"]}]}']
# Plaintext on purpose, every caller anonymous: the development setup.
PLAINTEXT_ANONYMOUS = ["--set", "server.insecurePlaintext=true",
                       "--set", "server.auth.allowAnonymous=true"]
INSECURE_ARGS = [*PLAINTEXT_ANONYMOUS, *ACCESS_ARGS]
MTLS_ONLY = [*TLS_ARGS, "--set", "server.tls.mtls=true"]
MTLS_ARGS = [*MTLS_ONLY, *ACCESS_ARGS]
JWT_ARGS = ["--set", "server.auth.jwt.issuer=https://idp.example.com/",
            "--set", "server.auth.jwt.audience=datagw"]
LOCAL = (IdentityKind.LOCAL,)
SPREAD_ARG = ('topologySpreadConstraints=[{"topologyKey":"topology.kubernetes.io/zone",'
              '"maxSkew":1,"whenUnsatisfiable":"DoNotSchedule","minDomains":2,'
              '"labelSelector":{"matchLabels":{"tier":"gateway"}}}]')
ALERTS_ARGS = ["--set", "metrics.prometheusRule.enabled=true"]
# A PrometheusRule is a Prometheus Operator CRD, which kubernetes-validate
# does not know: this schema (written from the CRD's) holds it to the CRD's
# fields and to what an alert of ours needs.
PROMETHEUS_RULE_SCHEMA = Path(__file__).parent / "prometheusrule.schema.json"
OPERATIONS = ROOT / "docs" / "operations.md"
# The backup alerts' metrics (the RPO's), which every rule must keep.
BACKUP_METRICS = {"datagw_backup_wal_archive_age_seconds",
                  "datagw_backup_last_base_backup_timestamp_seconds"}


@dataclass(frozen=True)
class ValueSet:
    chart: str                      # "datagw" or "app" (the example application)
    args: list[str]
    kinds: set[str]
    probe: str                      # "grpc", or the exec probe's target
    config: dict[str, Any] = field(default_factory=dict)  # expected Config attributes


# Config attributes are dotted paths ("auth.tcp"). A standalone TCP listener
# never accepts `local`: its callers come through the Service (or a mesh
# proxy's loopback), in-pod ones over the unix socket.
VALUE_SETS = {
    "standalone": ValueSet(
        "datagw", INSECURE_ARGS, STANDALONE_KINDS, "grpc",
        {"listen": "0.0.0.0:50051", "unix_socket": SOCKET, "tls": None,
         "metrics_listen": "0.0.0.0:9464", "exporter": None, "log_level": "info",
         "auth.tcp": (), "auth.unix_socket": LOCAL, "auth.allow_anonymous": True,
         "auth.local_name": None, "auth.jwt": None}),
    "standalone-tls": ValueSet(
        "datagw", MTLS_ARGS, STANDALONE_KINDS,
        f"unix://{SOCKET}",
        {"tls": TLSConfig("/etc/datagw/tls/tls.crt", "/etc/datagw/tls/tls.key",
                          "/etc/datagw/tls/ca.crt"),
         "auth.tcp": (IdentityKind.MTLS,), "auth.unix_socket": LOCAL,
         "auth.allow_anonymous": False, "auth.local_name": None}),
    "standalone-example": ValueSet(
        "datagw", ["-f", str(STANDALONE_EXAMPLE)], STANDALONE_KINDS, f"unix://{SOCKET}",
        {"tls.client_ca_file": "/etc/datagw/tls/ca.crt", "auth.tcp": (IdentityKind.MTLS,),
         "auth.allow_anonymous": False}),
    "standalone-tls-jwt-configmap": ValueSet(
        "datagw",
        [*TLS_ARGS, *JWT_ARGS, "--set", "server.auth.jwt.jwksConfigMap=idp-jwks",
         "--set", "server.auth.localName=ops", *ACCESS_ARGS],
        STANDALONE_KINDS, f"unix://{SOCKET}",
        {"tls.client_ca_file": None, "auth.tcp": (IdentityKind.JWT,),
         "auth.unix_socket": (IdentityKind.LOCAL, IdentityKind.JWT),
         "auth.allow_anonymous": False, "auth.local_name": "ops",
         "auth.jwt.issuer": "https://idp.example.com/", "auth.jwt.audience": "datagw",
         "auth.jwt.jwks_file": "/etc/datagw/jwks/jwks.json", "auth.jwt.jwks_url": None,
         "auth.jwt.identity_claim": "sub", "auth.jwt.refresh_s": 300.0,
         "auth.jwt.clock_skew_s": 30.0, "auth.jwt.algorithms": ("RS256", "ES256", "EdDSA")}),
    "standalone-mtls-jwt-secret": ValueSet(
        "datagw",
        [*MTLS_ARGS, *JWT_ARGS, "--set", "server.auth.jwt.jwksSecret=idp-keys",
         "--set", "server.auth.jwt.jwksKey=keys.json",
         "--set", "server.auth.jwt.identityClaim=client_id",
         "--set-json", 'server.auth.jwt.algorithms=["ES256"]'],
        STANDALONE_KINDS, f"unix://{SOCKET}",
        {"auth.tcp": (IdentityKind.MTLS, IdentityKind.JWT),
         "auth.jwt.jwks_file": "/etc/datagw/jwks/keys.json",
         "auth.jwt.identity_claim": "client_id", "auth.jwt.algorithms": ("ES256",)}),
    # Plaintext with tokens (e.g. a mesh encrypts): no anonymous unless asked.
    "standalone-insecure-jwt-url": ValueSet(
        "datagw",
        ["--set", "server.insecurePlaintext=true", *JWT_ARGS,
         "--set", "server.auth.jwt.jwksUrl=https://idp.example.com/jwks.json", *ACCESS_ARGS],
        STANDALONE_KINDS, "grpc",
        {"tls": None, "auth.tcp": (IdentityKind.JWT,), "auth.allow_anonymous": False,
         "auth.jwt.jwks_url": "https://idp.example.com/jwks.json",
         "auth.jwt.jwks_file": None}),
    "standalone-servicemonitor": ValueSet(
        "datagw",
        [*INSECURE_ARGS,
         "--set", "metrics.serviceMonitor.enabled=true", "--set", "telemetry.exporter=otlp",
         "--set", "telemetry.otlpEndpoint=http://otel-collector:4317",
         "--set", "logging.level=debug"],
        STANDALONE_KINDS | {"ServiceMonitor"}, "grpc",
        {"exporter": "otlp", "otlp_endpoint": "http://otel-collector:4317",
         "log_level": "debug"}),
    # Telemetry left to the standard OTEL_* variables: no datagw setting overrides them.
    "standalone-otel-env": ValueSet(
        "datagw",
        [*INSECURE_ARGS, "--set-json", 'extraEnv=[{"name":"OTEL_TRACES_EXPORTER","value":"otlp"},'
         '{"name":"OTEL_EXPORTER_OTLP_ENDPOINT","value":"http://otel-collector:4318"}]'],
        STANDALONE_KINDS, "grpc",
        {"exporter": None, "otlp_endpoint": None, "otlp_protocol": None, "service_name": None}),
    # One rule of its own: a zone per replica or none scheduled.
    "standalone-spread": ValueSet(
        "datagw", [*INSECURE_ARGS, "--set-json", SPREAD_ARG], STANDALONE_KINDS, "grpc"),
    "standalone-alerts": ValueSet(
        "datagw", [*INSECURE_ARGS, *ALERTS_ARGS], STANDALONE_KINDS | {"PrometheusRule"}, "grpc"),
    # The rule is about the gateway's metrics, whoever scrapes them: a
    # sidecar's application chart may render it too.
    "sidecar-alerts": ValueSet(
        "app", ["--set", "datagw.metrics.prometheusRule.enabled=true"],
        SIDECAR_KINDS | {"PrometheusRule"}, f"unix://{SOCKET}"),
    "standalone-tcp-only": ValueSet(
        "datagw",
        [*INSECURE_ARGS,
         "--set", "server.unixSocket.enabled=false", "--set", "autoscaling.enabled=false",
         "--set", "metrics.enabled=false", "--set-json",
         'networkPolicy.grpcFrom=[{"namespaceSelector":{"matchLabels":{"team":"shop"}}}]'],
        STANDALONE_KINDS - {"HorizontalPodAutoscaler"}, "grpc",
        {"unix_socket": None, "metrics_listen": None}),
    # The pod's own application is local:<release> on the socket and loopback.
    "sidecar": ValueSet(
        "app", [], SIDECAR_KINDS, f"unix://{SOCKET}",
        {"listen": "127.0.0.1:50051", "unix_socket": SOCKET, "tls": None,
         "auth.tcp": LOCAL, "auth.unix_socket": LOCAL, "auth.allow_anonymous": False,
         "auth.local_name": "shop", "auth.jwt": None}),
    "sidecar-local-name": ValueSet(
        "app", ["--set", "datagw.server.auth.localName=shop-api"], SIDECAR_KINDS,
        f"unix://{SOCKET}", {"auth.local_name": "shop-api"}),
    # Tokens too (a JWKS Secret): the sidecar's volumes carry it.
    "sidecar-jwt": ValueSet(
        "app", [arg.replace("server.", "datagw.server.") for arg in JWT_ARGS] + [
            "--set", "datagw.server.auth.jwt.jwksSecret=idp-keys"],
        SIDECAR_KINDS, f"unix://{SOCKET}",
        {"auth.tcp": (IdentityKind.JWT, IdentityKind.LOCAL),
         "auth.unix_socket": (IdentityKind.LOCAL, IdentityKind.JWT),
         "auth.jwt.jwks_file": "/etc/datagw/jwks/jwks.json", "auth.local_name": "shop"}),
    "sidecar-native": ValueSet(
        "app", ["--set", "datagw.sidecar.native=true"], SIDECAR_KINDS, f"unix://{SOCKET}"),
    "sidecar-pod-network": ValueSet(
        "app", ["--set", "datagw.server.listenHost=0.0.0.0"], SIDECAR_KINDS, "grpc",
        {"listen": "0.0.0.0:50051"}),
    "sidecar-loopback-tcp": ValueSet(
        "app", ["--set", "datagw.server.unixSocket.enabled=false"], SIDECAR_KINDS,
        "127.0.0.1:50051", {"unix_socket": None}),
}

# A topology Secret's content, as an operator would create it.
TOPOLOGY = """\
postgres:
  keyspaces:
    catalog:
      shards: [{primary: "postgresql://datagw@catalog-db:5432/catalog"}]
redis:
  url: redis://cache:6379/0
"""

Docs = tuple[dict[str, Any], ...]


@dataclass
class Helm:
    binary: str
    env: dict[str, str]
    charts: Path  # a copy of deploy/helm, the example's dependency built in it

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.binary, *args], env=self.env, capture_output=True,
                              text=True, timeout=120, check=False)

    def chart(self, name: str) -> Path:
        return self.charts / ("datagw" if name == "datagw" else APP_CHART)

    def template(self, chart: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("template", "shop", str(self.chart(chart)),
                        "--kube-version", KUBE_VERSION, *args)


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    binary = need_tool("helm", str(HELM))
    work = tmp_path_factory.mktemp("helm")
    # Helm's own homes in the temp dir: no repositories or caches of the
    # machine leak in, and nothing is written outside.
    env = dict(os.environ, **{f"HELM_{kind}_HOME": str(work / kind.lower())
                              for kind in ("CACHE", "CONFIG", "DATA")})
    # A copy, with the repository's policies where scripts/dist_chart.sh puts
    # them (files/policies); it also keeps the charts/ that `dependency
    # update` writes out of the work tree.
    charts = work / "charts"
    shutil.copytree(ROOT / "deploy" / "helm", charts,
                    ignore=shutil.ignore_patterns("files", "charts", "Chart.lock"))
    shutil.copytree(ROOT / "policies", charts / "datagw" / CHART_POLICIES)
    h = Helm(binary, env, charts)
    # A file:// dependency: packaged from ../../datagw with no network.
    built = h.run("dependency", "update", "--skip-refresh", str(h.chart("app")))
    assert built.returncode == 0, built.stderr
    return h


@pytest.fixture(scope="module")
def render(helm: Helm) -> Callable[[str], Docs]:
    @cache
    def rendered(name: str) -> Docs:
        value_set = VALUE_SETS[name]
        result = helm.template(value_set.chart, *value_set.args)
        assert result.returncode == 0, result.stderr
        return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)

    return rendered


def assert_access_policy_loads(docs: Docs) -> None:
    """The rendered access.yaml, read by the gateway's own loader."""
    text = of_kind(docs, "ConfigMap")["data"][ACCESS_FILE]
    policy, problems = parse_access(ACCESS_FILE, text, POLICY_CATALOG.methods)
    assert not problems, "\n".join(str(p) for p in problems)
    assert policy is not None


def of_kind(docs: Docs, kind: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind]
    return doc


def pod_spec(docs: Docs) -> dict[str, Any]:
    spec: dict[str, Any] = of_kind(docs, "Deployment")["spec"]["template"]["spec"]
    return spec


def assert_valid(doc: dict[str, Any]) -> None:
    """Strict validation against the pinned Kubernetes version's schemas."""
    if doc["kind"] == "PrometheusRule":
        prometheus_rule_validator().validate(doc)
        return
    if doc["kind"] == "ServiceMonitor":
        # A Prometheus Operator CRD: kubernetes-validate ships only the
        # built-in kinds' schemas (and raises for any other kind).
        assert doc["apiVersion"] == "monitoring.coreos.com/v1"
        return
    try:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        # The exception's own text carries the whole schema; this is the gist.
        where = ".".join(str(part) for part in exc.path)
        pytest.fail(f"{doc['kind']} {doc['metadata']['name']}: {where}: {exc.message}")


@cache
def prometheus_rule_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(PROMETHEUS_RULE_SCHEMA.read_text("utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def datagw_container(pod: dict[str, Any]) -> dict[str, Any]:
    (container,) = [c for c in pod["containers"] + pod.get("initContainers", [])
                    if c["name"] == "datagw"]
    return container


@pytest.mark.parametrize(("chart", "args"), [
    ("datagw", INSECURE_ARGS),
    ("datagw", ["-f", str(STANDALONE_EXAMPLE)]),
    ("datagw", ["--set", "mode=sidecar"]),
    ("datagw", [*INSECURE_ARGS, *ALERTS_ARGS]),
    ("app", []),
    ("app", ["--set", "datagw.sidecar.native=true"]),
])
def test_lint(helm: Helm, chart: str, args: list[str]) -> None:
    result = helm.run("lint", "--strict", str(helm.chart(chart)),
                      "--kube-version", KUBE_VERSION, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("name", VALUE_SETS)
def test_manifests_are_valid_kubernetes_objects(render: Callable[[str], Docs],
                                                name: str) -> None:
    docs = render(name)
    assert {d["kind"] for d in docs} == VALUE_SETS[name].kinds
    for doc in docs:
        assert_valid(doc)


def test_strict_validation_rejects_what_kubernetes_would(
        render: Callable[[str], Docs]) -> None:
    """The check above is not vacuous: a gRPC probe has no host to aim at."""
    deployment = copy.deepcopy(of_kind(render("standalone"), "Deployment"))
    datagw_container(deployment["spec"]["template"]["spec"])["livenessProbe"]["grpc"][
        "host"] = "127.0.0.1"
    with pytest.raises(kubernetes_validate.ValidationError, match="host"):
        kubernetes_validate.validate(deployment, KUBE_VERSION, strict=True)


@pytest.mark.parametrize("name", VALUE_SETS)
def test_container_config_is_what_the_gateway_loads(
        render: Callable[[str], Docs], name: str, tmp_path: Path) -> None:
    docs = render(name)
    pod = pod_spec(docs)
    container = datagw_container(pod)
    env = {e["name"]: e["value"] for e in container["env"]}
    mounts = {m["name"]: Path(m["mountPath"]) for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert set(mounts) <= set(volumes)
    # DATAGW_CONFIG names the topology Secret's key inside its mount; the
    # loader rejects any DATAGW_* variable that is not a real config key.
    config_file = Path(env["DATAGW_CONFIG"])
    assert config_file.parent == mounts["datagw-topology"]
    assert volumes["datagw-topology"]["secret"]["secretName"].endswith("datagw-topology")
    (tmp_path / config_file.name).write_text(TOPOLOGY)
    cfg = load_config(tmp_path / config_file.name, env)
    assert not cfg.embedded
    for key, expected in VALUE_SETS[name].config.items():
        assert attrgetter(key)(cfg) == expected, key
    assert cfg.shutdown_grace_s == DRAIN_GRACE_S
    assert cfg.policies_dir == mounts["datagw-policies"]
    assert (volumes["datagw-policies"]["configMap"]["name"]
            == of_kind(docs, "ConfigMap")["metadata"]["name"])
    if cfg.unix_socket:
        assert Path(cfg.unix_socket).parent == mounts["datagw-socket"]
        assert "emptyDir" in volumes["datagw-socket"]
    if cfg.tls:
        for path in (cfg.tls.cert_file, cfg.tls.key_file, cfg.tls.client_ca_file):
            assert path is None or Path(path).parent == mounts["datagw-tls"]
        assert volumes["datagw-tls"]["secret"]["secretName"] == "datagw-tls"
    jwt = cfg.auth.jwt
    if jwt is not None and jwt.jwks_file is not None:
        # The ConfigMap or Secret's key, as a file of its own mount.
        jwks = Path(jwt.jwks_file)
        assert jwks.parent == mounts["datagw-jwks"]
        source = volumes["datagw-jwks"].get("configMap") or volumes["datagw-jwks"]["secret"]
        assert source["items"] == [{"key": jwks.name, "path": jwks.name}]
    else:
        assert "datagw-jwks" not in mounts and "datagw-jwks" not in volumes
    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    metrics_port = int(cfg.metrics_listen.rpartition(":")[2]) if cfg.metrics_listen else None
    assert ports.get("datagw-metrics") == metrics_port
    # A port only the pod's loopback answers is not declared for the network.
    loopback = cfg.listen.startswith("127.")
    assert ports.get("datagw-grpc") == (None if loopback else 50051)


@pytest.mark.parametrize("name", VALUE_SETS)
def test_probes_check_grpc_health(render: Callable[[str], Docs], name: str) -> None:
    container = datagw_container(pod_spec(render(name)))
    expected = VALUE_SETS[name].probe
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = container[kind]
        if expected == "grpc":
            # The kubelet's native probe: pod IP, plaintext, the whole server.
            assert probe["grpc"] == {"port": 50051, "service": ""}
        else:
            command = probe["exec"]["command"]
            assert command == ["datagw", "health", "--target", expected, "--service", "",
                               "--timeout", str(probe["timeoutSeconds"])]
            args = _parser().parse_args(command[1:])
            assert (args.command, args.target, args.timeout) == (
                "health", expected, probe["timeoutSeconds"])


@pytest.mark.parametrize("name", ["standalone", "sidecar", "sidecar-native",
                                  "sidecar-pod-network"])
def test_security_context_and_drain(render: Callable[[str], Docs], name: str) -> None:
    pod = pod_spec(render(name))
    container = datagw_container(pod)
    security = container["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] != 0
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    grace = pod["terminationGracePeriodSeconds"]
    if name == "sidecar-native":
        # The kubelet stops a native sidecar after the application: no
        # preStop wait, and the pod's grace covers both in a row.
        assert container in pod["initContainers"]
        assert container["restartPolicy"] == "Always"
        assert "lifecycle" not in container
        assert grace > APP_SHUTDOWN_S + DRAIN_GRACE_S
    else:
        assert container in pod["containers"] and "restartPolicy" not in container
        # Serve on while the application (or the endpoints) let go, then drain;
        # the kill comes only after both, with room to close pools.
        pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert pre_stop > 0
        assert grace > pre_stop + DRAIN_GRACE_S


def test_exec_probe_reports_the_health_status(render: Callable[[str], Docs]) -> None:
    """The rendered exec command, run against a real grpc.health.v1 server."""
    command = datagw_container(pod_spec(render("sidecar")))["readinessProbe"]["exec"]["command"]
    assert command[0] == "datagw"  # the console script: runtime/command.py
    target_at = command.index("--target") + 1
    service_at = command.index("--service") + 1
    # Short: a unix socket path must fit in about 100 bytes.
    with tempfile.TemporaryDirectory(prefix="dgw-") as directory:
        target = f"unix://{directory}/datagw.sock"
        servicer = health.HealthServicer()
        server = grpc.server(ThreadPoolExecutor(max_workers=2))
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
        server.add_insecure_port(target)
        server.start()
        try:
            def probe(service: str = "") -> subprocess.CompletedProcess[str]:
                argv = list(command)
                argv[target_at], argv[service_at] = target, service
                return subprocess.run([sys.executable, "-m", "gateway.runtime.command",
                                       *argv[1:]], cwd=ROOT, capture_output=True, text=True,
                                      timeout=60, check=False)

            servicer.set("", health_pb2.HealthCheckResponse.SERVING)
            assert probe().returncode == 0
            servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
            failed = probe()
            assert failed.returncode == 1 and failed.stdout.endswith(": NOT_SERVING\n")
            unknown = probe("datagw.v1.NoSuchService")
            assert unknown.returncode == 1 and unknown.stdout.endswith(": SERVICE_UNKNOWN\n")
        finally:
            server.stop(None)


@pytest.mark.parametrize("name", VALUE_SETS)
def test_rendered_policies_load(render: Callable[[str], Docs], name: str,
                                tmp_path: Path) -> None:
    """The ConfigMap is a policy directory the gateway loads: what
    `datagw policy check` checks, the access policy included."""
    docs = render(name)
    assert_access_policy_loads(docs)
    for file, text in of_kind(docs, "ConfigMap")["data"].items():
        (tmp_path / file).write_text(text)
    policies = load_policies(tmp_path, POLICY_CATALOG)
    assert policies.access.source_file == ACCESS_FILE


def test_default_policies_are_the_repository_policies(render: Callable[[str], Docs]) -> None:
    shipped = {p.name: p.read_text("utf-8") for p in (ROOT / "policies").glob("*.yaml")}
    assert ACCESS_FILE in shipped
    # A sidecar keeps the bundled access.yaml (sensitive methods to local:*).
    assert of_kind(render("sidecar"), "ConfigMap")["data"] == shipped
    # Standalone: the same domain policies, the access policy from the values.
    data = of_kind(render("standalone"), "ConfigMap")["data"]
    assert {k: v for k, v in data.items() if k != ACCESS_FILE} == {
        k: v for k, v in shipped.items() if k != ACCESS_FILE}
    assert yaml.safe_load(data[ACCESS_FILE]) == json.loads(ACCESS_ARGS[1].partition("=")[2])
    example = yaml.safe_load(STANDALONE_EXAMPLE.read_text("utf-8"))["accessPolicy"]
    assert yaml.safe_load(of_kind(render("standalone-example"), "ConfigMap")["data"][
        ACCESS_FILE]) == example


def test_access_policy_as_text_and_in_a_sidecar(helm: Helm, tmp_path: Path) -> None:
    """--set-file gives the text as it is; a sidecar may narrow the bundled one."""
    access = tmp_path / "access.yaml"
    access.write_text("# only reads for the app\ndefault: allow\n")
    for chart, args in (("datagw", [*MTLS_ONLY, "--set-file", f"accessPolicy={access}"]),
                        ("app", ["--set-file", f"datagw.accessPolicy={access}"])):
        result = helm.template(chart, *args)
        assert result.returncode == 0, result.stderr
        docs = tuple(d for d in yaml.safe_load_all(result.stdout) if d)
        assert of_kind(docs, "ConfigMap")["data"][ACCESS_FILE] == access.read_text()
        assert_access_policy_loads(docs)


def test_policies_from_values_replace_the_bundled_set(
        helm: Helm, render: Callable[[str], Docs]) -> None:
    result = helm.template("datagw", *INSECURE_ARGS, "--set-file",
                           f"policies.catalog\\.yaml={ROOT / 'policies' / 'catalog.yaml'}")
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert set(of_kind(docs, "ConfigMap")["data"]) == {"catalog.yaml", ACCESS_FILE}

    def checksum(deployment: dict[str, Any]) -> str:
        value: str = deployment["spec"]["template"]["metadata"]["annotations"][
            "checksum/datagw-policies"]
        return value

    # Pods roll on a policy change.
    assert checksum(of_kind(docs, "Deployment")) != checksum(
        of_kind(render("standalone"), "Deployment"))
    # An access.yaml among the policies is the access policy too.
    result = helm.template("datagw", *PLAINTEXT_ANONYMOUS, "--set-file",
                           f"policies.access\\.yaml={ROOT / 'policies' / 'access.yaml'}")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("chart", "args", "message"), [
    # values.schema.json
    ("datagw", ["--set", "mode=both"], "/mode"),
    ("datagw", ["--set", "logging.level=verbose"], "/logging/level"),
    ("datagw", ["--set", "server.port=abc"], "/server/port"),
    ("datagw", ["--set", "server.listenPort=1"], "'listenPort' not allowed"),
    ("datagw", ["--set", "server.tls.enabled=true"], "/server/tls/secretName"),
    ("datagw", ["--set", "telemetry.exporter=zipkin"], "/telemetry/exporter"),
    ("datagw", ["--set", "topology.existingSecret="], "/topology/existingSecret"),
    ("datagw", ["--set", "server.defaultDeadline=0s"], "/server/defaultDeadline"),
    ("datagw", ["--set", "probes.readiness.periodSeconds=0"],
     "/probes/readiness/periodSeconds"),
    ("datagw", ["--set", "probes.liveness.service=not a service"], "/probes/liveness/service"),
    ("app", ["--set", "datagw.logging.level=loud"], "/logging/level"),
    ("datagw", ["--set", "server.insecurePlaintext=yes"], "/server/insecurePlaintext"),
    ("datagw", ["--set", "server.auth.localName=my app"], "/server/auth/localName"),
    ("datagw", ["--set", "server.auth.jwt.jwksUrl=ftp://idp/keys"],
     "/server/auth/jwt/jwksUrl"),
    ("datagw", ["--set-json", 'server.auth.jwt.algorithms=["HS256"]'],
     "/server/auth/jwt/algorithms"),
    ("datagw", ["--set", "accessPolicy=1"], "/accessPolicy"),
    # what the schema cannot say: the templates fail with the key
    ("datagw", [*MTLS_ARGS, "--set", "probes.type=grpc"], "probes.type grpc"),
    ("datagw", [*MTLS_ARGS, "--set", "server.unixSocket.enabled=false"],
     "server.unixSocket.enabled"),
    ("datagw", [*INSECURE_ARGS, "--set", "server.listenHost=127.0.0.1"], "server.listenHost"),
    ("datagw", [*INSECURE_ARGS, "--set", "autoscaling.minReplicas=5",
                "--set", "autoscaling.maxReplicas=2"],
     "autoscaling.minReplicas"),
    # standalone: TLS or plaintext on purpose, callers with an identity, an
    # access policy
    ("datagw", ACCESS_ARGS, "mode standalone serves gRPC on the pod network and needs TLS"),
    ("datagw", [*ACCESS_ARGS, "--set", "server.auth.allowAnonymous=true"],
     "set server.insecurePlaintext: true to serve plaintext on purpose"),
    ("datagw", [*MTLS_ARGS, "--set", "server.insecurePlaintext=true"],
     "server.insecurePlaintext and server.tls.enabled contradict each other"),
    ("datagw", ["--set", "server.insecurePlaintext=true", *ACCESS_ARGS],
     "callers through the Service would have no identity the gateway accepts"),
    ("datagw", [*INSECURE_ARGS, "--set", "server.tls.mtls=true"],
     "server.tls.mtls needs server.tls.enabled"),
    ("datagw", [*TLS_ARGS, *ACCESS_ARGS],
     "callers through the Service would have no identity the gateway accepts"),
    ("datagw", MTLS_ONLY, "mode standalone needs an access policy"),
    ("datagw", PLAINTEXT_ANONYMOUS, "mode standalone needs an access policy"),
    ("datagw", [*MTLS_ONLY, "--set-json", 'policies={"catalog.yaml":"domain: catalog"}'],
     "mode standalone needs an access policy"),
    ("datagw", [*MTLS_ARGS, "--set", "policies.access\\.yaml=default: deny"],
     "the access policy is given twice"),
    ("datagw", [*MTLS_ONLY, "--set-string", "accessPolicy=- allow"],
     "accessPolicy is not a YAML mapping"),
    ("datagw", [*MTLS_ARGS, "--set", "server.auth.jwt.issuer=https://idp"],
     "server.auth.jwt.issuer needs server.auth.jwt.audience"),
    ("datagw", [*MTLS_ARGS, *JWT_ARGS], "exactly one of jwksUrl, jwksConfigMap or jwksSecret"),
    ("datagw", [*MTLS_ARGS, *JWT_ARGS, "--set", "server.auth.jwt.jwksUrl=https://idp/keys",
                "--set", "server.auth.jwt.jwksSecret=idp-keys"],
     "exactly one of jwksUrl, jwksConfigMap or jwksSecret"),
    ("datagw", [*MTLS_ARGS, "--set", "server.auth.jwt.audience=datagw"],
     "server.auth.jwt: set issuer as well"),
    ("app", ["--set", "datagw.server.auth.jwt.issuer=https://idp"],
     "server.auth.jwt.issuer needs server.auth.jwt.audience"),
    ("datagw", ["--set", "mode=sidecar", "--set", "metrics.serviceMonitor.enabled=true"],
     "metrics.serviceMonitor"),
    ("app", ["--set", "datagw.probes.type=grpc"], "probes.type grpc"),
    ("datagw", [*INSECURE_ARGS, *ALERTS_ARGS, "--set", "metrics.enabled=false"],
     "metrics.prometheusRule.enabled needs metrics.enabled"),
    ("datagw", ["--set", "metrics.prometheusRule.alerts.sagaStuck.for=5 minutes"],
     "/metrics/prometheusRule/alerts/sagaStuck/for"),
    ("datagw", ["--set", "metrics.prometheusRule.alerts.latencySlo.threshold=-1"],
     "/metrics/prometheusRule/alerts/latencySlo/threshold"),
    ("datagw", ["--set", "metrics.prometheusRule.alerts.diskFull.enabled=true"],
     "'diskFull' not allowed"),
    ("datagw", ["--set", "metrics.prometheusRule.runbookBaseUrl=docs/operations.md"],
     "/metrics/prometheusRule/runbookBaseUrl"),
    ("app", ["--set", "datagw.mode=standalone", *[
        arg.replace("server.", "datagw.server.").replace("accessPolicy", "datagw.accessPolicy")
        for arg in INSECURE_ARGS]], "mode: sidecar"),
])
def test_bad_values_are_rejected(helm: Helm, chart: str, args: list[str],
                                 message: str) -> None:
    result = helm.template(chart, *args)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


_VALUES_BLOCK = re.compile(r"```yaml\n(# (?:datagw|app) values[^\n]*\n.*?)```", re.S)


@pytest.mark.parametrize("index", range(len(_VALUES_BLOCK.findall(
    (ROOT / "docs" / "deploy.md").read_text("utf-8")))))
def test_documented_values_render(helm: Helm, index: int, tmp_path: Path) -> None:
    """docs/deploy.md's values examples render into valid objects."""
    block = _VALUES_BLOCK.findall((ROOT / "docs" / "deploy.md").read_text("utf-8"))[index]
    values = tmp_path / "values.yaml"
    values.write_text(block)
    result = helm.template("app" if block.startswith("# app") else "datagw", "-f", str(values))
    assert result.returncode == 0, result.stderr
    docs = tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)
    assert any(doc["kind"] == "Deployment" for doc in docs)
    for doc in docs:
        assert_valid(doc)
    assert_access_policy_loads(docs)


def alerting_rules(docs: Docs) -> list[dict[str, Any]]:
    spec = of_kind(docs, "PrometheusRule")["spec"]
    return [rule for group in spec["groups"] for rule in group["rules"]]


def test_the_alerts_are_only_rendered_when_enabled(render: Callable[[str], Docs]) -> None:
    assert not [d for d in render("standalone") if d["kind"] == "PrometheusRule"]
    names = [r["alert"] for r in alerting_rules(render("standalone-alerts"))]
    assert names == [
        "DatagwBackupWalArchiveStale", "DatagwBaseBackupTooOld", "DatagwReplicaLagging",
        "DatagwRelayLagging", "DatagwProjectionLagging", "DatagwSagaStuck", "DatagwBackendDown",
        "DatagwErrorRatioHigh", "DatagwLatencySlo"]
    assert alerting_rules(render("sidecar-alerts")) == alerting_rules(render("standalone-alerts"))


def test_each_alert_follows_its_values(helm: Helm) -> None:
    result = helm.template("datagw", *INSECURE_ARGS, *ALERTS_ARGS, "--set-json",
                           'metrics.prometheusRule.alerts.backupWalArchiveStale='
                           '{"enabled":true,"severity":"page","for":"1m","threshold":900}',
                           "--set", "metrics.prometheusRule.alerts.latencySlo.enabled=false",
                           "--set", "metrics.prometheusRule.runbookBaseUrl=https://wiki/ops",
                           "--set", "metrics.prometheusRule.labels.release=prometheus")
    assert result.returncode == 0, result.stderr
    docs = tuple(d for d in yaml.safe_load_all(result.stdout) if d)
    assert of_kind(docs, "PrometheusRule")["metadata"]["labels"]["release"] == "prometheus"
    rules = {r["alert"]: r for r in alerting_rules(docs)}
    assert "DatagwLatencySlo" not in rules
    wal = rules["DatagwBackupWalArchiveStale"]
    assert wal["expr"].endswith("> 900") and wal["for"] == "1m"
    assert wal["labels"] == {"severity": "page"}
    assert wal["annotations"]["runbook_url"] == "https://wiki/ops#datagwbackupwalarchivestale"
    # Prometheus's own templates reach it untouched by Helm's.
    assert "{{ $labels.shard }}" in wal["annotations"]["summary"]


def test_the_rule_schema_rejects_what_the_operator_would(render: Callable[[str], Docs]) -> None:
    """The schema check is not vacuous: a misspelt field, a bad duration, an
    alert without its runbook."""
    rule = of_kind(render("standalone-alerts"), "PrometheusRule")
    for path, value in ((("spec", "groups", 0, "rules", 0, "fro"), "5m"),
                        (("spec", "groups", 0, "rules", 0, "for"), "5 minutes"),
                        (("spec", "groups", 0, "rules", 0, "annotations", "runbook_url"), None)):
        broken = copy.deepcopy(rule)
        *parents, last = path
        target = broken
        for part in parents:
            target = target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
        with pytest.raises(jsonschema.ValidationError):
            prometheus_rule_validator().validate(broken)


def heading_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation
    but hyphens and underscores dropped, spaces as hyphens."""
    return {re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
            for line in markdown.splitlines() if line.startswith("#")}


def test_every_runbook_is_a_section_of_operations_md(render: Callable[[str], Docs]) -> None:
    anchors = heading_anchors(OPERATIONS.read_text("utf-8"))
    base = yaml.safe_load((DATAGW_CHART / "values.yaml").read_text("utf-8"))[
        "metrics"]["prometheusRule"]["runbookBaseUrl"]
    assert base.endswith("/docs/operations.md")
    for rule in alerting_rules(render("standalone-alerts")):
        page, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert page == base
        assert anchor in anchors, f"{rule['alert']}: no heading #{anchor} in docs/operations.md"


def exported_metrics() -> set[str]:
    """Every sample name the gateway's registry can expose (a family's
    collectors are registered at import, labelled or not)."""
    import gateway.runtime.server  # noqa: F401  (registers every module's metrics)
    from gateway.telemetry import REGISTRY

    suffixes = {"counter": ("_total",), "gauge": ("",),
                "histogram": ("_bucket", "_sum", "_count")}
    return {family.name + suffix for family in REGISTRY.collect()
            for suffix in suffixes.get(family.type, ("",))}


def test_every_metric_an_alert_names_is_exported(render: Callable[[str], Docs]) -> None:
    exported = exported_metrics()
    assert "datagw_saga_oldest_unfinished_seconds" in exported
    named: set[str] = set()
    for rule in alerting_rules(render("standalone-alerts")):
        assert "%!" not in rule["expr"], rule["expr"]  # a threshold printf left over
        found = set(re.findall(r"datagw_[a-z_]+", rule["expr"]))
        assert found, rule["alert"]
        named |= found
    assert named - exported == set()
    assert named >= BACKUP_METRICS


def test_every_alert_expression_parses(render: Callable[[str], Docs]) -> None:
    """PromQL's grammar (promql-parser) reads every expression: a typo fails
    here, not in the Prometheus that loads the rule. Whether an alert fires
    at its threshold is not tested: that needs Prometheus itself (promtool,
    a Go build of several minutes per fresh CI run)."""
    rules = alerting_rules(render("standalone-alerts"))
    assert rules
    for rule in rules:
        promql_parser.parse(rule["expr"])
    with pytest.raises(ValueError):
        promql_parser.parse("sum(rate(datagw_rpc_requests_total[5m]) by")


def test_standalone_replicas_spread_over_zones_and_nodes(
        render: Callable[[str], Docs]) -> None:
    """By default a preference (ScheduleAnyway), per zone then per node, over
    this release's pods of the current rollout; only standalone pods."""
    docs = render("standalone")
    selector = of_kind(docs, "Deployment")["spec"]["selector"]
    assert pod_spec(docs)["topologySpreadConstraints"] == [
        {"topologyKey": key, "maxSkew": 1, "whenUnsatisfiable": "ScheduleAnyway",
         "labelSelector": selector, "matchLabelKeys": ["pod-template-hash"]}
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")]
    # An entry's own selector is kept; only what it leaves out is filled in.
    assert pod_spec(render("standalone-spread"))["topologySpreadConstraints"] == [
        {"topologyKey": "topology.kubernetes.io/zone", "maxSkew": 1, "minDomains": 2,
         "whenUnsatisfiable": "DoNotSchedule",
         "labelSelector": {"matchLabels": {"tier": "gateway"}},
         "matchLabelKeys": ["pod-template-hash"]}]
    # A sidecar lives in the application's pods, which spread as it decides.
    assert "topologySpreadConstraints" not in pod_spec(render("sidecar"))


@pytest.mark.parametrize(("args", "message"), [
    (["--set-json", 'topologySpreadConstraints=[{"topologyKey":"kubernetes.io/hostname",'
      '"maxSkew":1,"whenUnsatisfiable":"Sometimes"}]'],
     "/topologySpreadConstraints/0/whenUnsatisfiable"),
    (["--set-json", 'topologySpreadConstraints=[{"topologyKey":"kubernetes.io/hostname",'
      '"whenUnsatisfiable":"ScheduleAnyway"}]'], "maxSkew"),
])
def test_bad_spread_constraints_are_rejected(helm: Helm, args: list[str], message: str) -> None:
    result = helm.template("datagw", *INSECURE_ARGS, *args)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_the_chart_renders_without_warnings(helm: Helm) -> None:
    """No symlink (helm warns about one) and nothing else helm complains of."""
    assert not [p for p in DATAGW_CHART.rglob("*") if p.is_symlink()]
    result = helm.template("datagw", *INSECURE_ARGS)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_dist_chart_packages_a_lint_clean_chart(helm: Helm, tmp_path: Path) -> None:
    """scripts/dist_chart.sh (make dist): the package holds the repository's
    policies as files, its appVersion is the gateway's version, and
    `helm lint --strict` of it passes with no warning."""
    env = dict(helm.env, HELM=helm.binary, DIST_DIR=str(tmp_path))
    done = subprocess.run([str(ROOT / "scripts" / "dist_chart.sh")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[WARNING]" not in done.stdout + done.stderr
    chart = yaml.safe_load((DATAGW_CHART / "Chart.yaml").read_text("utf-8"))
    (package,) = tmp_path.glob("*.tgz")
    assert package.name == f"datagw-{chart['version']}.tgz"
    with tarfile.open(package) as archive:
        members = {m.name: m for m in archive.getmembers()}
        packaged = yaml.safe_load(archive.extractfile(members["datagw/Chart.yaml"]).read())
        policies = {Path(name).name: archive.extractfile(m).read().decode()
                    for name, m in members.items()
                    if name.startswith(f"datagw/{CHART_POLICIES}/")}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert packaged["appVersion"] == project["version"]
    assert policies == {p.name: p.read_text("utf-8") for p in (ROOT / "policies").glob("*.yaml")}
    assert not any(m.issym() or m.islnk() for m in members.values())
    # The packaged chart installs as a standalone release too.
    lint = helm.run("lint", "--strict", str(package), "--kube-version", KUBE_VERSION,
                    *INSECURE_ARGS)
    assert lint.returncode == 0 and "[WARNING]" not in lint.stdout, lint.stdout + lint.stderr
