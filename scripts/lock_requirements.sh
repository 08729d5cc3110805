#!/usr/bin/env bash
# Regenerates the image's hash-locked requirements (docs/deploy.md, "The image"):
#   deploy/docker/requirements.lock        the gateway's and the Python client's
#                                          runtime dependencies (not dev, not embedded)
#   deploy/docker/build-requirements.lock  what building their wheels needs
#                                          (both pyprojects' [build-system] requires)
# every version with the hashes of all its files on PyPI, so the Dockerfile's
# `pip install --require-hashes` refuses anything else. Run it after changing a
# dependency in pyproject.toml or clients/python/pyproject.toml (or to pick up a
# newer release of something left unpinned there); tests/deploy/test_deploy_files.py
# fails until the lock matches. Needs uv (the dev extra's, in .venv; else
# UV=/path/to/uv or uv on the PATH) and the network to PyPI.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
uv=${UV:-}
if [ -z "$uv" ]; then
  if [ -x "$here/.venv/bin/uv" ]; then uv=$here/.venv/bin/uv; else uv=uv; fi
fi
python=${PYTHON:-python3}
out=$here/deploy/docker
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The inputs, from the two pyprojects. datagw-client is left out: the image
# builds it from clients/python, it never comes from an index.
"$python" - "$here" "$work" <<'PY'
import pathlib
import sys
import tomllib

root, work = map(pathlib.Path, sys.argv[1:])
projects = [tomllib.loads((root / p).read_text("utf-8"))
            for p in ("pyproject.toml", "clients/python/pyproject.toml")]
runtime = [d for p in projects for d in p["project"]["dependencies"]
           if not d.startswith("datagw-client")]
build = [d for p in projects for d in p["build-system"]["requires"]]
(work / "requirements.in").write_text("\n".join(sorted(set(runtime))) + "\n")
(work / "build-requirements.in").write_text("\n".join(sorted(set(build))) + "\n")
PY

mkdir -p "$out"
for name in requirements build-requirements; do
  # The image is python:3.11 on Linux (amd64 or arm64): a universal resolution
  # for 3.11 carries the hashes of every platform's wheels.
  (cd "$work" && "$uv" pip compile "$name.in" --quiet --universal --python-version 3.11 \
    --generate-hashes --no-annotate --custom-compile-command scripts/lock_requirements.sh \
    --output-file "$out/$name.lock")
done
echo "locked: deploy/docker/requirements.lock, deploy/docker/build-requirements.lock"
