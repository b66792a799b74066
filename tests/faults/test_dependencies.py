"""Redis and the database going away under a running service, with real servers and workers."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from moderation.app import create_app
from moderation.storage.db import Database
from moderation.storage.models import Comment
from tests.faults.conftest import counts, queue_for, real_texts, store_comments, wait_until
from tests.faults.proxy import CuttableProxy
from tests.test_api_comments import VALID, post


def _stored_ids(db) -> set[str]:
    with db.session() as session:
        return set(session.scalars(select(Comment.id)))


def test_redis_stopped_while_posting_never_loses_an_accepted_comment(
    db, fault_settings, own_redis, site_key, spawn_worker
):
    settings = fault_settings.with_overrides(redis_url=own_redis.url)
    app = create_app(settings=settings)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {site_key}"}
    accepted, unavailable = [], 0
    texts = real_texts(90)
    for index, text in enumerate(texts):
        if index == 30:
            own_redis.stop()
        if index == 60:
            own_redis.start()
        response = post(client, auth, {**VALID, "content": text, "author": {"name": f"Bạn đọc {index}"}})
        if response.status_code == 202:
            accepted.append(response.get_json()["id"])
        else:
            assert response.status_code == 503 and response.get_json()["error"]["code"], response.get_json()
            unavailable += 1
    assert set(accepted) <= _stored_ids(db), "a 202 was given for a comment that is not stored"
    with db.session() as session:
        never_enqueued = session.scalar(
            select(func.count()).select_from(Comment).where(Comment.enqueued_at.is_(None))
        )
    assert never_enqueued >= 1, "posting went on while Redis was down, recording the missing enqueue"
    spawn_worker(settings)
    wait_until(lambda: "pending" not in counts(db), 60, "the sweep to enqueue and score every comment")
    assert sum(counts(db).values()) == len(accepted)
    app.extensions["moderation"].close()


@pytest.fixture
def cuttable_database(db, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a network database is needed to cut its connection; SQLite is a local file")
    url = make_url(database_url)
    proxy = CuttableProxy((url.host or "127.0.0.1", url.port or 5432)).start()
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.cut()


def test_the_database_down_is_a_503_with_nothing_half_written(
    db, fault_settings, site_key, cuttable_database
):
    proxy, proxied_url = cuttable_database
    app = create_app(settings=fault_settings.with_overrides(database_url=proxied_url))
    client = app.test_client()
    auth = {"Authorization": f"Bearer {site_key}"}
    assert post(client, auth, VALID).status_code == 202
    proxy.cut()
    response = post(client, auth, {**VALID, "content": "Bình luận khi cơ sở dữ liệu mất kết nối."})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "storage_unavailable"
    assert response.headers["Retry-After"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and not ready.get_json()["checks"]["database"]["ok"]
    proxy.restore()
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Comment)) == 1
    assert post(client, auth, {**VALID, "content": "Đã kết nối lại."}).status_code == 202
    app.extensions["moderation"].close()


def test_workers_retry_when_the_database_goes_away_and_lose_no_job(
    db, fault_settings, cuttable_database, spawn_worker
):
    proxy, proxied_url = cuttable_database
    settings = fault_settings.with_overrides(database_url=proxied_url)
    ids = store_comments(db, "db-cut", real_texts(3000))
    queue = queue_for(settings)
    for start in range(0, len(ids), 500):
        queue.push(ids[start : start + 500])
    worker = spawn_worker(settings)
    wait_until(lambda: counts(db).get("pending", 3000) < 3000, 60, "scoring to start", 0.01)
    proxy.cut()
    pending_while_cut = counts(Database(db.url)).get("pending", 0)
    assert pending_while_cut > 0, "the cut did not land mid-run"
    time.sleep(3)
    proxy.restore()
    wait_until(
        lambda: "pending" not in counts(db), 120, "every comment to be decided once the database is back"
    )
    assert sum(counts(db).values()) == 3000
    log = worker.log_path.read_text(errors="replace")
    assert "database unavailable" in log, "the worker never met the outage it should have retried through"
