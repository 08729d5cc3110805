"""The Go client as a user gets it: the module from dist/go (scripts/dist_go.sh,
a module proxy layout) fetched with `go get github.com/datagw/datagw/clients/go@vX.Y.Z`
into a fresh module outside the checkout, with the quickstart's source
(clients/go/examples/quickstart) as that module's code. It runs against
`datagw serve --ephemeral`, plaintext, and against a gateway that wants a client
certificate and takes a token (conftest.py), with both.

The fresh module has its own module cache, so the zip under test is never a
copy an earlier run left in the shared one; the shared cache is a file://
proxy behind dist/go, so the dependencies come from it without the network
when it holds them.
"""

from __future__ import annotations

import hashlib
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

MODULE = "github.com/datagw/datagw/clients/go"
VERSION = "v" + (ROOT / "clients" / "VERSION").read_text().strip()
PROXY = ROOT / "dist" / "go"
VERSION_DIR = PROXY / MODULE / "@v"  # the path has no upper-case letters to escape
EXAMPLE = ROOT / "clients" / "go" / "examples" / "quickstart"

# Built in the fresh module and run during a gateway restart: one read through
# datagwclient.NewClient, with a deadline long enough for the gateway to come back.
WAIT_FOR_GATEWAY = """package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	datagwv1 "github.com/datagw/datagw/clients/go/datagw/v1"
	"github.com/datagw/datagw/clients/go/datagwclient"
)

func main() {
	conn, err := datagwclient.NewClient(os.Args[1],
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	defer conn.Close()
	fmt.Println("calling")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	strong := &datagwv1.ReadOptions{
		Consistency: datagwv1.ConsistencyLevel_CONSISTENCY_LEVEL_STRONG,
	}
	resp, err := datagwv1.NewCatalogServiceClient(conn).GetProduct(ctx,
		&datagwv1.GetProductRequest{Sku: os.Args[2], ReadOptions: strong})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println(resp.GetProduct().GetTitle())
}
"""


@pytest.fixture(scope="module")
def go() -> str:
    return need_tool("go", shutil.which("go") or "/usr/local/go/bin/go")


def go_env(go: str, cache: Path) -> dict[str, str]:
    """What a user of an unpublished module sets: dist/go first on GOPROXY, and no
    checksum database lookup for it (sum.golang.org has not seen the tag yet)."""
    shared = subprocess.run([go, "env", "GOMODCACHE", "GOPROXY"], capture_output=True,
                            text=True, check=True).stdout.split()
    return client_env(
        GOPROXY=f"file://{PROXY},file://{shared[0]}/cache/download,{shared[1]}",
        GOMODCACHE=str(cache),
        GONOSUMDB="github.com/datagw/datagw",
        # -modcacherw: the cache can be removed with the tmp dir.
        GOFLAGS="-mod=mod -modcacherw",
        GOWORK="off",
    )


