"""Drift on both databases: weekly held shares and overturn rates from constructed comments and audit
entries, the warning rule, and the statistics page showing (or not) the warning."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from moderation.services import stats
from moderation.storage.models import AuditEntry, Comment
from tests.e2e.helpers import client_sign_in
from tests.e2e.seed import add_comment, make_site

#: A Wednesday noon in Hà Nội: the current ISO week started on Monday 23/11/2026.
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
MONDAY = datetime(2026, 11, 23, tzinfo=UTC) - timedelta(hours=7)  # 00:00 in Hà Nội, as UTC


def week_time(weeks_ago: int, hours: float = 30) -> datetime:
    return MONDAY - timedelta(weeks=weeks_ago) + timedelta(hours=hours)


class Builder:
    """Scored comments and moderators' audit entries, inserted directly (fast, exact times)."""

    def __init__(self, db, site) -> None:
        self.db, self.site = db, site
        template = add_comment(db, site, "mẫu", created=week_time(20))
        with db.session() as session:
            row = session.get(Comment, template)
            self.article_id, self.author_id = row.article_id, row.author_id

    def comments(self, at: datetime, count: int, decision: str = "publish", reasons=()) -> None:
        with self.db.session() as session:
            for i in range(count):
                session.add(
                    Comment(
                        site_id=self.site.id,
                        article_id=self.article_id,
                        author_id=self.author_id,
                        content=f"{decision} {i}",
                        status={"publish": "published", "review": "review", "reject": "rejected"}[decision],
                        decided_by="model",
                        analysis={"decision": decision, "reasons": list(reasons), "attributes": {}},
                        created_at=at,
                        scored_at=at + timedelta(seconds=i),
                        decided_at=at,
                    )
                )

    def decisions(self, at: datetime, action: str, before: str, count: int, by: str = "model") -> None:
        with self.db.session() as session:
            for _ in range(count):
                session.add(
                    AuditEntry(
                        at=at,
                        actor="moderator:linh",
                        action=action,
                        site_id=self.site.id,
                        details={"from": before, "prev_decided_by": by},
                    )
                )

    def usual_week(self, at: datetime) -> None:
        """20 comments: 4 held for toxicity, 1 rejected for spam; 10 decisions, 1 overturned."""
        self.comments(at, 15)
        self.comments(at, 4, "review", ["toxicity"])
        self.comments(at, 1, "reject", ["spam", "link"])
        self.decisions(at, "reject", "review", 9)
        self.decisions(at, "approve", "review", 1)


@pytest.fixture
def build(db, site) -> Builder:
    return Builder(db, site)


def test_weekly_figures_per_iso_week_in_the_newsroom_timezone(db, site, build):
    for weeks_ago in (4, 3, 2, 1):
        build.usual_week(week_time(weeks_ago))
    # Sunday 23:30 in Hà Nội is last week's.
    build.comments(MONDAY - timedelta(minutes=30), 1, "review", ["hate_speech", "toxicity"])
    # Monday 00:30 in Hà Nội is this week, though it is still Sunday in UTC.
    build.comments(MONDAY + timedelta(minutes=30), 2, "review", ["hate_speech"])
    build.comments(week_time(0), 8)
    build.comments(week_time(0), 1, "review", ["premoderation"])
    build.comments(week_time(12), 50, "review", ["toxicity"])  # older than the 12 weeks shown
    other = make_site(db, "other")[0]
    Builder(db, other).comments(week_time(0), 30, "review", ["spam"])
    build.decisions(week_time(0), "approve", "review", 2)
    build.decisions(week_time(0), "approve", "rejected", 1)
    build.decisions(week_time(0), "reject", "published", 1)
    build.decisions(week_time(0), "reject", "review", 3)
    build.decisions(week_time(0), "approve", "published", 1)  # agrees with the model
    build.decisions(week_time(0), "approve", "review", 5, by="moderator")  # not the model's decision

    with db.session() as session:
        result = stats.drift(session, [site.id], now=NOW)
    assert len(result.weeks) == 12
    assert [w.label for w in result.weeks[-3:]] == ["2026-W46", "2026-W47", "2026-W48"]
    assert result.weeks[-1].start.isoformat() == "2026-11-23"
    last, latest = result.weeks[-2], result.weeks[-1]
    assert (last.scored, last.held) == (21, {"toxicity": 5, "hate_speech": 1, "spam": 1})
    assert (latest.scored, latest.held) == (11, {"toxicity": 0, "hate_speech": 2, "spam": 0})
    assert latest.held_share("hate_speech") == pytest.approx(2 / 11)
    assert (latest.decisions, latest.overturned) == (8, 4)
    assert latest.overturn_rate == 0.5
    assert (last.decisions, last.overturned) == (10, 1)
    assert sum(w.scored for w in result.weeks) == 4 * 20 + 1 + 11, "nothing older, nothing of the other site"
    assert result.weeks[0].scored == 0 and result.weeks[0].held_share("spam") is None
    assert result.warnings == [], "11 comments and 8 decisions are too few to warn about"
    with db.session() as session:
        both = stats.drift(session, None, now=NOW)
    assert both.weeks[-1].scored == 41 and both.weeks[-1].held["spam"] == 30


