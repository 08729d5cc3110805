#!/usr/bin/env bash
# Installs the Node client's pinned packages (protoc-gen-es, TypeScript, the
# Connect and protobuf-es runtimes) into clients/node/node_modules with `npm ci`.
# Idempotent: the stamp holds the hash of the package-lock.json it was installed
# from, so a no-op until the lock file changes (or node_modules is deleted).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
pkg=$here/clients/node
stamp=$pkg/node_modules/.installed
want=$(sha256sum "$pkg/package-lock.json" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
# npm ci installs exactly the lock file (and fails if package.json disagrees).
npm ci --prefix "$pkg" --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
