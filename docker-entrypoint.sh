#!/bin/sh
# Picks the role of the container: web, worker, migrate (run it once before the others), or a command.
# `health` is the image's HEALTHCHECK: the web answers /healthz, a worker is registered in Redis.
set -eu
WORKER_NAME_FILE=/tmp/moderation-worker-name
case "${1:-web}" in
    web)
        shift || true
        exec moderation web "$@"
        ;;
    worker)
        shift
        # A name unique to this container (several share a hostname under host networking), kept
        # where the health check finds it.
        name="${MODERATION_WORKER_NAME:-$(hostname)-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')}"
        echo "$name" > "$WORKER_NAME_FILE"
        exec moderation worker --name "$name" "$@"
        ;;
    migrate)
        exec moderation db upgrade
        ;;
    health)
        if [ -f "$WORKER_NAME_FILE" ]; then
            exec python - "$(cat "$WORKER_NAME_FILE")" <<'PY'
import os, sys
from redis import Redis
from rq import Worker
redis = Redis.from_url(os.environ["REDIS_URL"], socket_timeout=2)
worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + sys.argv[1], connection=redis)
sys.exit(0 if worker is not None else f"worker {sys.argv[1]} is not registered in Redis")
PY
        fi
        exec python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=2)"
        ;;
    *)
        exec "$@"
        ;;
esac
