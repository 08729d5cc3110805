#!/usr/bin/env bash
# Installs the pinned protoc plugins that generate the Go stubs into .tools/go/bin.
# Idempotent: when both plugins already report the pinned versions it only checks.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
go=${GO:-go}
bin=$here/.tools/go/bin

# protoc-gen-go ships in the protobuf runtime module: taking its version from
# clients/go/go.mod keeps the generated code and the runtime it compiles
# against on one release.
protoc_gen_go=$("$go" -C "$here/clients/go" list -m -f '{{.Version}}' google.golang.org/protobuf)
protoc_gen_go_grpc=v1.6.2

have() {  # have BINARY EXPECTED: the installed plugin prints the expected version
  [ -x "$bin/$1" ] && [ "$("$bin/$1" --version 2>/dev/null)" = "$2" ]
}

if have protoc-gen-go "protoc-gen-go $protoc_gen_go" \
  && have protoc-gen-go-grpc "protoc-gen-go-grpc ${protoc_gen_go_grpc#v}"; then
  exit 0
fi
# `go install path@version` builds exactly that version, whatever module we are in.
GOBIN=$bin "$go" install "google.golang.org/protobuf/cmd/protoc-gen-go@$protoc_gen_go"
GOBIN=$bin "$go" install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$protoc_gen_go_grpc"
have protoc-gen-go "protoc-gen-go $protoc_gen_go" \
  && have protoc-gen-go-grpc "protoc-gen-go-grpc ${protoc_gen_go_grpc#v}" \
  || { echo "$bin: the plugins installed do not report the pinned versions" >&2; exit 1; }
