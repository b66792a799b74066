#!/usr/bin/env bash
# Builds the image and runs its roles for real against this machine's PostgreSQL and Redis:
# migrate, create a site, start a web and a worker container, post a comment, wait for the worker's
# decision, and check the containers run as a non-root user, /readyz says ready, the image's
# HEALTHCHECK passes and both roles stop cleanly on SIGTERM.
#
#   bash docker/e2e.sh            (as root it installs docker.io and starts dockerd when needed)
#
# Exits 0 with a line starting "SKIP:" when no Docker engine can be had here (so CI can say so and
# go on); exits non-zero when the image was built and a check failed.
#
# Environment (all optional):
#   BASE_IMAGE        base of the build; default: a local Debian bookworm image made with debootstrap
#                     (Docker Hub is not reachable from every machine), cached as a tarball under
#                     E2E_CACHE_DIR so it is made once per machine
#   E2E_CACHE_DIR     default /var/cache/moderation-docker
#   E2E_PG            PostgreSQL server URL without a database, default postgresql://postgres@127.0.0.1:5432
#   E2E_REDIS_DB      Redis database number on 127.0.0.1:6379 used (and flushed), default 13
#   E2E_PORT          the web container's port on 127.0.0.1, default 5250
#   E2E_DEBIAN_MIRROR default http://deb.debian.org/debian
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE_DIR=${E2E_CACHE_DIR:-/var/cache/moderation-docker}
PG=${E2E_PG:-postgresql://postgres@127.0.0.1:5432}
REDIS_DB=${E2E_REDIS_DB:-13}
PORT=${E2E_PORT:-5250}
MIRROR=${E2E_DEBIAN_MIRROR:-http://deb.debian.org/debian}
IMAGE=moderation:e2e
RUN_ID=e2e-$$
DB_NAME="moderation_docker_${RUN_ID//-/_}"
LOCAL_BASE=moderation-base:bookworm
DOCKERD_LOG=/var/log/moderation-e2e-dockerd.log
BUILD_LOG=${TMPDIR:-/tmp}/moderation-e2e-build.log

STARTED_DOCKERD=""
CONTAINERS=()
COMPOSE=()
COMPOSE_FILE_TMP=""
COMPOSE_CMD=()
COMPOSE_DONE=""
DB_CREATED=""
TIMINGS=()

log() { echo "docker-e2e: $*" >&2; }
skip() { echo "SKIP: docker e2e: $*"; exit 0; }
die() { echo "FAIL: docker e2e: $*" >&2; exit 1; }

# step NAME COMMAND...: runs it, records how long it took.
step() {
    local name=$1 start end
    shift
    log "$name"
    start=$(date +%s.%N)
    "$@"
    end=$(date +%s.%N)
    TIMINGS+=("$(printf '%-52s %6.1f s' "$name" "$(awk "BEGIN {print $end - $start}")")")
}

cleanup() {
    local rc=$?
    if [ ${#CONTAINERS[@]} -gt 0 ]; then
        if [ $rc -ne 0 ]; then
            for c in "${CONTAINERS[@]}"; do
                echo "---- docker logs $c (last 40 lines)" >&2
                docker logs --tail 40 "$c" >&2 2>&1 || true
            done
        fi
        docker rm -f "${CONTAINERS[@]}" >/dev/null 2>&1 || true
    fi
    if [ -n "$COMPOSE_FILE_TMP" ]; then
        if [ $rc -ne 0 ]; then "${COMPOSE[@]}" logs --tail 40 >&2 2>&1 || true; fi
        "${COMPOSE[@]}" down -v >/dev/null 2>&1 || true
        rm -f "$COMPOSE_FILE_TMP"
    fi
    if [ -n "$DB_CREATED" ]; then
        psql "$PG/postgres" -q -c "DROP DATABASE IF EXISTS $DB_NAME" >/dev/null 2>&1 || true
        psql "$PG/postgres" -q -c "DROP DATABASE IF EXISTS ${DB_NAME}_compose" >/dev/null 2>&1 || true
        redis-cli -n "$REDIS_DB" flushdb >/dev/null 2>&1 || true
    fi
    if [ -n "$STARTED_DOCKERD" ]; then
        kill "$STARTED_DOCKERD" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$STARTED_DOCKERD" 2>/dev/null || break; sleep 0.2; done
    fi
    exit $rc
}
trap cleanup EXIT

# --- a Docker engine: the one running, or dockerd started here (root only) --------------------------
engine_ready() { docker info >/dev/null 2>&1; }

start_dockerd() {
    # No bridge and no iptables: a VM without netfilter cannot make them; every container here
    # runs with --network host, which needs neither.
    local driver
    for driver in overlay2 vfs; do
        dockerd --storage-driver="$driver" --iptables=false --bridge=none >>"$DOCKERD_LOG" 2>&1 &
        STARTED_DOCKERD=$!
        for _ in $(seq 100); do
            engine_ready && { log "dockerd started (storage driver $driver, pid $STARTED_DOCKERD)"; return 0; }
            kill -0 "$STARTED_DOCKERD" 2>/dev/null || break
            sleep 0.3
        done
        kill "$STARTED_DOCKERD" 2>/dev/null || true
        wait "$STARTED_DOCKERD" 2>/dev/null || true
        STARTED_DOCKERD=""
    done
    return 1
}

ensure_engine() {
    engine_ready && return 0
    [ "$(id -u)" = 0 ] || skip "no Docker engine answers and this user (not root) cannot start one"
    if ! command -v dockerd >/dev/null 2>&1; then
        log "installing Debian's docker.io for dockerd"
        apt-get install -y -q docker.io >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q docker.io >/dev/null 2>&1; } \
            || skip "no Docker engine and docker.io could not be installed with apt-get"
    fi
    command -v docker >/dev/null 2>&1 || skip "dockerd is installed but no docker client is"
    start_dockerd || skip "dockerd would not start here (last lines of $DOCKERD_LOG:
$(tail -5 "$DOCKERD_LOG" 2>/dev/null))"
}

# --- the base image -----------------------------------------------------------------------------------
make_base_tarball() {
    local tarball=$1 root
    command -v debootstrap >/dev/null 2>&1 || apt-get install -y -q debootstrap >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q debootstrap >/dev/null 2>&1; } \
        || die "no BASE_IMAGE given and debootstrap cannot be installed to make one"
    root=$(mktemp -d)
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" "$MIRROR" \
        >"$CACHE_DIR/debootstrap.log" 2>&1 || { rm -rf "$root"; die "debootstrap failed: see $CACHE_DIR/debootstrap.log"; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
}

ensure_base() {
    local tarball=$CACHE_DIR/debian-bookworm-python3.tar.gz ctx
    if docker image inspect "$LOCAL_BASE" >/dev/null 2>&1; then
        return 0
    fi
    mkdir -p "$CACHE_DIR"
    [ -f "$tarball" ] || step "debootstrap bookworm + python3 (once)" make_base_tarball "$tarball"
    docker import "$tarball" "$LOCAL_BASE-rootfs" >/dev/null
    # The machine's CA bundle, for pip in the build: some machines reach PyPI through a proxy that
    # presents its own certificate authority.
    ctx=$(mktemp -d)
    cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
    printf '%s\n' "FROM $LOCAL_BASE-rootfs" \
        'COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt' \
        'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' 'CMD ["/bin/bash"]' >"$ctx/Dockerfile"
    docker build -q -t "$LOCAL_BASE" "$ctx" >>"$BUILD_LOG" 2>&1 || die "cannot add the CA bundle to the base image (see $BUILD_LOG)"
    rm -rf "$ctx"
}

build_image() {
    # --network host: pip in the build reaches PyPI without a bridge network.
    docker build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$IMAGE" . >"$BUILD_LOG" 2>&1 \
        || { tail -40 "$BUILD_LOG" >&2; die "docker build failed (whole log: $BUILD_LOG)"; }
}

# --- the checks ---------------------------------------------------------------------------------------
app_env() {
    # MODERATION_HOST: with host networking, keep the web server off the machine's other interfaces.
    printf '%s\n' -e "DATABASE_URL=$PG/$DB_NAME" -e "REDIS_URL=redis://127.0.0.1:6379/$REDIS_DB" \
        -e "SECRET_KEY=docker-e2e-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
        -e MODERATION_HOST=127.0.0.1 -e "PORT=$PORT" -e MODERATION_WEB_PROCESSES=1
}

prepare_stores() {
    command -v psql >/dev/null 2>&1 || die "psql is needed to create the test database"
    psql "$PG/postgres" -q -c "CREATE DATABASE $DB_NAME" >/dev/null || die "cannot create $DB_NAME at $PG"
    DB_CREATED=1
    redis-cli -n "$REDIS_DB" flushdb >/dev/null || die "Redis at 127.0.0.1:6379 does not answer"
    ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || die "port $PORT is taken (set E2E_PORT)"
}

wait_ready() {
    local body=""
    for _ in $(seq 240); do  # about 2 minutes: compose's web and two workers took 40 s at load 11
        body=$(curl -s -m 2 -w '\n%{http_code}' "http://127.0.0.1:$PORT/readyz" || true)
        [ "$(tail -1 <<<"$body")" = 200 ] && [ "$(head -1 <<<"$body" | jq -r .status)" = ready ] && {
            log "/readyz: $(head -1 <<<"$body")"
            return 0
        }
        sleep 0.5
    done
    die "/readyz never answered 200 ready (last: $body)"
}

check_non_root() {
    local c uid user
    for c in "$@"; do
        user=$(docker inspect -f '{{.Config.User}}' "$c")
        # The uid of the process the container runs (PID 1), not of a new exec.
        uid=$(docker exec "$c" awk '/^Uid:/ {print $2}' /proc/1/status)
        [ -n "$uid" ] && [ "$uid" != 0 ] || die "$c runs as uid '$uid'"
        log "$(docker inspect -f '{{.Name}}' "$c" | tr -d /): image user '$user', PID 1 uid $uid"
    done
}

post_and_wait_decided() {
    local answer code id status=pending body
    answer=$(curl -s -m 10 -w '\n%{http_code}' -X POST "http://127.0.0.1:$PORT/api/v1/comments" \
        -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \
        -d '{"article_id": "docker-e2e", "author": {"name": "Lan"}, "content": "Bài viết rất hay, cảm ơn tác giả."}')
    code=$(tail -1 <<<"$answer")
    [ "$code" = 202 ] || die "POST /api/v1/comments answered $code: $(head -1 <<<"$answer")"
    id=$(head -1 <<<"$answer" | jq -r .id)
    for _ in $(seq 240); do
        body=$(curl -s -m 5 -H "Authorization: Bearer $API_KEY" "http://127.0.0.1:$PORT/api/v1/comments/$id")
        status=$(jq -r .status <<<"$body")
        [ "$status" != pending ] && break
        sleep 0.5
    done
    [ "$status" != pending ] && [ "$status" != null ] || die "comment $id not decided within 2 minutes: $body"
    [ "$(jq -r .decision.by <<<"$body")" = model ] || die "comment $id decided but not by the model: $body"
    log "comment $id: status $status, decision $(jq -c .decision <<<"$body")"
}

wait_healthy() {
    local c health=""
    for c in "$@"; do
        for _ in $(seq 120); do
            health=$(docker inspect -f '{{.State.Health.Status}}' "$c")
            [ "$health" = healthy ] && break
            sleep 0.5
        done
        [ "$health" = healthy ] || die "$c: the image's HEALTHCHECK says '$health': \
$(docker inspect -f '{{range .State.Health.Log}}{{.Output}}{{end}}' "$c" | tail -3)"
    done
}

worker_probe_fails() {
    # The worker's probe can fail: with its registration gone from Redis, it must turn unhealthy.
    local name health=""
    name=$(docker exec "$1" cat /tmp/moderation-worker-name)
    [ "$(redis-cli -n "$REDIS_DB" del "rq:worker:$name")" = 1 ] || die "worker $name was not registered in Redis"
    for _ in $(seq 40); do
        health=$(docker inspect -f '{{.State.Health.Status}}' "$1")
        [ "$health" = unhealthy ] && return 0
        sleep 0.5
    done
    die "$1: still '$health' with its worker unregistered from Redis"
}

stop_cleanly() {
    local c code
    docker stop -t 20 "$@" >/dev/null
    for c in "$@"; do
        code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
        [ "$code" = 0 ] || die "$c exited with $code on SIGTERM"
    done
}

# --- compose.yaml's roles (migrate, web, two workers) ----------------------------------------------------
find_compose() {
    if docker compose version >/dev/null 2>&1; then
        COMPOSE_CMD=(docker compose)
    elif command -v docker-compose >/dev/null 2>&1 \
        || { [ "$(id -u)" = 0 ] && { apt-get install -y -q docker-compose >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q docker-compose >/dev/null 2>&1; }; }; }; then
        COMPOSE_CMD=(docker-compose)
    else
        return 1
    fi
}

