#!/usr/bin/env bash
# The Helm chart's part of `make dist`: dist/datagw-<chart version>.tgz.
#
# The chart's default policies are the repository's policies/, the one source:
# they are copied into deploy/helm/datagw/files/policies (gitignored, as the
# example chart's charts/ is) before packaging, so the package holds real
# files (helm warns about a symlink each time it loads the chart) and the
# in-tree chart renders too once this has run. Then `helm lint --strict` of
# the package (no warning passes) and `helm package`. Idempotent.
#
# HELM: the helm binary (default .tools/helm/bin/helm, scripts/install_helm.sh);
# DIST_DIR: where the package goes (default dist/).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
helm=${HELM:-$here/.tools/helm/bin/helm}
dist=${DIST_DIR:-$here/dist}
chart=$here/deploy/helm/datagw

# The chart's appVersion is the image tag it deploys: the gateway's version.
gateway_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/pyproject.toml" | head -n 1)
app_version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$chart/Chart.yaml")
if [ "$app_version" != "$gateway_version" ]; then
  echo "dist_chart: Chart.yaml appVersion $app_version is not pyproject.toml's version" \
       "$gateway_version; set appVersion to it" >&2
  exit 1
fi

rm -rf "$chart/files"
mkdir -p "$chart/files/policies"
cp "$here"/policies/*.yaml "$chart/files/policies/"

# helm's homes in a temp dir: no repositories or caches of the machine leak in.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HELM_CACHE_HOME=$work/cache HELM_CONFIG_HOME=$work/config HELM_DATA_HOME=$work/data

mkdir -p "$dist"
package=$("$helm" package "$chart" --destination "$dist" | sed -n 's/^Successfully packaged chart and saved it to: //p')
[ -f "$package" ] || { echo "dist_chart: helm package wrote no chart" >&2; exit 1; }
# Standalone needs values only an operator can give (TLS, an access policy);
# sidecar mode renders from the defaults alone.
"$helm" lint --strict "$package" --set mode=sidecar
echo "dist_chart: $package"
