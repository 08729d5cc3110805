# syntax=docker/dockerfile:1
# The datagw image: the gateway and its generated Python client, talking to
# real PostgreSQL/Redis servers. No `embedded` extra: a production gateway
# never starts its own databases. Build (docs/deploy.md, "The image"):
#   docker build -t datagw:0.1.0 \
#     --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" .

# A tag moves; the digest is the one image every build gets. To refresh it
# (a new patch release of Python or Debian), or to confirm it (it was taken
# from public pins of the tag, not re-checked against the registry):
# docs/deploy.md, "The image".
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

# ---- build: the venv, third-party packages as locked, then our two wheels ----
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
# Every third-party file is checked against the hashes in the locks
# (scripts/lock_requirements.sh writes them), wheels only: nothing is
# compiled, so no unlocked build dependency is fetched either.
COPY deploy/docker/build-requirements.lock deploy/docker/requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --only-binary=:all: -r build-requirements.lock \
 && python -m venv /opt/datagw \
 && /opt/datagw/bin/pip install --no-cache-dir --require-hashes --only-binary=:all: \
      -r requirements.lock
COPY clients/python clients/python
COPY pyproject.toml README.md ./
COPY gateway gateway
# The gateway and its client from this checkout, built with the locked
# setuptools and installed without their dependencies (all in the venv
# already); `pip check` fails the build when the lock misses one.
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels \
      ./clients/python . \
 && /opt/datagw/bin/pip install --no-cache-dir --no-deps --no-index /wheels/*.whl \
 && /opt/datagw/bin/pip check \
 && /opt/datagw/bin/pip uninstall --yes pip

# ---- runtime ----
FROM ${PYTHON_IMAGE}
ARG PYTHON_IMAGE
# pyproject.toml's version (tests/deploy checks they agree); REVISION (the
# git commit) and CREATED (RFC 3339) are the build's to give.
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
# OCI annotations. licenses: SPDX; NOASSERTION until the project declares a
# license (pyproject.toml's license, which tests/deploy holds this to).
LABEL org.opencontainers.image.title="datagw" \
      org.opencontainers.image.description="gRPC data gateway in front of sharded PostgreSQL, Redis and ClickHouse" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/datagw/datagw" \
      org.opencontainers.image.licenses="NOASSERTION" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/datagw/bin:$PATH \
    DATAGW_POLICIES_DIR=/etc/datagw/policies \
    DATAGW_SERVER__LISTEN=0.0.0.0:50051 \
    DATAGW_METRICS__LISTEN=0.0.0.0:9464
# A numeric user, so the kubelet can verify runAsNonRoot; the Helm chart runs
# the container as the same uid.
RUN groupadd --system --gid 10001 datagw \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin datagw
# The same base image at the same path, so the venv's interpreter links hold.
COPY --from=build /opt/datagw /opt/datagw
# The shipped policies; the chart mounts its ConfigMap over this directory.
COPY policies /etc/datagw/policies
USER 10001:10001
WORKDIR /tmp
# gRPC (also grpc.health.v1) and Prometheus /metrics.
EXPOSE 50051 9464
# For `docker run` and Compose; Kubernetes ignores it (the chart's probes run
# the same command, or the kubelet's gRPC probe). It dials
# DATAGW_SERVER__UNIX_SOCKET if set, else DATAGW_SERVER__LISTEN on loopback:
# with TLS on that port, set a unix socket or override the check
# (docs/deploy.md, "The image").
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["datagw", "health", "--timeout", "4"]
ENTRYPOINT ["datagw", "serve"]
