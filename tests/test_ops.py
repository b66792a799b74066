"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

import json
import shutil

from tests.test_pipeline import submit


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_when_everything_is_up(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    checks = response.get_json()["checks"]
    assert checks["database"]["ok"] and checks["redis"]["ok"] and checks["models"]["ok"]
    assert checks["models"]["version"]


def test_readyz_says_which_dependency_is_down(app, client):
    from moderation.queueing import connect
    from moderation.storage.db import Database

    resources = app.extensions["moderation"]
    resources.redis = connect("redis://127.0.0.1:1/0")
    resources.db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready"
    assert (
        not body["checks"]["database"]["ok"] and "database unavailable" in body["checks"]["database"]["error"]
    )
    assert not body["checks"]["redis"]["ok"]
    assert body["checks"]["models"]["ok"]


def test_readyz_reports_a_broken_model_artifact(app, client, tmp_path):
    from moderation.settings import DEFAULT_MODEL_DIR

    broken = tmp_path / "models"
    shutil.copytree(DEFAULT_MODEL_DIR, broken)
    version = (broken / "CURRENT").read_text().strip()
    manifest = json.loads((broken / version / "manifest.json").read_text())
    victim = broken / version / manifest["files"][-1]["name"]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    resources = app.extensions["moderation"]
    resources.settings = resources.settings.with_overrides(model_dir=broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert victim.name in response.get_json()["checks"]["models"]["error"]


def test_metrics_count_comments_by_status_queue_depth_and_scoring_time(client, auth, run_workers):
    submit(client, auth)
    before = client.get("/metrics").get_data(as_text=True)
    assert 'moderation_comments{status="pending"} 1.0' in before
    assert 'moderation_queue_depth{queue="pending_comments"} 1.0' in before
    run_workers()
    after = client.get("/metrics")
    assert after.status_code == 200
    assert after.mimetype == "text/plain"
    text = after.get_data(as_text=True)
    assert 'moderation_comments{status="published"} 1.0' in text
    assert 'moderation_queue_depth{queue="pending_comments"} 0.0' in text
    assert "moderation_scoring_batch_seconds_count 1.0" in text
    assert "moderation_comments_scored_total 1.0" in text
    assert 'moderation_dependency_up{dependency="database"} 1.0' in text


def test_the_openapi_description_covers_every_api_route(app, client):
    import re

    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    described = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1") :])
            served |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == served
