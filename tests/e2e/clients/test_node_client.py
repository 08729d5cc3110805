"""The Node client as users get it: the tarball of dist/ (`npm pack`) installed
into a fresh npm project, with nothing of the checkout on NODE_PATH. The
quickstart (clients/node/examples/quickstart.ts) is compiled there twice by a
strict tsc against the installed package's types: as ESM, where it loads the
package through `import`, and as CommonJS, through `require`; a type error in
the package's .d.ts or in the example fails before anything runs. Both run
against `datagw serve --ephemeral`, one with a client certificate and a token
against the gateway of conftest.py. A call through the package's transport
waits for a gateway that restarts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
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

PACKAGE = ROOT / "clients" / "node"
VERSION = (ROOT / "clients" / "VERSION").read_text().strip()
STEPS = ["upsert-product", "get-product", "search-products",
         "create-session", "get-session",
         "set-stock", "create-user", "create-order", "retry-create-order",
         "get-order", "get-stock", "invalid-argument-details"]
# How each module system finds the package in the compiled example.
LOADS = {"esm": 'from "@datagw/client/gen/datagw/v1/catalog_pb"',
         "cjs": 'require("@datagw/client/gen/datagw/v1/catalog_pb")'}

# A user's CommonJS script, run in the scratch project during a gateway restart:
# one read through the package's transport, with a deadline long enough for
# the gateway to come back.
WAIT_FOR_GATEWAY = """
const { createClient } = require("@connectrpc/connect");
const { createDatagwTransport } = require("@datagw/client/transport");
const { CatalogService } = require("@datagw/client/gen/datagw/v1/catalog_pb");
const { ConsistencyLevel } = require("@datagw/client/gen/datagw/v1/common_pb");

const [address, sku] = process.argv.slice(2);
const transport = createDatagwTransport({ baseUrl: `http://${address}` });
const catalog = createClient(CatalogService, transport);
console.log("calling");
catalog
  .getProduct({ sku, readOptions: { consistency: ConsistencyLevel.STRONG } }, { timeoutMs: 60_000 })
  .then((res) => console.log(res.product.title), (err) => {
    console.log(String(err));
    process.exitCode = 1;
  });
"""

# The retry policy, call by call: the gateway cannot be made to answer
# UNAVAILABLE or RESOURCE_EXHAUSTED on cue, so a Connect server in the script
# does, from a list per SKU. Prints which code each call ended with and how many
# times the server saw it.
RETRY_POLICY = """
const http2 = require("node:http2");
const { Code, ConnectError, createClient } = require("@connectrpc/connect");
const { connectNodeAdapter } = require("@connectrpc/connect-node");
const { createDatagwTransport } = require("@datagw/client/transport");
const { CatalogService } = require("@datagw/client/gen/datagw/v1/catalog_pb");

// What the server answers to GetProduct, per SKU, call after call.
const answers = {
  down: Array(10).fill(Code.Unavailable),
  flaky: [Code.ResourceExhausted, Code.Unavailable, "ok"],
  "still-down": Array(10).fill(Code.Unavailable),
  "flaky-again": [Code.ResourceExhausted, "ok"],
  invalid: [Code.InvalidArgument, "ok"],
};
// Which transport makes each call, in order: a fresh one for "down" alone.
const plan = [
  ["a", "down"], ["b", "flaky"], ["b", "still-down"], ["b", "flaky-again"], ["b", "invalid"],
];
const calls = {};
const server = http2.createServer(connectNodeAdapter({
  routes(router) {
    router.service(CatalogService, {
      async getProduct(req) {
        calls[req.sku] = (calls[req.sku] ?? 0) + 1;
        const answer = answers[req.sku][calls[req.sku] - 1];
        if (answer !== "ok") throw new ConnectError("as scripted", answer);
        return { product: { sku: req.sku } };
      },
    });
  },
}));
server.listen(0, "127.0.0.1", async () => {
  const baseUrl = `http://127.0.0.1:${server.address().port}`;
  const clients = {};
  const results = {};
  for (const [name, sku] of plan) {
    clients[name] ??= createClient(CatalogService, createDatagwTransport({ baseUrl }));
    try {
      await clients[name].getProduct({ sku });
      results[sku] = "ok";
    } catch (e) {
      results[sku] = Code[ConnectError.from(e).code];
    }
  }
  console.log(JSON.stringify({ results, calls }));
  server.close();
  process.exit(0);
});
"""


def _tsconfig() -> dict[str, object]:
    return {"compilerOptions": {
        "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext",
        "strict": True, "noUncheckedIndexedAccess": True, "noEmitOnError": True,
        "types": ["node"]}, "include": ["*.ts"]}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An npm project with the tarball installed and the example compiled into
    esm/ ("type": "module") and cjs/ ("type": "commonjs")."""
    npm = need_tool("npm", shutil.which("npm"))
    tarball = dist_artifact(f"datagw-client-{VERSION}.tgz")
    root = tmp_path_factory.mktemp("node-client")
    package = json.loads((PACKAGE / "package.json").read_text())
    pins = package["dependencies"] | {
        name: package["devDependencies"][name] for name in ("typescript", "@types/node")}
    subprocess.run([npm, "init", "-y"], cwd=root, check=True, capture_output=True, timeout=60)
    # The example imports Connect and protobuf-es itself, so the project names
    # them too, at the versions the package was built with.
    install = subprocess.run(
        [npm, "install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error",
         str(tarball), *(f"{name}@{version}" for name, version in pins.items())],
        cwd=root, capture_output=True, text=True, timeout=600, env=client_env())
    assert install.returncode == 0, install.stdout + install.stderr
    for kind, module_type in (("esm", "module"), ("cjs", "commonjs")):
        out = root / kind
        out.mkdir()
        for example in PACKAGE.joinpath("examples").glob("*.ts"):
            shutil.copy(example, out)
        (out / "package.json").write_text(json.dumps({"type": module_type}))
        (out / "tsconfig.json").write_text(json.dumps(_tsconfig()))
        # noEmitOnError: a failed type check leaves no JavaScript behind.
        build = subprocess.run([str(root / "node_modules" / ".bin" / "tsc"), "-p", str(out)],
                               capture_output=True, text=True, timeout=300, env=client_env())
        assert build.returncode == 0, build.stdout + build.stderr
        assert LOADS[kind] in (out / "quickstart.js").read_text()
    return root


