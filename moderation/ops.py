"""Operations endpoints: liveness, readiness (database, Redis, models) and Prometheus metrics."""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rq import Queue

from moderation import services
from moderation.child_state import processes_check
from moderation.errors import ModerationError
from moderation.extensions import Resources, resources
from moderation.metrics import ModerationCollector, build_registry

bp = Blueprint("ops", __name__)
_model_check_lock = threading.Lock()


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


def _check_models(res: Resources) -> dict[str, Any]:
    """Checksums are verified once per process: artifacts are read-only while it runs."""
    if res.model_check is None:
        with _model_check_lock:
            from moderation.scoring import verify_artifact

            manifest = verify_artifact(res.settings.model_dir)
            res.model_check = {"ok": True, "version": manifest.get("version")}
    return res.model_check


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    res = resources()
    checks: dict[str, dict[str, Any]] = {}
    try:
        res.db.ping()
        checks["database"] = {"ok": True}
    except ModerationError as exc:
        checks["database"] = {"ok": False, "error": exc.message}
    if res.redis is None:
        checks["redis"] = {"ok": False, "error": "REDIS_URL is not set"}
    else:
        try:
            res.redis.ping()
            checks["redis"] = {"ok": True}
        except Exception as exc:  # any client error means not ready
            checks["redis"] = {"ok": False, "error": f"Redis unavailable: {exc}"}
    try:
        checks["models"] = _check_models(res)
    except ModerationError as exc:
        checks["models"] = {"ok": False, "error": exc.message}
    if res.settings.supervisor_state is not None:
        # Under ``moderation up``: a worker, the web server or Redis that is restarting.
        checks["processes"] = processes_check(res.settings.supervisor_state)
    ready = all(check["ok"] for check in checks.values())
    return jsonify({"status": "ready" if ready else "not ready", "checks": checks}), 200 if ready else 503


def _queue_depths(res: Resources) -> dict[str, int]:
    if res.queue is None or res.redis is None:
        return {}
    return {
        "pending_comments": res.queue.depth(),
        "rq_jobs": Queue(res.settings.queue_name, connection=res.redis).count,
    }


@bp.get("/metrics")
def metrics() -> Response:
    res = resources()
    registry = res.metrics_registry
    if registry is None:
        collector = ModerationCollector(
            status_counts=lambda: services.comment_status_counts(res.db),
            queue_depths=lambda: _queue_depths(res),
            connection=lambda: res.redis,
        )
        registry = build_registry(collector)
        res.metrics_registry = registry
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
