"""Moderators' use cases behind the dashboard, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from moderation import services
from moderation.errors import Conflict, PermissionDenied, ValidationError
from moderation.services import admin, review, stats
from moderation.storage.models import AuditEntry, Author, Comment, Report, utcnow
from moderation.storage.queue_queries import QueueFilter
from moderation.text import fold

PASSWORD = "correct horse battery"


@pytest.fixture
def site(db):
    with db.session() as session:
        created, _ = services.create_site(session, "demo")
        return created


def identity(db, username, role="moderator", sites=()):
    with db.session() as session:
        moderator = services.create_moderator(session, username, PASSWORD, role, sites)
        site_ids = tuple(s.id for s in moderator.sites) or None
        return services.ModeratorIdentity(moderator.id, username, role, site_ids)


@pytest.fixture
def mod(db, site):
    return identity(db, "linh")


@pytest.fixture
def boss(db, site):
    return identity(db, "chief", role="admin")


def add_comment(
    db,
    site,
    content,
    *,
    status="review",
    reasons=("toxicity",),
    scores=None,
    author="Lan",
    article="a1",
    created=None,
    parent_id=None,
):
    scores = scores or {"toxicity": 0.8, "hate_speech": 0.1, "spam": 0.05}
    with db.session() as session:
        comment = services.submit_comment(
            session,
            site,
            services.CommentSubmission(
                article_id=article, content=content, author_name=author, parent_id=parent_id
            ),
        )
        if status != "pending":
            comment.status = status
            comment.decided_by = "model"
            comment.decision_reasons = list(reasons)
            comment.analysis = {"decision": "review", "reasons": list(reasons)}
            comment.scored_at = comment.decided_at = utcnow()
            comment.score_toxicity = scores["toxicity"]
            comment.score_hate_speech = scores["hate_speech"]
            comment.score_spam = scores["spam"]
            comment.score_max = max(scores.values())
        if created is not None:
            comment.created_at = created
        return comment.id


def page(db, moderator, **filters):
    with db.session() as session:
        result = review.queue_page(session, moderator, QueueFilter(**filters), page=1, per_page=100)
        return result, [c.id for c in result.items]


def test_tabs_count_each_status_and_open_reports(db, site, mod):
    add_comment(db, site, "một")
    add_comment(db, site, "hai", status="pending")
    published = add_comment(db, site, "ba", status="published", reasons=())
    add_comment(db, site, "bốn", status="rejected")
    with db.session() as session:
        session.add(Report(comment_id=published, site_id=site.id, reason="xúc phạm"))
    result, ids = page(db, mod, tab="reported")
    assert ids == [published]
    assert result.counts == {"review": 1, "reported": 1, "pending": 1, "published": 1, "rejected": 1}
    assert result.reports == {published: 1}


def test_search_is_accent_insensitive(db, site, mod):
    wanted = add_comment(db, site, "Tôi KHÔNG đồng ý với ý kiến này")
    add_comment(db, site, "Một bình luận khác")
    for query in ("khong dong y", "không đồng ý", "KHONG"):
        assert page(db, mod, text=query)[1] == [wanted], query
    assert fold("Đường") == "duong"
    assert page(db, mod, text="100%")[1] == [], "LIKE wildcards in the query are literal"


def test_filters_and_sorting(db, site, mod):
    now = utcnow()
    low = add_comment(
        db, site, "thấp", scores={"toxicity": 0.55, "hate_speech": 0.1, "spam": 0.0}, created=now
    )
    high = add_comment(
        db,
        site,
        "cao",
        scores={"toxicity": 0.95, "hate_speech": 0.2, "spam": 0.1},
        created=now - timedelta(hours=1),
    )
    spam = add_comment(
        db,
        site,
        "quảng cáo",
        reasons=("spam", "phone"),
        scores={"toxicity": 0.1, "hate_speech": 0.0, "spam": 0.9},
        author="Shop",
        article="a2",
        created=now - timedelta(hours=2),
    )
    assert page(db, mod)[1] == [spam, high, low], "oldest first by default"
    assert page(db, mod, order="newest")[1] == [low, high, spam]
    assert page(db, mod, order="score")[1] == [high, spam, low]
    assert page(db, mod, order="score", score_attribute="spam")[1][0] == spam
    assert page(db, mod, reason="phone")[1] == [spam]
    assert page(db, mod, reason="toxicity")[1] == [high, low]
    assert page(db, mod, score_attribute="toxicity", min_score=0.5, max_score=0.9)[1] == [low]
    assert page(db, mod, article="a2")[1] == [spam]
    assert page(db, mod, author="shop")[1] == [spam]
    assert page(db, mod, since=now - timedelta(minutes=90))[1] == [high, low]
    with pytest.raises(ValidationError):
        page(db, mod, tab="everything")


def test_cards_carry_author_history_and_parent(db, site, mod):
    parent = add_comment(db, site, "gốc", status="published", reasons=())
    add_comment(db, site, "bị từ chối", status="rejected")
    reply = add_comment(db, site, "trả lời", parent_id=parent)
    result, ids = page(db, mod)
    assert ids == [reply]
    card = result.items[0]
    assert card.parent.content == "gốc"
    history = result.histories[card.author_id]
    assert (history.total, history.published, history.rejected, history.review) == (3, 1, 1, 1)


def test_bulk_decisions_report_what_someone_else_decided_first(db, site, mod):
    ids = [add_comment(db, site, f"bình luận {i}") for i in range(3)]
    other = identity(db, "minh")
    with db.session() as session:
        review.decide(session, other, ids[1], "approve", None)
    with db.session() as session:
        result = review.decide_many(session, mod, ids, "reject", "spam")
    assert result.decided == [ids[0], ids[2]]
    assert list(result.conflicts) == [ids[1]]
    with db.session() as session:
        assert [session.get(Comment, i).status for i in ids] == ["rejected", "published", "rejected"]


def test_undo_restores_the_last_action_then_the_one_before(db, site, mod):
    first, second, third = (add_comment(db, site, f"c{i}") for i in range(3))
    with db.session() as session:
        review.decide(session, mod, first, "approve", None)
    with db.session() as session:
        review.decide_many(session, mod, [second, third], "reject", "spam")
    with db.session() as session:
        undone = review.undo_last(session, mod)
    assert undone.action == "reject" and sorted(undone.restored) == sorted([second, third])
    with db.session() as session:
        for comment_id in (second, third):
            comment = session.get(Comment, comment_id)
            assert (comment.status, comment.decided_by, comment.decision_reasons) == (
                "review",
                "model",
                ["toxicity"],
            )
    with db.session() as session:
        assert review.undo_last(session, mod).restored == [first]
        assert session.get(Comment, first).status == "review"
    with db.session() as session:
        assert review.undo_last(session, mod).action is None, "nothing left to undo"


def test_undo_does_not_overwrite_a_later_decision_by_someone_else(db, site, mod):
    comment_id = add_comment(db, site, "c")
    with db.session() as session:
        review.decide(session, mod, comment_id, "approve", None)
    with db.session() as session:
        session.add(Report(comment_id=comment_id, site_id=site.id))
    other = identity(db, "minh")
    with db.session() as session:
        review.decide(session, other, comment_id, "reject", "reported and confirmed")
    with db.session() as session:
        result = review.undo_last(session, mod)
    assert result.conflicts == [comment_id]
    with db.session() as session:
        assert session.get(Comment, comment_id).status == "rejected"


def test_a_decided_comment_is_a_conflict_unless_reported_again(db, site, mod):
    comment_id = add_comment(db, site, "c")
    with db.session() as session:
        review.decide(session, mod, comment_id, "approve", None)
    with db.session() as session, pytest.raises(Conflict):
        review.decide(session, mod, comment_id, "reject", None)
    with db.session() as session:
        session.add(Report(comment_id=comment_id, site_id=site.id, reason="spam"))
    with db.session() as session:
        assert review.decide(session, mod, comment_id, "reject", "spam").status == "rejected"
    with db.session() as session:
        report = session.scalars(select(Report)).one()
        assert report.resolved_at is not None and report.resolved_by == mod.id


def test_ban_rejects_waiting_comments_and_undo_restores_everything(db, site, mod):
    waiting = [
        add_comment(db, site, "chờ", author="Troll"),
        add_comment(db, site, "chờ chấm", author="Troll", status="pending"),
    ]
    published = add_comment(db, site, "cũ", author="Troll", status="published", reasons=())
    with db.session() as session:
        author_id = session.get(Comment, waiting[0]).author_id
        outcome = review.set_author_status(session, mod, author_id, "banned", "spam liên tục")
    assert sorted(outcome["rejected"]) == sorted(waiting)
    with db.session() as session:
        assert session.get(Author, author_id).status == "banned"
        assert [session.get(Comment, c).status for c in waiting] == ["rejected", "rejected"]
        assert session.get(Comment, published).status == "published"
    with db.session() as session:
        undone = review.undo_last(session, mod)
    assert undone.action == "ban_author"
    with db.session() as session:
        assert session.get(Author, author_id).status == "normal"
        assert [session.get(Comment, c).status for c in waiting] == ["review", "pending"]


def test_a_moderator_of_another_site_cannot_ban_or_see(db, site):
    with db.session() as session:
        services.create_site(session, "other")
    outsider = identity(db, "outsider", sites=["other"])
    comment_id = add_comment(db, site, "c")
    assert page(db, outsider)[1] == []
    with db.session() as session:
        author_id = session.get(Comment, comment_id).author_id
    with db.session() as session, pytest.raises(services_not_found()):
        review.set_author_status(session, outsider, author_id, "banned")


def services_not_found():
    from moderation.errors import NotFound

    return NotFound


def test_statistics_measure_overturns_automation_and_waiting(db, site, mod):
    held = [add_comment(db, site, f"h{i}", reasons=("toxicity",)) for i in range(4)]
    spam = add_comment(db, site, "s", reasons=("spam",))
    add_comment(db, site, "ok", status="published", reasons=())
    missed = add_comment(db, site, "lọt", status="published", reasons=())
    with db.session() as session:
        review.decide(session, mod, held[0], "approve", None)
        review.decide(session, mod, held[1], "reject", None)
        review.decide(session, mod, held[2], "reject", None)
        review.decide(session, mod, spam, "approve", None)
        review.decide(session, mod, missed, "reject", "xúc phạm")
    with db.session() as session:
        result = stats.compute(session, None, days=7)
    assert result.overturns["toxicity"].reviewed == 3 and result.overturns["toxicity"].overturned == 1
    assert result.overturns["spam"].rate == 1.0
    assert result.overturns["hate_speech"].rate is None
    assert result.missed == 1
    assert result.decided == 7 and result.decided_by_model == 2
    assert result.median_wait_seconds is not None and result.waits_measured == 5
    today = result.days[-1]
    assert sum(result.per_day[today].values()) == 7


def test_admin_pages_need_the_admin_role(db, site, mod, boss):
    with db.session() as session, pytest.raises(PermissionDenied):
        admin.read_policy(session, mod, site.id)
    with db.session() as session:
        policy = admin.change_policy(
            session, boss, site.id, {"attributes": {"spam": {"review": 0.3, "reject": 0.9}}}
        )
        assert policy.attributes["spam"].review == 0.3
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "policy_changed")).all()[-1]
        assert entry.actor == "moderator:chief"
    with db.session() as session, pytest.raises(ValidationError):
        admin.change_policy(session, boss, site.id, {"attributes": {"spam": {"review": 2}}})
    with db.session() as session, pytest.raises(ValidationError):
        admin.update_moderator(session, boss, boss.id, active=False)
    with db.session() as session:
        assert admin.update_moderator(session, boss, mod.id, active=False).active is False
        assert admin.audit_page(session, boss, page=1, per_page=10).total >= 2


def test_an_admin_of_one_site_manages_only_accounts_of_that_site(db, site, mod):
    from moderation.services import dashboard_support

    with db.session() as session:
        services.create_site(session, "other")
    local_admin = identity(db, "local-admin", role="admin", sites=["demo"])
    local_mod = identity(db, "local-mod", sites=["demo"])
    with db.session() as session:
        listed = {m.username for m in dashboard_support.moderators_with_sites(session, local_admin)}
        assert listed == {"local-admin", "local-mod"}, "global and other-site accounts are not listed"
        assert admin.update_moderator(session, local_admin, local_mod.id, active=False).active is False
    with db.session() as session, pytest.raises(PermissionDenied):
        admin.update_moderator(session, local_admin, mod.id, active=False)


def test_an_account_created_by_an_admin_names_the_admin_in_the_audit_log(db, site, boss):
    from moderation.services import dashboard_support

    with db.session() as session:
        dashboard_support.create_moderator_as(session, boss, "new-mod", PASSWORD, "moderator", [site.id])
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "moderator_created")).all()[-1]
        assert (entry.actor, entry.moderator_id) == ("moderator:chief", boss.id)
