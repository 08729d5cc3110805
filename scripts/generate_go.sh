#!/usr/bin/env bash
# Regenerates the Go stubs from proto/ into OUT_DIR/datagw (default OUT_DIR:
# clients/go), and copies clients/service_config.json into
# OUT_DIR/datagwclient, which embeds it (go:embed cannot reach outside the
# module). The stale-stub test calls it with a temp dir and compares.
# Needs the plugins from scripts/install_go_tools.sh and buf from `npm ci`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/clients/go}
buf=${BUF:-$here/node_modules/.bin/buf}
tools=$here/.tools/go/bin
for plugin in protoc-gen-go protoc-gen-go-grpc; do
  # Checked here so buf never silently falls back to another copy on PATH.
  [ -x "$tools/$plugin" ] || { echo "$tools/$plugin missing: run scripts/install_go_tools.sh" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)  # a relative OUT_DIR means the caller's directory, not the repo's
rm -rf "$out/datagw"
cd "$here"
# buf builds every file of the proto/ module, so new .proto files need no change here.
PATH=$tools:$PATH "$buf" generate proto \
  --template clients/go/buf.gen.yaml --output "$out"
mkdir -p "$out/datagwclient"
cp clients/service_config.json "$out/datagwclient/service_config.json"