def run(script: Path, *address: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(script), *address], capture_output=True, text=True,
                          timeout=120, env=env or client_env(), cwd=script.parent)


def test_quickstart_passes_every_step_through_import_and_require(
    project: Path, tmp_path: Path
) -> None:
    with gateway_process(tmp_path) as gw:
        for kind in ("esm", "cjs"):
            check_every_step(run(project / kind / "quickstart.js", gw.address))


def test_quickstart_passes_with_a_client_certificate_and_a_token(
    project: Path, secured_gateway: SecuredGateway
) -> None:
    # DGW_ADDR names the gateway; the argument is left out.
    check_every_step(run(project / "cjs" / "quickstart.js", env=secured_gateway.env()))


def check_every_step(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line[4:] for line in lines if line.startswith("ok  ")] == STEPS, result.stdout
    details = [line.strip() for line in lines if line.startswith("    ")]
    sku = details[0].split()[1]
    assert sku.startswith("NODE-QS-")
    run_id = sku.removeprefix("NODE-QS-")
    user_id = "user-" + run_id
    placed = [d for d in details if d.startswith("order ") and ", total " in d]
    assert len(placed) == 1, result.stdout
    order_id = placed[0].split()[1]
    for expected in (
        f"product {sku} stored, version 1",
        "session read back: cart = 3 items",
        f"stock of {sku}: 10 on hand, 10 available",
        f"user {user_id} created ({user_id}@example.com)",
        f"order {order_id} PLACED, total 2598 EUR, payment AUTHORIZED",
        f"create-order again with request id node-qs-{run_id}-create-order: "
        f"the same order {order_id}",
        f"order {order_id} read back with READ_YOUR_WRITES: PLACED",
        f"stock of {sku}: 8 available after the order",
        "ErrorInfo: domain=datagw reason=INVALID_ARGUMENT",
        "BadRequest: field violations on [sku]",
    ):
        assert expected in details, result.stdout
    assert any(d.startswith("search ") and d.endswith(f" found {sku}") for d in details)
    assert lines[-1] == f"quickstart: {len(STEPS)} steps passed"


def test_quickstart_exits_non_zero_at_the_deadline_when_nothing_listens(project: Path) -> None:
    # The transport waits for a gateway until the call's deadline, then the run stops.
    result = run(project / "esm" / "quickstart.js", f"127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert result.stderr.startswith("FAILED upsert-product: "), result.stderr
    assert "deadline" in result.stderr or "timed out" in result.stderr, result.stderr
    assert "ok  " not in result.stdout


def test_a_call_waits_for_the_gateway_through_a_restart(
    project: Path, stopped_gateway: StoppedGateway
) -> None:
    script = project / "wait_for_gateway.cjs"
    script.write_text(WAIT_FOR_GATEWAY)
    result = stopped_gateway.restart_during(
        ["node", str(script), stopped_gateway.address, stopped_gateway.sku], project)
    assert result.returncode == 0, result.stdout
    assert result.stdout == f"{stopped_gateway.title}\n"


def test_the_transport_retries_as_the_service_config_says(project: Path) -> None:
    script = project / "retry_policy.cjs"
    script.write_text(RETRY_POLICY)
    result = run(script)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["results"] == {
        "down": "Unavailable", "flaky": "ok", "still-down": "Unavailable",
        "flaky-again": "ResourceExhausted", "invalid": "InvalidArgument"}
    assert report["calls"] == {
        "down": 5,         # maxAttempts, on a transport of its own
        "flaky": 3,        # RESOURCE_EXHAUSTED and UNAVAILABLE retried, then the answer
        "still-down": 4,   # throttled: 10 tokens - 2 + 0.1 - 4 failures <= half
        "flaky-again": 1,  # still throttled: no retry until calls succeed again
        "invalid": 1,      # INVALID_ARGUMENT is not retried
    }
