#!/usr/bin/env bash
# Regenerates the Python stubs from proto/ into the directory given (default:
# clients/python), and copies the shared gRPC service config into the package
# (package data that datagw.channel applies). The stale-stub test calls it
# with a temp dir and compares. Also written there: buf/validate/validate_pb2
# (the stubs import it for the buf.validate field rules; validate.proto comes
# from .tools/proto, see scripts/install_proto_deps.sh) and
# datagw/v1/descriptor_set.binpb, the API's descriptors with their comments
# (source info), which the gateway's server reflection serves. Only datagw/v1
# and buf/ are generated: the hand-written modules beside them
# (datagw/channel.py, datagw/errors.py) are left alone.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/clients/python}
py=${PYTHON:-$here/.venv/bin/python}
plugins=$(dirname "$py")
deps=$here/.tools/proto
[ -f "$deps/buf/validate/validate.proto" ] \
  || { echo "$deps/buf/validate/validate.proto missing: run scripts/install_proto_deps.sh" >&2; exit 1; }
rm -rf "$out/datagw/v1" "$out/buf"
mkdir -p "$out/datagw/v1"
cp "$here/clients/service_config.json" "$out/datagw/service_config.json"
cd "$here/proto"
"$py" -m grpc_tools.protoc -I . -I "$deps" \
  --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-mypy="$plugins/protoc-gen-mypy" --mypy_out="$out" \
  --plugin=protoc-gen-mypy_grpc="$plugins/protoc-gen-mypy_grpc" --mypy_grpc_out="$out" \
  --include_source_info --descriptor_set_out="$out/datagw/v1/descriptor_set.binpb" \
  datagw/v1/*.proto
"$py" -m grpc_tools.protoc -I "$deps" \
  --python_out="$out" --plugin=protoc-gen-mypy="$plugins/protoc-gen-mypy" --mypy_out="$out" \
  buf/validate/validate.proto
touch "$out/datagw/v1/__init__.py" \
  "$out/buf/__init__.py" "$out/buf/validate/__init__.py" "$out/buf/py.typed"