compose_file() {
    # compose.yaml + docker/compose.host.yaml, merged by compose itself, less the web's published
    # port: compose refuses port bindings with host networking and an override cannot remove them.
    COMPOSE_FILE_TMP=$(mktemp --suffix=.yaml)
    "${COMPOSE_CMD[@]}" -f compose.yaml -f docker/compose.host.yaml config \
        | python3 -c 'import sys, yaml
config = yaml.safe_load(sys.stdin)
config["services"]["web"].pop("ports", None)
for name in ("web", "worker"):  # the image'"'"'s HEALTHCHECK, probed every second instead of 30
    config["services"][name]["healthcheck"] = {"interval": "1s"}
yaml.safe_dump(config, sys.stdout)' >"$COMPOSE_FILE_TMP"
    COMPOSE=("${COMPOSE_CMD[@]}" -p "$RUN_ID" -f "$COMPOSE_FILE_TMP")
}

compose_up() {
    "${COMPOSE[@]}" up -d --no-deps web worker >/dev/null 2>&1 || "${COMPOSE[@]}" up -d --no-deps web worker
    wait_ready
}

compose_roles() {
    local web workers
    psql "$PG/postgres" -q -c "CREATE DATABASE ${DB_NAME}_compose" >/dev/null
    redis-cli -n "$REDIS_DB" flushdb >/dev/null
    export DATABASE_URL="$PG/${DB_NAME}_compose" REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB" PORT BASE_IMAGE
    SECRET_KEY="compose-e2e-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    export SECRET_KEY
    python3 -c 'import yaml' 2>/dev/null || die "python3 with PyYAML is needed to run compose's roles here"
    compose_file
    step "compose build migrate" "${COMPOSE[@]}" build -q migrate
    step "compose run --rm --no-deps migrate" "${COMPOSE[@]}" run --rm --no-deps migrate
    step "compose up -d --no-deps web worker, /readyz ready" compose_up
    web=$("${COMPOSE[@]}" ps -q web)
    mapfile -t workers < <("${COMPOSE[@]}" ps -q worker)
    [ "${#workers[@]}" = 2 ] || die "compose started ${#workers[@]} workers, compose.yaml asks for 2"
    API_KEY=$("${COMPOSE[@]}" exec -T web moderation site create compose-e2e | jq -r .api_key)
    [[ "$API_KEY" == msk_* ]] || die "compose exec web moderation site create printed no api_key"
    check_non_root "$web" "${workers[@]}"
    step "compose: comment posted and decided" post_and_wait_decided
    step "compose: HEALTHCHECK healthy (web, 2 workers)" wait_healthy "$web" "${workers[@]}"
    step "compose stop: all exit 0 on SIGTERM" compose_stop "$web" "${workers[@]}"
}

