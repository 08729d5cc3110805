#!/usr/bin/env bash
# Regenerates the Python stubs from proto/ into the directory given (default:
# clients/python). The stale-stub test calls it with a temp dir and compares.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/clients/python}
py=${PYTHON:-$here/.venv/bin/python}
plugins=$(dirname "$py")
rm -rf "$out/datagw"
mkdir -p "$out/datagw/v1"
cd "$here/proto"
"$py" -m grpc_tools.protoc -I . \
  --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-mypy="$plugins/protoc-gen-mypy" --mypy_out="$out" \
  --plugin=protoc-gen-mypy_grpc="$plugins/protoc-gen-mypy_grpc" --mypy_grpc_out="$out" \
  datagw/v1/*.proto
touch "$out/datagw/__init__.py" "$out/datagw/v1/__init__.py" "$out/datagw/py.typed"
