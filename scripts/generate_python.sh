#!/usr/bin/env bash
# Regenerates the Python stubs from proto/ into the directory given (default:
# clients/python), and copies the shared gRPC service config into the package
# (package data that datagw.channel applies). The stale-stub test calls it
# with a temp dir and compares. Only datagw/v1 is generated: the hand-written
# modules next to it (datagw/channel.py, datagw/errors.py) are left alone.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/clients/python}
py=${PYTHON:-$here/.venv/bin/python}
plugins=$(dirname "$py")
rm -rf "$out/datagw/v1"
mkdir -p "$out/datagw/v1"
cp "$here/clients/service_config.json" "$out/datagw/service_config.json"
cd "$here/proto"
"$py" -m grpc_tools.protoc -I . \
  --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-mypy="$plugins/protoc-gen-mypy" --mypy_out="$out" \
  --plugin=protoc-gen-mypy_grpc="$plugins/protoc-gen-mypy_grpc" --mypy_grpc_out="$out" \
  datagw/v1/*.proto
touch "$out/datagw/v1/__init__.py"
