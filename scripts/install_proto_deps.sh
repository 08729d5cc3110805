#!/usr/bin/env bash
# Installs the .proto files that proto/ imports but does not own into
# .tools/proto/: buf/validate/validate.proto (the buf.validate field rules),
# taken from the build.buf:protovalidate jar at protovalidate.version in
# clients/java/pom.xml, the runtime the Java client compiles against. buf
# (buf.yaml lists .tools/proto as a second module) and protoc (-I) read it
# from there; it is never copied into the repository.
# A no-op when that version is already installed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
pom=$here/clients/java/pom.xml
dest=$here/.tools/proto
version=$(sed -n 's:.*<protovalidate.version>\(.*\)</protovalidate.version>.*:\1:p' "$pom")
[ -n "$version" ] || { echo "no protovalidate.version in $pom" >&2; exit 1; }
stamp="protovalidate=$version"
if [ "$(cat "$dest/versions" 2>/dev/null)" = "$stamp" ] \
  && [ -f "$dest/buf/validate/validate.proto" ]; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mvn -q -B -Dstyle.color=never -f "$pom" dependency:unpack \
  -Dartifact="build.buf:protovalidate:$version" -DoutputDirectory="$tmp" \
  -Dmdep.unpack.includes='buf/validate/validate.proto'
[ -f "$tmp/buf/validate/validate.proto" ] \
  || { echo "build.buf:protovalidate:$version has no buf/validate/validate.proto" >&2; exit 1; }
rm -rf "$dest"
mkdir -p "$dest/buf/validate"
cp "$tmp/buf/validate/validate.proto" "$dest/buf/validate/"
echo "$stamp" > "$dest/versions"
