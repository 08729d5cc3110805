#!/usr/bin/env bash
# Writes the Go client module (clients/go) at version v$(cat clients/VERSION)
# into dist/go/ as a module proxy: GOPROXY=file://$PWD/dist/go,<the usual proxy>
# then resolves `go get github.com/datagw/datagw/clients/go@vX.Y.Z` from it.
# The release itself is the tag clients/go/vX.Y.Z (RELEASING-go-java.md); the
# zip holds the same files, so its h1: hash (printed) is the one
# sum.golang.org will record for the tag. Idempotent: it rewrites the version.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
go=${GO:-go}
version=v$(tr -d '[:space:]' < "$here/clients/VERSION")
out=$here/dist/go
mkdir -p "$out"
# The version's time is its commit's, so two runs on one commit write the same files.
stamp=$(git -C "$here" log -1 --format=%cI -- clients/go 2>/dev/null || true)
stamp=${stamp:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
# -C: the tool is its own module (golang.org/x/mod stays out of the client's go.mod).
"$go" -C "$here/scripts/goproxy" run . \
  -dir "$here/clients/go" -version "$version" -time "$stamp" -out "$out"