def test_a_week_that_jumps_warns_and_a_stable_one_does_not(db, site, build):
    for weeks_ago in (5, 4, 3, 2, 1):
        build.usual_week(week_time(weeks_ago))
    build.comments(week_time(0), 14)
    build.comments(week_time(0), 5, "review", ["toxicity"])  # 25% against 20%: stable
    build.comments(week_time(0), 1, "reject", ["spam"])
    build.decisions(week_time(0), "reject", "review", 9)
    build.decisions(week_time(0), "approve", "review", 2)  # 18% against 10%: only 8 points
    with db.session() as session:
        assert stats.drift(session, [site.id], now=NOW).warnings == []

    build.comments(week_time(0, hours=50), 10, "review", ["toxicity"])  # 15 of 30 held: 50% against 20%
    build.decisions(week_time(0, hours=50), "approve", "review", 9)  # 11 of 20 overturned: 55%
    with db.session() as session:
        result = stats.drift(session, [site.id], now=NOW)
    held = stats.DriftWarning("held", "toxicity", "2026-W48", 0.5, pytest.approx(0.2))
    overturn = stats.DriftWarning("overturn", None, "2026-W48", 0.55, pytest.approx(0.1))
    assert result.warnings == [held, overturn]
    assert result.warnings[0].rising


@pytest.mark.parametrize(
    ("value", "baseline", "sharp"),
    [
        (0.25, 0.20, False),
        (0.35, 0.20, True),
        (0.62, 0.50, False),
        (0.76, 0.50, True),
        (0.10, 0.0, True),
        (0.05, 0.0, False),
        (0.05, 0.20, True),
        (0.12, 0.20, False),
    ],
)
def test_the_warning_rule_needs_ten_points_and_half_the_baseline(value, baseline, sharp):
    assert stats.sharp_move(value, baseline) is sharp


def test_the_statistics_page_shows_the_weeks_and_the_warning(client, db, site, chief, build):
    now = stats.utcnow()
    local = now.astimezone(stats.NEWSROOM_TZ)
    monday = datetime.combine(local.date() - timedelta(days=local.weekday()), time.min, stats.NEWSROOM_TZ)
    for weeks_ago in (4, 3, 2, 1):
        build.usual_week(monday - timedelta(weeks=weeks_ago, hours=-30))
    client_sign_in(client, "chief")
    page = client.get(f"/dashboard/admin/stats?site={site.id}").get_data(as_text=True)
    assert "Độ lệch: quyết định của mô hình theo từng tuần" in page
    year, week, _ = local.isocalendar()
    assert f'<th scope="row">{year}-W{week:02d}' in page
    assert "drift-warning" not in page
    # The weeks end today here: the jump goes in the current week.
    build.comments(now, 10)
    build.comments(now, 20, "review", ["spam"])
    page = client.get(f"/dashboard/admin/stats?site={site.id}").get_data(as_text=True)
    assert page.count('class="message error drift-warning"') == 2, "spam up, toxicity down"
    assert (
        f"Tuần {year}-W{week:02d}: mô hình giữ lại 67% bình luận vì Spam, so với trung bình 5% các tuần trước"
        in page
    )