compose_stop() {
    local c code
    "${COMPOSE[@]}" stop >/dev/null 2>&1  # each within its stop_grace_period
    for c in "$@"; do
        code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
        [ "$code" = 0 ] || die "$(docker inspect -f '{{.Name}}' "$c" | tr -d /) exited with $code on SIGTERM"
    done
}

main() {
    local total_start env load
    total_start=$(date +%s.%N)
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    for tool in curl jq redis-cli; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is needed"
    done
    step "Docker engine (started here if none ran)" ensure_engine
    if [ -z "${BASE_IMAGE:-}" ]; then
        step "base image $LOCAL_BASE (with any debootstrap)" ensure_base
        BASE_IMAGE=$LOCAL_BASE
    fi
    step "docker build (BASE_IMAGE=$BASE_IMAGE)" build_image
    prepare_stores
    mapfile -t env < <(app_env)
    local run=(docker run --network host "${env[@]}")
    step "migrate (docker run ... migrate)" "${run[@]}" --rm "$IMAGE" migrate
    API_KEY=$("${run[@]}" --rm "$IMAGE" moderation site create docker-e2e | jq -r .api_key)
    [[ "$API_KEY" == msk_* ]] || die "site create printed no api_key"
    CONTAINERS+=("$RUN_ID-web" "$RUN_ID-worker")
    "${run[@]}" -d --name "$RUN_ID-web" --health-interval 1s "$IMAGE" web >/dev/null
    "${run[@]}" -d --name "$RUN_ID-worker" --health-interval 1s "$IMAGE" worker >/dev/null
    step "web + worker started, /readyz 200 ready" wait_ready
    check_non_root "$RUN_ID-web" "$RUN_ID-worker"
    step "comment posted and decided by the worker" post_and_wait_decided
    step "image HEALTHCHECK healthy (web and worker)" wait_healthy "$RUN_ID-web" "$RUN_ID-worker"
    step "worker HEALTHCHECK unhealthy once unregistered" worker_probe_fails "$RUN_ID-worker"
    step "docker stop: both exit 0 on SIGTERM" stop_cleanly "$RUN_ID-web" "$RUN_ID-worker"
    if find_compose; then
        compose_roles
        COMPOSE_DONE="with ${COMPOSE_CMD[*]} $("${COMPOSE_CMD[@]}" version --short 2>/dev/null || true)"
    else
        echo "SKIP: docker e2e: compose.yaml's roles: neither 'docker compose' nor docker-compose is available"
        COMPOSE_DONE="compose not available"
    fi
    echo "docker e2e passed ($(docker version -f '{{.Server.Version}}') engine, image $IMAGE" \
        "$(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}'), base $BASE_IMAGE;" \
        "$COMPOSE_DONE):"
    printf '  %s\n' "${TIMINGS[@]}"
    echo "  on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)," \
        "load average $load at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
    printf '  %-52s %6.1f s\n' total "$(awk "BEGIN {print $(date +%s.%N) - $total_start}")"
}

main "$@"
