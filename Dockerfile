# authmcp's container image. Any Debian-based image with python3 (3.11+), venv and pip can be the base:
#   docker build -t authmcp .            podman build --build-arg BASE=my-registry/python:3.12 -t authmcp .
# Run it with a mounted configuration (see docs/deployment.md):
#   docker run -p 8000:8000 -v ./authmcp.toml:/config/authmcp.toml:ro -e AUTHMCP_CONFIG=/config/authmcp.toml \
#     -v authmcp-data:/data --read-only authmcp
ARG BASE=python:3.12-slim

# ---- wheels: authmcp and every dependency built or fetched as wheels (compilers, if any are needed, stay here)
FROM ${BASE} AS wheels
# a private index or a CA bundle for pip, when the build needs one (podman/docker build --build-arg ...)
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_CERT
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY mcp_server ./mcp_server
COPY toolkits ./toolkits
RUN python3 -m venv /opt/build \
    && /opt/build/bin/pip wheel --wheel-dir /wheels '.[postgres,metrics,otel]'

# ---- runtime: a virtual environment installed from those wheels only, no compiler, no source tree
FROM ${BASE} AS runtime
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY --from=wheels /wheels /tmp/wheels
RUN python3 -m venv /opt/authmcp \
    && /opt/authmcp/bin/pip install --no-index --find-links /tmp/wheels 'authmcp[postgres,metrics,otel]' \
    && rm -rf /tmp/wheels \
    && (getent group authmcp || groupadd --system --gid 10001 authmcp) \
    && (getent passwd authmcp || useradd --system --uid 10001 --gid authmcp --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin authmcp) \
    && mkdir -p /data \
    && chown 10001:10001 /data
# /data: the database (SQLite) and the key file unless PostgreSQL and AUTHMCP_ENCRYPTION_KEYS are configured.
# AUTHMCP_CONFIG names the mounted configuration file; AUTHMCP_* variables override it.
ENV PATH=/opt/authmcp/bin:$PATH \
    AUTHMCP_DATA_DIR=/data \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["authmcp", "serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8000"]
