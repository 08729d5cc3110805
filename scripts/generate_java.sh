#!/usr/bin/env bash
# Regenerates the Java stubs from proto/ into the source root given (default:
# clients/java/src/main/java); only io/datagw/v1 is replaced, hand-written code
# beside it is left alone. The stale-stub test calls it with a temp dir and
# compares. protoc and protoc-gen-grpc-java come from
# scripts/install_java_tools.sh, pinned by clients/java/pom.xml.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/clients/java/src/main/java}
tools=${JAVA_TOOLS:-$here/.tools/java}
[ -x "$tools/protoc" ] && [ -x "$tools/protoc-gen-grpc-java" ] \
  || { echo "no Java generators in $tools: run scripts/install_java_tools.sh" >&2; exit 1; }
rm -rf "$out/io/datagw/v1"
mkdir -p "$out"
cd "$here/proto"
"$tools/protoc" -I . -I "$tools/include" \
  --java_out="$out" \
  --plugin=protoc-gen-grpc-java="$tools/protoc-gen-grpc-java" --grpc-java_out="$out" \
  datagw/v1/*.proto
