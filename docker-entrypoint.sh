#!/bin/sh
# Picks the role of the container: web, worker, migrate (run it once before the others), or a command.
set -eu
case "${1:-web}" in
    web)
        shift || true
        exec moderation web "$@"
        ;;
    worker)
        shift
        exec moderation worker "$@"
        ;;
    migrate)
        exec moderation db upgrade
        ;;
    *)
        exec "$@"
        ;;
esac
