# syntax=docker/dockerfile:1
# The datagw image: the gateway and its generated Python client, talking to
# real PostgreSQL/Redis servers. No `embedded` extra: a production gateway
# never starts its own databases. Build: docker build -t datagw:0.1.0 .
# (docs/deploy.md).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: wheels for the gateway, the client stubs and every dependency ----
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY clients/python clients/python
COPY pyproject.toml README.md ./
COPY gateway gateway
# Naming ./clients/python makes pip use it for the gateway's datagw-client
# requirement instead of looking the name up in a registry.
RUN pip wheel --no-cache-dir --wheel-dir /wheels ./clients/python .

# ---- runtime ----
FROM ${PYTHON_IMAGE}
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
# Installed from the build stage's wheels only (--no-index), so the image has
# exactly what was built there; the wheels are bind-mounted, not copied in.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m venv /opt/datagw \
 && /opt/datagw/bin/pip install --no-cache-dir --no-index --find-links=/wheels datagw \
 && /opt/datagw/bin/pip uninstall --yes pip
# The shipped policies; the chart mounts its ConfigMap over this directory.
COPY policies /etc/datagw/policies
USER 10001:10001
WORKDIR /tmp
# gRPC (also grpc.health.v1) and Prometheus /metrics.
EXPOSE 50051 9464
# No HEALTHCHECK: Kubernetes ignores it. The chart probes grpc.health.v1 with
# the kubelet's native gRPC probe, or with an exec probe that runs a short
# Python health check inside this image (TLS port or loopback-only sidecar).
ENTRYPOINT ["datagw", "serve"]
