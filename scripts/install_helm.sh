#!/usr/bin/env bash
# Installs the pinned helm CLI into .tools/helm/bin, built from its Go module
# (the Go module proxy is the only place helm can come from here; a release
# tarball download would need a network we do not have).
# Idempotent: when the binary already reports the pinned version it only checks.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
go=${GO:-go}
bin=$here/.tools/helm/bin
version=v3.19.5

have() {  # the installed helm prints exactly the pinned version
  [ -x "$bin/helm" ] && [ "$("$bin/helm" version --template '{{.Version}}' 2>/dev/null)" = "$version" ]
}

if have; then
  exit 0
fi
mkdir -p "$bin"
# The Kubernetes version helm assumes without --kube-version: the one of the
# client-go that helm v3.19.5 is built with (k8s.io/client-go v0.34.2).
kube_minor=34
# Built from outside any module so no go.mod's requirements can shift the
# versions. The ldflags are the ones helm's own Makefile sets: without them
# `helm version` prints only the minor series (and `have` could not check) and
# helm assumes Kubernetes 1.20, older than the charts' kubeVersion.
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version"
for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
  ldflags="$ldflags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$kube_minor"
done
cd "$bin"
GOBIN=$bin GOFLAGS=-buildvcs=false GOTOOLCHAIN=local CGO_ENABLED=0 "$go" install \
  -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$version"
have || { echo "install_helm.sh: $bin/helm does not report $version" >&2; exit 1; }
