"""Submit -> queue -> burst worker -> scored -> published or held -> listed, on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import update

from moderation import services
from moderation.queueing import PENDING_KEY
from moderation.storage.models import Comment, utcnow
from tests.test_api_comments import VALID, post
from workers import jobs

CLEAN = "Bài viết rất hay, cảm ơn tác giả đã phản ánh kịp thời tình hình ở địa phương."
ABUSIVE = "Đ.m thằng ngu, óc chó như mày thì biết cái gì mà nói, cút mẹ mày đi"
SPAM = "Vay tiền nhanh lãi suất thấp, liên hệ zalo 0912 345 678 để được hỗ trợ ngay"


def submit(client, auth, content=CLEAN, **extra) -> str:
    response = post(client, auth, {**VALID, "content": content, **extra})
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def stored(db, comment_id) -> Comment:
    with db.session() as session:
        return session.get(Comment, comment_id)


def test_a_clean_comment_is_published_with_its_analysis(client, auth, db, run_workers, analyzer):
    comment_id = submit(client, auth)
    assert run_workers() >= 1
    comment = stored(db, comment_id)
    assert comment.status == "published"
    assert comment.decided_by == "model"
    assert comment.model_version == analyzer.model_version
    assert comment.analysis["model_version"] == analyzer.model_version
    assert comment.analysis["decision"] == "publish"
    assert comment.analysis["id"] == comment_id
    assert set(comment.analysis["attributes"]) == {"toxicity", "hate_speech", "spam", "constructive"}
    assert comment.created_at <= comment.scored_at == comment.decided_at
    body = client.get(f"/api/v1/comments/{comment_id}", headers=auth).get_json()
    assert body["status"] == "published"
    assert body["decision"]["by"] == "model"
    assert body["analysis"]["attributes"]["toxicity"]["flagged"] is False


def test_an_abusive_comment_is_held_and_not_listed(client, auth, db, run_workers):
    comment_id = submit(client, auth, ABUSIVE)
    run_workers()
    comment = stored(db, comment_id)
    assert comment.status in ("review", "rejected")
    assert comment.decision_reasons, "the reasons name what held it"
    assert set(comment.decision_reasons) & {"toxicity", "hate_speech"}
    listed = client.get("/api/v1/articles/a-100/comments?site=demo").get_json()
    assert listed["total"] == 0


def test_a_scam_with_a_phone_number_is_held_for_spam_rules(client, auth, db, run_workers):
    comment_id = submit(client, auth, SPAM)
    run_workers()
    comment = stored(db, comment_id)
    assert comment.status in ("review", "rejected")
    assert "phone" in comment.decision_reasons


def test_the_site_policy_in_the_database_drives_the_decision(client, auth, db, run_workers):
    with db.session() as session:
        site = services.site_named(session, "demo")
        services.update_site_policy(session, site.id, {"premoderate": True}, actor="test")
    comment_id = submit(client, auth)
    run_workers()
    comment = stored(db, comment_id)
    assert comment.status == "review"
    assert comment.decision_reasons == ["premoderation"]

    with db.session() as session:
        services.update_site_policy(
            session, site.id, {"attributes": {"toxicity": {"review": 0.0, "reject": 0.0}}}, actor="test"
        )
    comment_id = submit(client, auth)
    run_workers()
    assert stored(db, comment_id).status == "rejected"


def test_a_burst_is_scored_in_a_few_batch_jobs(client, auth, db, run_workers, redis_conn):
    ids = [submit(client, auth, f"{CLEAN} Ý kiến số {i}.") for i in range(150)]
    jobs_run = run_workers()
    assert 1 <= jobs_run <= 8, f"{jobs_run} jobs for 150 comments: batching is not working"
    assert redis_conn.llen(PENDING_KEY) == 0
    with db.session() as session:
        statuses = {session.get(Comment, comment_id).status for comment_id in ids}
    assert "pending" not in statuses


def test_scoring_is_idempotent_and_never_overrides_a_moderator(client, auth, db, worker_context):
    first, second = submit(client, auth), submit(client, auth)
    with db.session() as session:
        session.execute(
            update(Comment).where(Comment.id == second).values(status="rejected", decided_by="moderator")
        )
    report = services.score_comments(db, worker_context.analyzer, [first, second])
    assert (report.scored, report.skipped) == (1, 1)
    scored_at = stored(db, first).scored_at
    again = services.score_comments(db, worker_context.analyzer, [first, second])
    assert (again.scored, again.skipped) == (0, 2)
    assert stored(db, first).scored_at == scored_at
    assert stored(db, second).status == "rejected"


class PoisonAnalyzer:
    """Wraps the real analyzer; any batch holding the word POISON raises."""

    def __init__(self, real):
        self.real = real
        self.model_version = real.model_version
        self.thresholds = real.thresholds

    def score(self, texts):
        if any("POISON" in text for text in texts):
            raise RuntimeError("boom")
        return self.real.score(texts)


def test_a_poison_comment_goes_to_review_and_the_rest_go_through(
    client, auth, db, run_workers, worker_context
):
    worker_context.analyzer = PoisonAnalyzer(worker_context.analyzer)
    good = [submit(client, auth) for _ in range(3)]
    poison = submit(client, auth, "POISON")
    run_workers()
    assert stored(db, poison).status == "review"
    assert stored(db, poison).decision_reasons == ["scoring_error"]
    assert {stored(db, comment_id).status for comment_id in good} == {"published"}


def test_the_sweep_enqueues_a_comment_that_redis_never_took(
    app, client, auth, db, run_workers, worker_context
):
    from moderation.queueing import ScoringQueue, connect

    resources = app.extensions["moderation"]
    working_queue = resources.queue
    resources.queue = ScoringQueue(connect("redis://127.0.0.1:1/0"))  # Redis down at submit time
    comment_id = submit(client, auth)
    resources.queue = working_queue
    assert stored(db, comment_id).enqueued_at is None
    assert run_workers() == 0
    result = jobs.sweep(worker_context)
    assert result["requeued"] == 1
    run_workers()
    comment = stored(db, comment_id)
    assert comment.status == "published"
    assert comment.enqueue_attempts == 1


def with_sweep_timings(context, *, grace: float, stale: float):
    context.settings = replace(context.settings, sweep_grace_seconds=grace, sweep_stale_seconds=stale)
    return context


def enqueued_ago(db, seconds: float) -> None:
    with db.session() as session:
        session.execute(update(Comment).values(enqueued_at=utcnow() - timedelta(seconds=seconds)))


def test_the_sweep_recovers_a_batch_that_left_the_queue_unsaved_once_its_grace_is_over(
    client, auth, db, run_workers, worker_context, redis_conn
):
    context = with_sweep_timings(worker_context, grace=10, stale=300)
    ids = [submit(client, auth) for _ in range(5)]
    # Popped without being kept in flight, and never saved: on no list any more, as when a web
    # process is killed between its commit and its push.
    assert sorted(context.queue.pop_batch()) == sorted(ids)
    context.queue.release()
    redis_conn.delete("rq:queue:moderation-test")
    assert run_workers() == 0
    assert jobs.sweep(context)["requeued"] == 0, "within the grace a push may still be on its way"
    enqueued_ago(db, 20)
    assert jobs.sweep(context)["requeued"] == 5, "found long before the stale limit"
    run_workers()
    for comment_id in ids:
        comment = stored(db, comment_id)
        assert comment.status == "published"
        assert comment.enqueue_attempts == 2


def test_the_sweep_leaves_alone_comments_that_wait_on_the_list_until_they_are_stale(
    client, auth, db, run_workers, worker_context, redis_conn
):
    context = with_sweep_timings(worker_context, grace=10, stale=300)
    ids = [submit(client, auth) for _ in range(3)]
    redis_conn.delete("rq:queue:moderation-test", "moderation:drainers")  # no drainer, ids listed
    enqueued_ago(db, 20)
    assert jobs.sweep(context)["requeued"] == 0
    assert redis_conn.llen(PENDING_KEY) == 3
    enqueued_ago(db, 3600)
    assert jobs.sweep(context)["requeued"] == 3, "a comment waiting too long is pushed again"
    run_workers()
    assert {stored(db, comment_id).status for comment_id in ids} == {"published"}


def test_the_sweep_restarts_draining_when_ids_wait_without_a_drainer(
    client, auth, db, run_workers, worker_context, redis_conn
):
    comment_id = submit(client, auth)
    redis_conn.delete(
        "rq:queue:moderation-test", "moderation:drainers"
    )  # job and claim lost, id still listed
    assert run_workers() == 0
    assert jobs.sweep(worker_context)["restarted_drainers"] == 1
    run_workers()
    assert stored(db, comment_id).status == "published"


def test_published_comments_are_threaded_oldest_first_and_paginated(client, auth, db, run_workers):
    first = submit(client, auth, "Ý kiến thứ nhất rất xác đáng.")
    second = submit(client, auth, "Ý kiến thứ hai, tôi đồng ý với bài viết.")
    run_workers()
    reply = submit(client, auth, "Tôi đồng ý với bạn.", parent_id=first)
    held_parent = submit(client, auth, ABUSIVE)
    run_workers()
    hidden_reply = submit(client, auth, "Trả lời một bình luận bị giữ lại.", parent_id=held_parent)
    run_workers()
    assert stored(db, hidden_reply).status == "published"
    body = client.get("/api/v1/articles/a-100/comments?site=demo").get_json()
    assert body["total"] == 2
    assert [item["id"] for item in body["items"]] == [first, second]
    assert [r["id"] for r in body["items"][0]["replies"]] == [reply]
    assert body["items"][0]["replies"][0]["parent_id"] == first
    text = str(body)
    assert "a@example.vn" not in text and "203.0.113.7" not in text
    page2 = client.get("/api/v1/articles/a-100/comments?site=demo&page=2&per_page=1").get_json()
    assert (page2["total"], page2["page"], page2["per_page"]) == (2, 2, 1)
    assert [item["id"] for item in page2["items"]] == [second]
    with_key = client.get("/api/v1/articles/a-100/comments", headers=auth).get_json()
    assert with_key["total"] == 2


@pytest.mark.parametrize("query", ["", "?site=nowhere", "?site=demo&page=0", "?site=demo&per_page=1000"])
def test_listing_errors(client, query):
    response = client.get(f"/api/v1/articles/a-100/comments{query}")
    assert response.status_code in (401, 404, 422)
    assert "error" in response.get_json()


def test_analyze_scores_without_storing(client, auth, db):
    response = client.post(
        "/api/v1/analyze",
        json={"comments": [{"id": "x1", "content": CLEAN}, {"content": SPAM}]},
        headers=auth,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert [r["id"] for r in results] == ["x1", None]
    assert results[0]["decision"] == "publish"
    assert "phone" in results[1]["reasons"]
    with db.session() as session:
        assert session.query(Comment).count() == 0
    assert client.post("/api/v1/analyze", json={"comments": []}, headers=auth).status_code == 422
    too_many = {"comments": [{"content": "a"}] * 1001}
    assert client.post("/api/v1/analyze", json=too_many, headers=auth).status_code == 422


def test_a_site_without_a_policy_row_is_scored_with_the_default_policy(client, auth, db, worker_context):
    """The batch's site settings come from an outer join: a missing policy row means the defaults."""
    from sqlalchemy import text

    comment_id = submit(client, auth)
    with db.session() as session:
        site = services.site_named(session, "demo")
        session.execute(text("DELETE FROM site_policies WHERE site_id = :id"), {"id": site.id})
    report = services.score_comments(db, worker_context.analyzer, [comment_id])
    assert report.scored == 1 and not report.errors
    comment = stored(db, comment_id)
    assert comment.status == "published" and comment.analysis["model_version"]
