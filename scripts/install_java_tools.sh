#!/usr/bin/env bash
# Installs the Java code generators from Maven Central into .tools/java/:
# protoc and the well-known .proto files at protobuf.version, and
# protoc-gen-grpc-java at grpc.version, both read from clients/java/pom.xml so
# the generated stubs always match the runtime they are compiled against.
# A no-op when those versions are already installed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
pom=$here/clients/java/pom.xml
dest=$here/.tools/java
prop() {
  local value
  value=$(sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$pom")
  [ -n "$value" ] || { echo "no $1 in $pom" >&2; exit 1; }
  echo "$value"
}
grpc=$(prop grpc.version)
protobuf=$(prop protobuf.version)
stamp="protobuf=$protobuf grpc=$grpc"
if [ "$(cat "$dest/versions" 2>/dev/null)" = "$stamp" ] \
  && [ -x "$dest/protoc" ] && [ -x "$dest/protoc-gen-grpc-java" ]; then
  exit 0
fi
case "$(uname -m)" in
  x86_64) classifier=linux-x86_64 ;;
  aarch64) classifier=linux-aarch_64 ;;
  *) echo "no protoc build for $(uname -m)" >&2; exit 1 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Through the project's pom so the dependency plugin's pinned version is used.
mvn_dep() { mvn -q -B -Dstyle.color=never -f "$pom" "dependency:$1" "${@:2}"; }
mvn_dep copy -Dartifact="com.google.protobuf:protoc:$protobuf:exe:$classifier" -DoutputDirectory="$tmp"
mvn_dep copy -Dartifact="io.grpc:protoc-gen-grpc-java:$grpc:exe:$classifier" -DoutputDirectory="$tmp"
# The standalone protoc has no include directory; the runtime jar carries the
# well-known types (timestamp, duration, ...) at the same version.
mvn_dep unpack -Dartifact="com.google.protobuf:protobuf-java:$protobuf" \
  -DoutputDirectory="$tmp/include" -Dmdep.unpack.includes='google/protobuf/*.proto'
rm -rf "$dest"
mkdir -p "$dest"
install -m 0755 "$tmp/protoc-$protobuf-$classifier.exe" "$dest/protoc"
install -m 0755 "$tmp/protoc-gen-grpc-java-$grpc-$classifier.exe" "$dest/protoc-gen-grpc-java"
cp -r "$tmp/include" "$dest/include"
echo "$stamp" > "$dest/versions"
