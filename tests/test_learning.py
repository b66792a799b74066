"""The learning loop's storage and switching, on both databases: labels from decisions, promotion,
rollback, shadow scoring and the per-site model the workers use. (Training: test_retrain.py.)"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from moderation import services
from moderation.errors import Conflict, ModelArtifactError, ValidationError
from moderation.services import learning, review
from moderation.services.labels import labels_for_decision, labels_from_reason
from moderation.storage.models import AuditEntry, Comment, Label, ModelVersion, Report, ShadowScore, Site
from tests.learning_helpers import add_pending, install_copy, registry_for

CLEAN = "Bài viết rất hay, cảm ơn tác giả đã phản ánh kịp thời tình hình ở địa phương."
ABUSIVE = "Đ.m thằng ngu, óc chó như mày thì biết cái gì mà nói, cút mẹ mày đi"
SPAM = "Vay tiền nhanh lãi suất thấp, liên hệ zalo 0912 345 678 để được hỗ trợ ngay"


@pytest.fixture
def site(db):
    with db.session() as session:
        created, _ = services.create_site(session, "demo")
        return created


@pytest.fixture
def boss(db, site):
    with db.session() as session:
        moderator = services.create_moderator(session, "chief", "correct horse battery", "admin", ())
        return services.ModeratorIdentity(moderator.id, "chief", "admin", None)


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store"


def scored(db, analyzer, ids, registry=None):
    return services.score_comments(db, analyzer, ids, models=registry)


def comment(db, comment_id) -> Comment:
    with db.session() as session:
        return session.get(Comment, comment_id)


def labels_of(db, comment_id) -> dict[str, tuple[int, str]]:
    with db.session() as session:
        rows = session.scalars(select(Label).where(Label.comment_id == comment_id)).all()
        return {row.attribute: (row.value, row.source) for row in rows}


def test_reasons_name_the_attributes_they_are_about() -> None:
    assert labels_from_reason("Xúc phạm") == {"toxicity": 1, "hate_speech": 1}
    assert labels_from_reason("Thù ghét") == {"toxicity": 1, "hate_speech": 2}
    assert labels_from_reason("Spam/quảng cáo") == {"spam": 1}
    assert labels_from_reason("spam, xuc pham") == {"spam": 1, "toxicity": 1, "hate_speech": 1}
    for silent in ("Lạc đề", "Thông tin sai lệch", "Tác giả bị cấm", "", None):
        assert labels_from_reason(silent) == {}
    held = {"reasons": ["toxicity", "link"], "attributes": {"hate_speech": {"label": "offensive"}}}
    assert labels_for_decision(held, "approve", None) == ("approve", {"toxicity": 0, "spam": 0})
    assert labels_for_decision(held, "reject", None) == ("reject", {"toxicity": 1, "spam": 1})
    assert labels_for_decision(held, "reject", "Lạc đề") == ("reject", {})
    published = {"reasons": [], "attributes": {}}
    assert labels_for_decision(published, "reject", None, ["spam quá"]) == ("report", {"spam": 1})
    assert labels_for_decision(published, "approve", None, ["xúc phạm"]) == (
        "report",
        {"toxicity": 0, "hate_speech": 0},
    )


def test_decisions_are_kept_as_labels_with_the_scored_text_and_version(db, site, boss, analyzer):
    abusive, clean, spam = add_pending(db, site, [ABUSIVE, CLEAN, SPAM])
    scored(db, analyzer, [abusive, clean, spam])
    assert comment(db, abusive).status in ("review", "rejected")
    with db.session() as session:
        review.decide(session, boss, abusive, "reject", "Xúc phạm")
        review.decide(session, boss, spam, "reject", "Spam/quảng cáo")
    assert labels_of(db, abusive) == {"toxicity": (1, "reject"), "hate_speech": (1, "reject")}
    assert labels_of(db, spam) == {"spam": (1, "reject")}
    with db.session() as session:
        label = session.scalars(select(Label).where(Label.comment_id == abusive)).first()
        assert label.text == ABUSIVE
        assert label.model_version == analyzer.model_version
        assert label.moderator_id == boss.id
    # A reader's report on a published comment, upheld: labelled from the report's reason.
    assert comment(db, clean).status == "published"
    with db.session() as session:
        session.add(Report(comment_id=clean, site_id=site.id, reason="quảng cáo lừa đảo"))
    with db.session() as session:
        review.decide(session, boss, clean, "reject", None)
    assert labels_of(db, clean) == {"spam": (1, "report")}


def test_an_approval_labels_false_alarms_and_undo_removes_the_labels(db, site, boss, analyzer):
    (abusive,) = add_pending(db, site, [ABUSIVE])
    scored(db, analyzer, [abusive])
    flagged = {
        r for r in comment(db, abusive).analysis["reasons"] if r in ("toxicity", "hate_speech", "spam")
    }
    assert flagged
    with db.session() as session:
        review.decide(session, boss, abusive, "approve", None)
    assert labels_of(db, abusive) == {attribute: (0, "approve") for attribute in flagged}
    with db.session() as session:
        result = review.undo_last(session, boss)
    assert result.restored == [abusive]
    assert labels_of(db, abusive) == {}
    # Deciding again replaces, never duplicates.
    with db.session() as session:
        review.decide(session, boss, abusive, "reject", "Thù ghét")
    assert labels_of(db, abusive) == {"toxicity": (1, "reject"), "hate_speech": (2, "reject")}


def test_promotion_switches_the_sites_model_and_rollback_restores_it(db, site, store, analyzer):
    install_copy(store, "copy-a")
    registry = registry_for(store, analyzer)
    first = add_pending(db, site, [CLEAN])
    scored(db, analyzer, first, registry)
    assert comment(db, first[0]).model_version == analyzer.model_version
    with db.session() as session:
        row = session.get(Site, site.id)
        learning.promote(session, row, "copy-a", actor="test", versions=registry)
    second = add_pending(db, site, [CLEAN + " Hai."])
    scored(db, analyzer, second, registry)
    after = comment(db, second[0])
    assert after.model_version == "copy-a" and after.analysis["model_version"] == "copy-a"
    with db.session() as session:
        row = session.get(Site, site.id)
        assert learning.rollback(session, row, actor="test") == ("copy-a", None)
    third = add_pending(db, site, [CLEAN + " Ba."])
    scored(db, analyzer, third, registry)
    assert comment(db, third[0]).model_version == analyzer.model_version
    with db.session() as session:
        row = session.get(Site, site.id)
        with pytest.raises(Conflict):
            learning.rollback(session, row, actor="test")
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.site_id == site.id)).all()
    assert "promote_model" in actions and "rollback_model" in actions


def test_rollback_walks_back_one_promotion_at_a_time(db, site, store, analyzer):
    for name in ("copy-a", "copy-b"):
        install_copy(store, name)
    registry = registry_for(store, analyzer)
    with db.session() as session:
        row = session.get(Site, site.id)
        learning.promote(session, row, "copy-a", actor="test", versions=registry)
        learning.promote(session, row, "copy-b", actor="test", versions=registry)
        assert learning.rollback(session, row, actor="test") == ("copy-b", "copy-a")
        assert row.model_version == "copy-a"
        learning.promote(session, row, "copy-b", actor="test", versions=registry)
        assert learning.rollback(session, row, actor="test") == ("copy-b", "copy-a")
        assert learning.rollback(session, row, actor="test") == ("copy-a", None)


def test_refused_or_missing_versions_are_not_promoted(db, site, store, analyzer):
    install_copy(store, "copy-bad")
    registry = registry_for(store, analyzer)
    with db.session() as session:
        row = session.get(Site, site.id)
        learning.register_candidate(session, row, "copy-bad", analyzer.model_version, {"guard": {}}, False)
        with pytest.raises(ModelArtifactError):
            learning.promote(session, row, "not-installed", actor="test", versions=registry)
        with pytest.raises(ModelArtifactError):
            learning.promote(session, row, "../escape", actor="test", versions=registry)
        with pytest.raises(Conflict, match="guard refused"):
            learning.promote(session, row, "copy-bad", actor="test", versions=registry)
        learning.promote(session, row, "copy-bad", actor="admin", versions=registry, force=True)
        assert row.model_version == "copy-bad"
        assert session.get(ModelVersion, "copy-bad").status == "live"


def test_a_shadow_candidate_scores_beside_the_live_model_and_decides_nothing(db, site, boss, store, analyzer):
    install_copy(store, "copy-shadow")
    registry = registry_for(store, analyzer)
    with db.session() as session:
        row = session.get(Site, site.id)
        learning.set_shadow(session, row, "copy-shadow", actor="test", versions=registry)
    ids = add_pending(db, site, [CLEAN, ABUSIVE, SPAM])
    report = scored(db, analyzer, ids, registry)
    assert report.scored == 3
    with db.session() as session:
        shadows = {s.comment_id: s for s in session.scalars(select(ShadowScore))}
        for comment_id in ids:
            live = session.get(Comment, comment_id)
            assert live.model_version == analyzer.model_version
            # Same model files under another name: the shadow agrees with the live decision.
            assert shadows[comment_id].version == "copy-shadow"
            assert (
                shadows[comment_id].decision == live.analysis["decision"] == shadows[comment_id].live_decision
            )
        summary = learning.shadow_summary(session, site.id, "copy-shadow")
        assert (summary.scored, summary.disagreements) == (3, 0)
        # A disagreement shows up with the moderator's judgement.
        shadows[ids[0]].decision = "reject"
    with db.session() as session:
        summary = learning.shadow_summary(session, site.id, "copy-shadow")
        assert (summary.disagreements, summary.judged) == (1, 0)
        review.decide(session, boss, ids[0], "approve", None)
    with db.session() as session:
        summary = learning.shadow_summary(session, site.id, "copy-shadow")
        assert (summary.judged, summary.live_right, summary.shadow_right) == (1, 1, 0)
        assert [c.id for _, c in learning.shadow_disagreements(session, site.id, "copy-shadow")] == [ids[0]]
        row = session.get(Site, site.id)
        learning.set_shadow(session, row, None, actor="test", versions=registry)
    more = add_pending(db, site, [CLEAN + " Nữa."])
    scored(db, analyzer, more, registry)
    with db.session() as session:
        assert session.get(ShadowScore, (more[0], "copy-shadow")) is None


def test_learning_settings_are_validated(db, site):
    with db.session() as session:
        assert learning.learning_settings(session, site.id).schedule == "off"
        changed = learning.update_learning_settings(
            session, site.id, {"schedule": "weekly", "min_labels": 80}, actor="test"
        )
        assert (changed.schedule, changed.min_labels, changed.auto_promote) == ("weekly", 80, False)
    with db.session() as session:
        assert learning.learning_settings(session, site.id).min_labels == 80
        with pytest.raises(ValidationError) as error:
            learning.update_learning_settings(
                session, site.id, {"schedule": "hourly", "tolerance": 2, "nope": 1}, actor="test"
            )
    assert set(error.value.fields) == {"schedule", "tolerance", "nope"}
    with db.session() as session:
        assert learning.due_for_retraining(session) == [site.id]


def test_the_model_commands(db, site, store, runner, settings, analyzer, monkeypatch):
    from moderation.cli import main

    install_copy(settings.model_store_dir, "copy-cli")
    result = runner.invoke(main, ["model", "promote", "--site", "demo", "copy-cli"])
    assert result.exit_code == 0, result.output
    listed = json.loads(runner.invoke(main, ["model", "list", "--site", "demo"]).output)
    assert listed["live"] == "copy-cli"
    assert listed["deployments"][0]["version"] == "copy-cli"
    result = runner.invoke(main, ["model", "rollback", "--site", "demo"])
    assert result.exit_code == 0 and "rolled back from copy-cli" in result.output
    result = runner.invoke(main, ["model", "promote", "--site", "demo", "missing"])
    assert result.exit_code != 0 and "not installed" in result.output
    result = runner.invoke(main, ["model", "shadow", "--site", "demo"])
    assert result.exit_code != 0
    result = runner.invoke(main, ["model", "settings", "--site", "demo", "schedule=daily", "min_labels=20"])
    assert result.exit_code == 0 and json.loads(result.output)["schedule"] == "daily"
    result = runner.invoke(main, ["model", "settings", "--site", "demo", "schedule=often"])
    assert result.exit_code != 0 and "schedule" in result.output


def test_a_worker_under_load_switches_model_without_losing_or_rescoring_a_comment(
    db, site, worker_context, run_workers, redis_conn
):
    """A promotion lands while a burst worker drains a backlog: every comment is decided exactly once,
    by the old version before the switch and by the new one after it, with no restart."""
    import threading
    import time

    from rq import Queue
    from rq.registry import FinishedJobRegistry
    from sqlalchemy import func

    from moderation.queueing import PENDING_KEY

    install_copy(worker_context.settings.model_store_dir, "copy-hot")
    total = 1200
    ids = add_pending(db, site, [f"{CLEAN} Ý kiến số {i}." for i in range(total)])
    worker_context.queue.push(ids)
    promoted_after = []

    def promote_mid_way() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with db.session() as session:
                done = session.scalar(select(func.count()).where(Comment.status != "pending"))
                if done >= 100:
                    row = session.get(Site, site.id)
                    learning.promote(session, row, "copy-hot", actor="test", versions=worker_context.registry)
                    promoted_after.append(done)
                    return
            time.sleep(0.005)

    promoter = threading.Thread(target=promote_mid_way)
    promoter.start()
    run_workers()
    promoter.join()
    assert promoted_after and promoted_after[0] < total, "the promotion must land while the backlog drains"
    assert redis_conn.llen(PENDING_KEY) == 0
    with db.session() as session:
        rows = session.execute(select(Comment.status, Comment.model_version).where(Comment.id.in_(ids))).all()
    assert len(rows) == total and all(status != "pending" for status, _ in rows)
    versions = [version for _, version in rows]
    assert set(versions) == {worker_context.analyzer.model_version, "copy-hot"}
    assert versions.count(worker_context.analyzer.model_version) >= 100
    queue = Queue(worker_context.settings.queue_name, connection=worker_context.redis)
    results = [
        queue.fetch_job(job_id).return_value() for job_id in FinishedJobRegistry(queue=queue).get_job_ids()
    ]
    assert sum(r["comments"] for r in results) == total, "a comment was popped twice or never"
    assert sum(r["scored"] for r in results) == total


def test_scheduled_retraining_is_queued_once_per_due_site_and_runs_on_the_training_queue(
    db, site, worker_context
):
    from rq import Queue, SimpleWorker

    from workers import jobs

    assert jobs.schedule_retraining(worker_context) == [], "schedules are off by default"
    with db.session() as session:
        learning.update_learning_settings(session, site.id, {"schedule": "daily"}, actor="test")
    assert jobs.schedule_retraining(worker_context) == [site.id]
    assert jobs.schedule_retraining(worker_context) == [], "already queued"
    queue = Queue(worker_context.settings.training_queue, connection=worker_context.redis)
    assert queue.job_ids == [jobs.retrain_job_id(site.id)]
    assert Queue(worker_context.settings.queue_name, connection=worker_context.redis).count == 0
    SimpleWorker([queue], connection=worker_context.redis).work(burst=True, logging_level="WARNING")
    job = queue.fetch_job(jobs.retrain_job_id(site.id))
    # No labels yet: the job says so and nothing is trained or registered.
    assert "not enough labels" in job.return_value()["skipped"]
    with db.session() as session:
        assert learning.site_versions(session, site.id) == []


def test_retrain_command_explains_when_there_is_nothing_to_learn_from(db, site, runner):
    from moderation.cli import main

    result = runner.invoke(main, ["retrain", "--site", "demo", "--quick"])
    assert result.exit_code != 0
    assert "not enough labels to learn from: toxicity 0, hate_speech 0, spam 0" in result.output
    result = runner.invoke(main, ["retrain", "--site", "nowhere", "--quick"])
    assert result.exit_code != 0 and "no site named 'nowhere'" in result.output


def test_analyze_uses_the_model_promoted_for_the_site(db, client, auth, settings, analyzer):
    install_copy(settings.model_store_dir, "copy-api")

    def version() -> str:
        response = client.post("/api/v1/analyze", json={"comments": [{"content": CLEAN}]}, headers=auth)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["results"][0]["model_version"]

    assert version() == analyzer.model_version
    with db.session() as session:
        row = session.scalars(select(Site).where(Site.name == "demo")).one()
        learning.promote(
            session, row, "copy-api", actor="test", versions=registry_for(settings.model_store_dir)
        )
    assert version() == "copy-api"
    with db.session() as session:
        learning.rollback(
            session, session.scalars(select(Site).where(Site.name == "demo")).one(), actor="test"
        )
    assert version() == analyzer.model_version


def test_the_held_out_split_follows_the_text() -> None:
    texts = [f"Ý kiến số {i} về bài báo" for i in range(4000)]
    held = [learning.is_held_out(text, 0.25) for text in texts]
    assert 0.22 < sum(held) / len(held) < 0.28
    assert [learning.is_held_out(text, 0.25) for text in texts] == held, "stable"
    assert all(learning.is_held_out(t, 0.25) <= learning.is_held_out(t, 0.4) for t in texts), "nested"
