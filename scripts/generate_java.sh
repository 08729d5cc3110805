#!/usr/bin/env bash
# Regenerates the Java stubs from proto/ into the source root given (default:
# clients/java/src/main/java); only io/datagw/v1 is replaced, hand-written code
# beside it is left alone. The stale-stub test calls it with a temp dir and
# compares. protoc and protoc-gen-grpc-java come from
# scripts/install_java_tools.sh, pinned by clients/java/pom.xml; the imported
# buf/validate/validate.proto from scripts/install_proto_deps.sh (its classes,
# build.buf.validate, come with the pom's build.buf:protovalidate dependency).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/clients/java/src/main/java}
tools=${JAVA_TOOLS:-$here/.tools/java}
deps=$here/.tools/proto
[ -x "$tools/protoc" ] && [ -x "$tools/protoc-gen-grpc-java" ] \
  || { echo "no Java generators in $tools: run scripts/install_java_tools.sh" >&2; exit 1; }
[ -f "$deps/buf/validate/validate.proto" ] \
  || { echo "$deps/buf/validate/validate.proto missing: run scripts/install_proto_deps.sh" >&2; exit 1; }
rm -rf "$out/io/datagw/v1"
mkdir -p "$out"
cd "$here/proto"
"$tools/protoc" -I . -I "$deps" -I "$tools/include" \
  --java_out="$out" \
  --plugin=protoc-gen-grpc-java="$tools/protoc-gen-grpc-java" --grpc-java_out="$out" \
  datagw/v1/*.proto
