#!/usr/bin/env bash
# Packs the Node client (clients/node) into dist/datagw-client-<version>.tgz,
# the tarball `npm publish` would upload: ESM and CommonJS builds with their
# types, the README and the shared service config (see "files" in its
# package.json; prepack builds it and copies the config in). The version is
# clients/VERSION; the script refuses to pack when package.json says otherwise.
# Idempotent. Needs clients/node/node_modules (scripts/install_node_tools.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
pkg=$here/clients/node
dist=$here/dist
version=$(tr -d '[:space:]' < "$here/clients/VERSION")
declared=$(node -p 'require(process.argv[1]).version' "$pkg/package.json")
[ "$declared" = "$version" ] || {
  echo "clients/node/package.json has version $declared, clients/VERSION $version" >&2; exit 1; }
"$here/scripts/install_node_tools.sh"
mkdir -p "$dist"
rm -f "$dist"/datagw-client-*.tgz
(cd "$pkg" && npm pack --silent --pack-destination "$dist" >/dev/null)
ls "$dist/datagw-client-$version.tgz"
