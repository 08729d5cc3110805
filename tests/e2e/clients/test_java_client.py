"""The Java client as a user gets it: io.datagw:datagw-client from the file
Maven repository dist/maven (scripts/dist_java.sh), resolved by a copy of the
examples project (clients/java/examples) outside the checkout whose pom lists
that repository. The example runs against `datagw serve --ephemeral`,
plaintext, and against a gateway that wants a client certificate and takes a
token (conftest.py), with both.

Maven's local repository (~/.m2) is shared and keeps a release once it has it,
so the fixture first purges this version of the client from it: the jar the
example runs with is the one in dist/maven (checked), never one an earlier
build left behind.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, need_tool
from tests.e2e.clients.conftest import (
    SecuredGateway,
    StoppedGateway,
    client_env,
    dist_artifact,
)
from tests.e2e.gateway_process import free_port, gateway_process

pytestmark = pytest.mark.e2e

VERSION = (ROOT / "clients" / "VERSION").read_text().strip()
REPOSITORY = ROOT / "dist" / "maven"
ARTIFACT = REPOSITORY / "io" / "datagw" / "datagw-client" / VERSION
JAR = ARTIFACT / f"datagw-client-{VERSION}.jar"
EXAMPLES = ROOT / "clients" / "java" / "examples"
MAIN = "io.datagw.examples.Quickstart"

# Compiled against the project's class path and run during a gateway restart:
# one read through Channels.forTarget, with a deadline long enough for the
# gateway to come back.
WAIT_FOR_GATEWAY = """
import io.datagw.client.Channels;
import io.datagw.v1.CatalogServiceGrpc;
import io.datagw.v1.ConsistencyLevel;
import io.datagw.v1.GetProductRequest;
import io.datagw.v1.ReadOptions;
import io.grpc.ManagedChannel;
import java.util.concurrent.TimeUnit;

