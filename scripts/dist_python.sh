#!/usr/bin/env bash
# Builds the Python client (clients/python) into dist/: a wheel and an sdist of
# datagw-client at the version of clients/VERSION. Idempotent: replaces the
# artifacts of an earlier run. Builds from a copy, so the checkout gets no
# build/ or egg-info, through setuptools' PEP 517 hooks in this Python (no
# isolated build environment, so nothing is downloaded).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$here/.venv/bin/python}
dist=$here/dist
version=$(tr -d '[:space:]' < "$here/clients/VERSION")
declared=$("$py" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
  "$here/clients/python/pyproject.toml")
[ "$declared" = "$version" ] || {
  echo "clients/python/pyproject.toml has version $declared, clients/VERSION $version" >&2; exit 1; }
cmp -s "$here/clients/service_config.json" "$here/clients/python/datagw/service_config.json" || {
  echo "clients/python/datagw/service_config.json is stale: run make generate" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -rL "$here/clients/python" "$work/src"
find "$work/src" \( -name __pycache__ -o -name '*.egg-info' -o -name build \) -prune -exec rm -rf {} +
mkdir -p "$dist" "$work/out"
# One process per hook: setuptools keeps state between two calls in one process.
for hook in build_wheel build_sdist; do
  (cd "$work/src" && "$py" -c "import sys; from setuptools import build_meta; build_meta.$hook(sys.argv[1])" \
    "$work/out" > "$work/$hook.log" 2>&1) || { cat "$work/$hook.log" >&2; exit 1; }
done
rm -f "$dist"/datagw_client-*.whl "$dist"/datagw_client-*.tar.gz
cp "$work/out"/datagw_client-"$version"-*.whl "$work/out"/datagw_client-"$version".tar.gz "$dist/"
ls "$dist"/datagw_client-"$version"*
