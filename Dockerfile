# syntax=docker/dockerfile:1
# Xuncha (巡查) agent image: slim, non-root, config at /etc/xuncha/xuncha.yml,
# state (SQLite) at /var/lib/xuncha, metrics on :9725.  TLS and basic auth: mount an
# exporter-toolkit web configuration and add --web.config.file=… to the command (README).

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY agent ./agent
COPY domain ./domain
COPY probes ./probes
COPY dashboards ./dashboards
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
# docker build --build-arg VERSION=… --build-arg REVISION=$(git rev-parse HEAD) --build-arg CREATED=$(date -u +%FT%TZ)
# or, without a Docker engine: make image (buildah; README, "Deploy")
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="xuncha" \
      org.opencontainers.image.description="巡查 Xuncha: Prometheus exporter watching government websites and new-media accounts" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/xuncha/xuncha" \
      org.opencontainers.image.documentation="https://github.com/xuncha/xuncha#readme" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm"
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# The default -c of every command: `docker run IMAGE check-config` checks the configuration in use.
ENV XUNCHA_CONFIG=/etc/xuncha/xuncha.yml
# glibc malloc: fewer arenas, large blocks returned to the system (agent/workers/supervisor.py MALLOC_ENV)
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072
# uid and gid 10001, as the Kubernetes manifests' runAsUser and fsGroup say (deploy/k8s/statefulset.yaml).
RUN groupadd --system --gid 10001 xuncha \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/xuncha xuncha \
 && mkdir -p /etc/xuncha /var/lib/xuncha && chown xuncha /var/lib/xuncha
# The wheels are bind-mounted, not copied: a COPY layer would keep their ~15 MB in the image
# even after an `rm` in the next layer.  --no-index: everything needed is in /wheels.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index /wheels/*.whl
COPY deploy/container/xuncha.yml /etc/xuncha/xuncha.yml
USER 10001
WORKDIR /var/lib/xuncha
VOLUME ["/var/lib/xuncha"]
EXPOSE 9725
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["xuncha", "healthcheck", "--url", "http://127.0.0.1:9725/healthz"]
ENTRYPOINT ["xuncha"]
CMD ["run", "-c", "/etc/xuncha/xuncha.yml"]
