#!/usr/bin/env bash
# Regenerates the TypeScript stubs (protoc-gen-es v2: messages + service
# descriptors that Connect uses) from proto/ into OUT_DIR (default:
# clients/node/src/gen), plus google.rpc.Status and the error detail types so
# clients can decode grpc-status-details-bin, and buf/validate/validate_pb
# (the stubs import it for their buf.validate field rules; validate.proto is
# the pinned one in .tools/proto, see scripts/install_proto_deps.sh). The
# stale-stub test calls it with a temp dir and compares. Needs scripts/install_node_tools.sh and buf from the
# root `npm ci`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
pkg=$here/clients/node
out=${1:-$pkg/src/gen}
buf=${BUF:-$here/node_modules/.bin/buf}
py=${PYTHON:-$here/.venv/bin/python}
[ -x "$pkg/node_modules/.bin/protoc-gen-es" ] \
  || { echo "protoc-gen-es missing: run scripts/install_node_tools.sh" >&2; exit 1; }
[ -x "$buf" ] || { echo "$buf missing: run npm ci in $here" >&2; exit 1; }
[ -f "$here/.tools/proto/buf/validate/validate.proto" ] \
  || { echo "validate.proto missing: run scripts/install_proto_deps.sh" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)  # a relative OUT_DIR means the caller's directory
rm -rf "$out/datagw" "$out/google" "$out/buf"

# The google/rpc sources are those of googleapis-common-protos, pinned in
# pyproject.toml, so every client decodes the same version the gateway encodes.
# Only these two files are copied out: building its whole site-packages tree
# would drag in unrelated protos.
rpc_src=$("$py" -c 'import os, google.rpc.status_pb2 as m; print(os.path.dirname(m.__file__))')
rpc=$(mktemp -d)
trap 'rm -rf "$rpc"' EXIT
mkdir -p "$rpc/google/rpc"
cp "$rpc_src/status.proto" "$rpc_src/error_details.proto" "$rpc/google/rpc/"

cd "$pkg"
# buf builds every file of the proto/ module, so new .proto files need no change here.
"$buf" generate "$here/proto" --template buf.gen.yaml --output "$out"
"$buf" generate "$rpc" --template buf.gen.yaml --output "$out"
"$buf" generate "$here/.tools/proto" --template buf.gen.yaml --output "$out"