@pytest.fixture(scope="module")
def project(go: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh module holding the quickstart, with the client added by `go get`."""
    archive = dist_artifact(f"go/{MODULE}/@v/{VERSION}.zip")
    root = tmp_path_factory.mktemp("go-user")
    # The go command indexes a module cache's packages in the shared build cache by
    # their directory, trusting the cache never to change; a path named by the zip's
    # hash keeps a rebuilt zip from being read through an earlier run's index.
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    env = go_env(go, root / f"modcache-{digest}")
    project = root / "try"
    project.mkdir()
    for source in EXAMPLE.glob("*.go"):
        shutil.copy(source, project)

    def step(*args: str) -> None:
        done = subprocess.run([go, *args], cwd=project, env=env, capture_output=True,
                              text=True, timeout=480)
        assert done.returncode == 0, f"go {' '.join(args)}:\n{done.stderr}"

    step("mod", "init", "example.com/try")
    step("get", f"{MODULE}@{VERSION}")
    step("mod", "tidy")
    step("build", "-o", "quickstart", ".")
    (project / "waitforgateway").mkdir()
    (project / "waitforgateway" / "main.go").write_text(WAIT_FOR_GATEWAY)
    step("build", "-o", "wait-for-gateway", "./waitforgateway")
    return project


@pytest.fixture(scope="module")
def quickstart(project: Path) -> Path:
    return project / "quickstart"


def test_the_project_requires_the_released_module_and_no_checkout(project: Path) -> None:
    gomod = (project / "go.mod").read_text()
    assert f"\t{MODULE} {VERSION}\n" in gomod, gomod
    assert "replace" not in gomod, gomod
    assert f"{MODULE} {VERSION} h1:" in (project / "go.sum").read_text()


def test_the_module_zip_is_the_client_without_the_examples() -> None:
    dist_artifact(f"go/{MODULE}/@v/{VERSION}.zip")
    assert (VERSION_DIR / "list").read_text().split() == [VERSION]
    assert (VERSION_DIR / f"{VERSION}.mod").read_bytes() == \
        (ROOT / "clients" / "go" / "go.mod").read_bytes()
    prefix = f"{MODULE}@{VERSION}/"
    with zipfile.ZipFile(VERSION_DIR / f"{VERSION}.zip") as z:
        names = z.namelist()
        config = z.read(prefix + "datagwclient/service_config.json")
    assert all(n.startswith(prefix) for n in names), names
    files = {n.removeprefix(prefix) for n in names}
    assert {"go.mod", "go.sum", "datagw/v1/catalog_grpc.pb.go", "datagwclient/client.go"} <= files
    # The examples are their own module (with their own dependencies), not the client's.
    assert not [f for f in files if f.startswith("examples/")], files
    assert config == (ROOT / "clients" / "service_config.json").read_bytes()


def _go_version(text: str) -> tuple[int, ...]:
    # "1.23" sorts before "1.23.0", as the go command orders them.
    return tuple(int(part) for part in text.split("."))


def test_the_go_directive_is_the_oldest_go_the_dependencies_allow(go: str) -> None:
    listed = subprocess.run(
        [go, "list", "-m", "-f", "{{.Main}} {{.GoVersion}}", "all"],
        cwd=ROOT / "clients" / "go", capture_output=True, text=True, timeout=120,
        env=client_env(GOFLAGS="-mod=readonly", GOWORK="off"),  # never edits the checkout
    )
    assert listed.returncode == 0, listed.stderr
    own, needed = None, []
    for line in listed.stdout.splitlines():
        main, _, version = line.partition(" ")
        if main == "true":
            own = version
        elif version:
            needed.append(version)
    assert own is not None and needed, listed.stdout
    # Higher would shut out users of an older Go for nothing; lower, the go
    # command raises it on the user's side.
    assert _go_version(own) == max(map(_go_version, needed)), (own, sorted(needed))
    assert "toolchain" not in (ROOT / "clients" / "go" / "go.mod").read_text()


def run(binary: Path, address: str, timeout: str = "20s",
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), "-addr", address, "-timeout", timeout],
                          capture_output=True, text=True, timeout=120, env=env or client_env())


def test_quickstart_passes_every_step_against_the_gateway(
    quickstart: Path, tmp_path: Path
) -> None:
    with gateway_process(tmp_path) as gw:
        result = run(quickstart, gw.address)
    check_every_step(result)


def test_quickstart_passes_with_a_client_certificate_and_a_token(
    quickstart: Path, secured_gateway: SecuredGateway
) -> None:
    # DGW_ADDR names the gateway; the flag is left out.
    result = subprocess.run([str(quickstart), "-timeout", "20s"], capture_output=True,
                            text=True, timeout=120, env=secured_gateway.env())
    check_every_step(result)


def check_every_step(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    sku = lines[1].split()[3]
    assert sku.startswith("GO-QS-")
    run_id = sku.removeprefix("GO-QS-")
    order_id = lines[8].split()[3]
    assert order_id.startswith("o"), result.stdout
    expected = [  # one line per step, in order; the variable parts are left off
        f"ok   upsert product: {sku} version=1 created=true",
        f'ok   get product: {sku} "Enamel teapot" 2499 EUR',
        f'ok   search products: "teapot" found {sku} among ',
        "ok   create session: user go-quickstart, expires ",
        f"ok   get session: user go-quickstart cart={sku}",
        f"ok   set stock: {sku} on_hand=10 available=10",
        f"ok   create user: user-{run_id} <user-{run_id}@example.com> version=1",
        f"ok   create order: {order_id} ORDER_STATUS_PLACED total=4998 EUR "
        "payment PAYMENT_STATUS_AUTHORIZED",
        f"ok   get order: {order_id} ORDER_STATUS_PLACED (read your writes)",
        f"ok   get stock: {sku} on_hand=8 available=8",
        "ok   invalid sku: InvalidArgument; ErrorInfo datagw/INVALID_ARGUMENT; "
        "BadRequest sku: must be 1-64 characters of A-Z a-z 0-9 . _ -",
        "all 11 steps passed",
    ]
    assert len(lines) == 1 + len(expected), result.stdout
    for line, start in zip(lines[1:], expected, strict=True):
        assert line.startswith(start), result.stdout


def test_quickstart_exits_non_zero_when_a_step_fails(quickstart: Path) -> None:
    # Nothing listens on the port. The service config waits for the connection
    # to be ready, so the first call waits out its deadline and the run stops there.
    result = run(quickstart, f"127.0.0.1:{free_port()}", timeout="2s")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1].startswith(
        "FAIL upsert product: rpc error: code = DeadlineExceeded"), result.stdout
    assert "ok   " not in result.stdout


def test_a_call_waits_for_the_gateway_through_a_restart(
    project: Path, stopped_gateway: StoppedGateway
) -> None:
    result = stopped_gateway.restart_during(
        [str(project / "wait-for-gateway"), stopped_gateway.address, stopped_gateway.sku],
        project)
    assert result.returncode == 0, result.stdout
    assert result.stdout == f"{stopped_gateway.title}\n"
