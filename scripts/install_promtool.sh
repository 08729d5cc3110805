#!/usr/bin/env bash
# Installs the pinned promtool (Prometheus's rule checker) into
# .tools/promtool/bin, built from its Go module: the chart tests check the
# PrometheusRule's expressions with `promtool check rules` and its alerts
# with `promtool test rules`. About 6 minutes on two cores the first time.
# Idempotent: when the binary already reports the pinned version it only checks.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
go=${GO:-go}
bin=$here/.tools/promtool/bin
# Prometheus 3.16.0, whose Go module is versioned v0.316.0.
version=3.16.0
module=v0.316.0

have() {  # the installed promtool prints exactly the pinned version
  [ -x "$bin/promtool" ] && "$bin/promtool" --version 2>/dev/null | head -1 \
    | grep -qx "promtool, version $version.*"
}

if have; then
  exit 0
fi
mkdir -p "$bin"
# Built from outside any module so no go.mod's requirements can shift the
# versions; the version is stamped the way Prometheus's own build does it.
cd "$bin"
GOBIN=$bin GOFLAGS=-buildvcs=false GOTOOLCHAIN=local CGO_ENABLED=0 "$go" install -trimpath \
  -ldflags "-s -w -X github.com/prometheus/common/version.Version=$version" \
  "github.com/prometheus/prometheus/cmd/promtool@$module"
have || { echo "install_promtool.sh: $bin/promtool does not report $version" >&2; exit 1; }