public final class WaitForGateway {
  public static void main(String[] args) throws InterruptedException {
    ManagedChannel channel = Channels.forTarget(args[0]).build();
    try {
      System.out.println("calling");
      System.out.println(CatalogServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(60, TimeUnit.SECONDS)
          .getProduct(GetProductRequest.newBuilder()
              .setSku(args[1])
              .setReadOptions(ReadOptions.newBuilder()
                  .setConsistency(ConsistencyLevel.CONSISTENCY_LEVEL_STRONG))
              .build())
          .getProduct()
          .getTitle());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
"""


def need_artifact() -> None:
    dist_artifact(f"maven/io/datagw/datagw-client/{VERSION}/{JAR.name}")


@pytest.fixture(scope="module")
def java_command(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    mvn = need_tool("mvn", shutil.which("mvn"))
    java = need_tool("java", shutil.which("java"))
    need_artifact()
    project = tmp_path_factory.mktemp("java-user") / "examples"
    shutil.copytree(EXAMPLES, project, ignore=shutil.ignore_patterns("target"))

    def maven(*goals: str) -> None:
        done = subprocess.run(
            [mvn, "-q", "-B", "-Dstyle.color=never",
             f"-Ddatagw.repository={REPOSITORY.as_uri()}", *goals],
            cwd=project, capture_output=True, text=True, timeout=480, env=client_env(),
        )
        assert done.returncode == 0, done.stdout + done.stderr

    maven("dependency:purge-local-repository", "-Dinclude=io.datagw:datagw-client",
          "-DreResolve=false")
    maven("package")
    classpath = (project / "target" / "classpath.txt").read_text().strip()
    client = [p for p in classpath.split(":") if Path(p).name == JAR.name]
    assert len(client) == 1, classpath
    assert _sha1(Path(client[0])) == _sha1(JAR), "the example did not get dist/maven's jar"
    return [java, "-cp", f"{project / 'target' / 'classes'}:{classpath}", MAIN]


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes(), usedforsecurity=False).hexdigest()


def test_the_artifact_has_sources_javadoc_and_no_examples() -> None:
    need_artifact()
    for suffix in ("-sources.jar", "-javadoc.jar", ".pom"):
        assert (ARTIFACT / f"datagw-client-{VERSION}{suffix}").is_file(), suffix
    with zipfile.ZipFile(JAR) as z:
        names = set(z.namelist())
        config = z.read("io/datagw/service_config.json")
    assert {"io/datagw/v1/CatalogServiceGrpc.class", "io/datagw/client/Channels.class",
            "io/datagw/client/Errors.class"} <= names
    assert not [n for n in names if n.startswith("io/datagw/examples/")]
    assert config == (ROOT / "clients" / "service_config.json").read_bytes()
    with zipfile.ZipFile(ARTIFACT / f"datagw-client-{VERSION}-sources.jar") as z:
        assert "io/datagw/client/Channels.java" in z.namelist()


def test_the_poms_carry_the_clients_version() -> None:
    # The client's own version, and the one the examples depend on.
    client = (ROOT / "clients" / "java" / "pom.xml").read_text()
    own = re.search(r"<artifactId>datagw-client</artifactId>\s*<version>([^<]+)</version>",
                    client)
    assert own is not None and own[1] == VERSION
    examples = (EXAMPLES / "pom.xml").read_text()
    assert f"<datagw-client.version>{VERSION}</datagw-client.version>" in examples


def run(java_command: list[str], *address: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*java_command, *address], capture_output=True, text=True,
                          timeout=120, env=env or client_env())


def test_quickstart_passes_every_step_against_the_gateway(
    java_command: list[str], tmp_path: Path
) -> None:
    with gateway_process(tmp_path) as gw:
        result = run(java_command, gw.address)
    check_every_step(result, gw.address)


def test_quickstart_passes_with_a_client_certificate_and_a_token(
    java_command: list[str], secured_gateway: SecuredGateway
) -> None:
    # DGW_ADDR names the gateway; the argument is left out.
    result = run(java_command, env=secured_gateway.env())
    check_every_step(result, secured_gateway.address)


def check_every_step(result: subprocess.CompletedProcess[str], address: str) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"datagw at {address}"
    sku = lines[2].split()[1].rstrip(":")
    assert sku.startswith("JAVA-")
    user_id = "user-" + sku.removeprefix("JAVA-")
    placed = [line for line in lines if line.startswith("placed order ")]
    assert len(placed) == 1, result.stdout
    order_id = placed[0].split()[2].rstrip(":")
    expected = [  # the step headers and what each step saw, in order
        "==> upsert product",
        f"upserted {sku}: version 1, created true",
        "==> get product",
        f"got {sku}: Speckled enamel mug, 1450 EUR",
        "==> search products",
        f"search enamel: found [{sku}]",
        "==> create session",
        "created session for java-quickstart-",
        "==> get session",
        "got session of java-quickstart-",
        "==> set stock",
        f"stock of {sku}: 10 on hand, 10 available",
        "==> create user",
        f"created user {user_id} ({user_id}@example.com), version 1",
        "==> create order",
        f"placed order {order_id}: ORDER_STATUS_PLACED, total 2900 EUR, "
        "payment PAYMENT_STATUS_AUTHORIZED",
        "==> get order",
        f"got order {order_id} (read your writes): ORDER_STATUS_PLACED",
        "==> get stock",
        f"stock of {sku}: 8 available after the order",
        "==> invalid sku is rejected with details",
        "rejected: INVALID_ARGUMENT ",
        "ErrorInfo: domain=datagw reason=INVALID_ARGUMENT",
        "BadRequest: sku: must be 1-64 characters of A-Z a-z 0-9 . _ -",
        "all 11 steps passed",
    ]
    assert len(lines) == 1 + len(expected), result.stdout
    for line, start in zip(lines[1:], expected, strict=True):
        assert line.startswith(start), result.stdout


def test_quickstart_exits_non_zero_when_a_step_fails(java_command: list[str]) -> None:
    # Nothing listens on the port. The service config waits for the connection
    # to be ready, so the first call waits out its deadline and the run stops there.
    result = run(java_command, f"127.0.0.1:{free_port()}")
    assert result.returncode == 1, result.stdout + result.stderr
    # The status description goes on over several lines (what the channel waited for).
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED ")]
    assert len(failed) == 1, result.stdout
    assert failed[0].startswith("FAILED upsert product: DEADLINE_EXCEEDED: "), result.stdout
    assert "==> get product" not in result.stdout


def test_a_call_waits_for_the_gateway_through_a_restart(
    java_command: list[str], tmp_path: Path, stopped_gateway: StoppedGateway
) -> None:
    java, classpath = java_command[0], java_command[2]
    source = tmp_path / "WaitForGateway.java"
    source.write_text(WAIT_FOR_GATEWAY)
    javac = subprocess.run([str(Path(java).resolve().parent / "javac"), "-cp", classpath, "-d",
                            str(tmp_path), str(source)], capture_output=True, text=True,
                           timeout=120)
    assert javac.returncode == 0, javac.stdout + javac.stderr
    result = stopped_gateway.restart_during(
        [java, "-cp", f"{tmp_path}:{classpath}", "WaitForGateway",
         stopped_gateway.address, stopped_gateway.sku], tmp_path)
    assert result.returncode == 0, result.stdout
    # grpc-java may log to stderr, which comes along: the answer is the last line.
    assert result.stdout.splitlines()[-1] == stopped_gateway.title, result.stdout
