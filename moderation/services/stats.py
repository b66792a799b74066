"""Statistics for the newsroom: outcomes per day, automation share, overturns, waiting time.

Overturns measure the model on the site's own traffic: a held comment that a moderator approves
is a false alarm for every attribute that held it; one a moderator rejects confirms them.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.scoring.types import DECISION_ATTRIBUTES
from moderation.storage.models import AuditEntry, Comment, utcnow

NEWSROOM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OUTCOMES = ("published", "review", "rejected", "pending")


@dataclass
class AttributeOverturns:
    reviewed: int = 0
    overturned: int = 0

    @property
    def rate(self) -> float | None:
        return self.overturned / self.reviewed if self.reviewed else None


@dataclass
class Statistics:
    days: list[date]
    per_day: dict[date, dict[str, int]]
    decided: int = 0
    decided_by_model: int = 0
    overturns: dict[str, AttributeOverturns] = field(default_factory=dict)
    missed: int = 0
    median_wait_seconds: float | None = None
    waits_measured: int = 0

    @property
    def automatic_share(self) -> float | None:
        return self.decided_by_model / self.decided if self.decided else None


def compute(
    session: Session,
    site_ids: Sequence[int] | None,
    *,
    days: int = 30,
    now: datetime | None = None,
    zone: ZoneInfo = NEWSROOM_TZ,
) -> Statistics:
    """Outcomes per day, the days being those of ``zone`` (the site's time zone)."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    today = now.astimezone(zone).date()
    day_list = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    query = select(Comment.created_at, Comment.status, Comment.decided_by).where(Comment.created_at >= since)
    if site_ids is not None:
        query = query.where(Comment.site_id.in_(list(site_ids)))
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    stats = Statistics(days=day_list, per_day={})
    waits: list[float] = []
    for created_at, status, decided_by in session.execute(query):
        per_day[created_at.astimezone(zone).date()][status] += 1
        if status != "pending":
            stats.decided += 1
            stats.decided_by_model += decided_by == "model"
    stats.per_day = {day: {outcome: per_day[day][outcome] for outcome in OUTCOMES} for day in day_list}

    audit = select(AuditEntry.action, AuditEntry.details).where(
        AuditEntry.at >= since, AuditEntry.action.in_(("approve", "reject"))
    )
    if site_ids is not None:
        audit = audit.where(AuditEntry.site_id.in_(list(site_ids)))
    stats.overturns = {attribute: AttributeOverturns() for attribute in DECISION_ATTRIBUTES}
    for action, details in session.execute(audit):
        details = details or {}
        if details.get("prev_decided_by") != "model":
            continue
        if details.get("from") == "review":
            for attribute in details.get("model_reasons") or []:
                if attribute in stats.overturns:
                    stats.overturns[attribute].reviewed += 1
                    stats.overturns[attribute].overturned += action == "approve"
        elif details.get("from") == "published" and action == "reject":
            stats.missed += 1

    held = select(Comment.scored_at, Comment.decided_at).where(
        Comment.decided_by == "moderator", Comment.decided_at >= since, Comment.scored_at.is_not(None)
    )
    if site_ids is not None:
        held = held.where(Comment.site_id.in_(list(site_ids)))
    for scored_at, decided_at in session.execute(held):
        if decided_at and scored_at and decided_at >= scored_at:
            waits.append((decided_at - scored_at).total_seconds())
    if waits:
        stats.median_wait_seconds = statistics.median(waits)
        stats.waits_measured = len(waits)
    return stats


# --- Drift: is the model still deciding this site's comments the way it did? ---------------------

#: Weeks shown on the statistics page (ISO weeks in the newsroom's timezone, the current one last).
DRIFT_WEEKS = 12
#: The latest week is compared with the mean of up to this many weeks before it (those with data).
DRIFT_BASELINE_WEEKS = 4
#: A warning needs the figure to move by at least this much in absolute terms (10 percentage points)...
DRIFT_MIN_ABSOLUTE = 0.10
#: ...and by at least this share of the baseline (50 %), so a small rate doubling alone is not enough
#: and a large rate wobbling by 10 points is not either.
DRIFT_MIN_RELATIVE = 0.50
#: Fewer comments scored in the latest week than this: shares are too noisy to warn about.
DRIFT_MIN_COMMENTS = 20
#: Fewer moderator decisions on model decisions in the latest week than this: no overturn warning.
DRIFT_MIN_DECISIONS = 10
HELD_DECISIONS = ("review", "reject")


@dataclass
class WeekDrift:
    """One ISO week of model decisions and of moderators' verdicts on them."""

    start: date
    scored: int = 0
    held: dict[str, int] = field(default_factory=lambda: {a: 0 for a in DECISION_ATTRIBUTES})
    decisions: int = 0
    overturned: int = 0

    @property
    def label(self) -> str:
        year, week, _day = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    def held_share(self, attribute: str) -> float | None:
        return self.held[attribute] / self.scored if self.scored else None

    @property
    def overturn_rate(self) -> float | None:
        return self.overturned / self.decisions if self.decisions else None


@dataclass(frozen=True)
class DriftWarning:
    """The latest week's ``metric`` (``held`` for an attribute, or ``overturn``) left its baseline."""

    metric: str
    attribute: str | None
    week: str
    value: float
    baseline: float

    @property
    def rising(self) -> bool:
        return self.value > self.baseline


@dataclass
class Drift:
    weeks: list[WeekDrift]
    warnings: list[DriftWarning]


def _week_start(at: datetime) -> date:
    day = at.astimezone(NEWSROOM_TZ).date()
    return day - timedelta(days=day.weekday())


def sharp_move(value: float, baseline: float) -> bool:
    change = abs(value - baseline)
    if change < DRIFT_MIN_ABSOLUTE:
        return False
    return baseline == 0 or change / baseline >= DRIFT_MIN_RELATIVE


def _warnings(weeks: list[WeekDrift]) -> list[DriftWarning]:
    latest, earlier = weeks[-1], weeks[:-1]
    found: list[DriftWarning] = []
    if latest.scored >= DRIFT_MIN_COMMENTS:
        for attribute in DECISION_ATTRIBUTES:
            past = [s for w in earlier if (s := w.held_share(attribute)) is not None][-DRIFT_BASELINE_WEEKS:]
            value = latest.held_share(attribute)
            if past and value is not None and sharp_move(value, statistics.fmean(past)):
                found.append(DriftWarning("held", attribute, latest.label, value, statistics.fmean(past)))
    if latest.decisions >= DRIFT_MIN_DECISIONS and latest.overturn_rate is not None:
        past = [r for w in earlier if (r := w.overturn_rate) is not None][-DRIFT_BASELINE_WEEKS:]
        if past and sharp_move(latest.overturn_rate, statistics.fmean(past)):
            found.append(
                DriftWarning("overturn", None, latest.label, latest.overturn_rate, statistics.fmean(past))
            )
    return found


def drift(session: Session, site_ids: Sequence[int] | None, *, now: datetime | None = None) -> Drift:
    """Per week: comments the model scored, the share it held per attribute, and how often moderators
    overturned its decisions. A sharp change means the site's comments (or the model) changed."""
    now = now or utcnow()
    current = _week_start(now)
    starts = [current - timedelta(weeks=n) for n in range(DRIFT_WEEKS - 1, -1, -1)]
    weeks = {start: WeekDrift(start=start) for start in starts}
    since = datetime.combine(starts[0], datetime.min.time(), tzinfo=NEWSROOM_TZ)
    scored = select(
        Comment.scored_at, Comment.analysis["decision"].as_string(), Comment.analysis["reasons"]
    ).where(Comment.scored_at >= since, Comment.analysis.is_not(None))
    if site_ids is not None:
        scored = scored.where(Comment.site_id.in_(list(site_ids)))
    for scored_at, decision, reasons in session.execute(scored.execution_options(yield_per=2000)):
        week = weeks.get(_week_start(scored_at))
        if week is None:
            continue
        week.scored += 1
        if decision in HELD_DECISIONS:
            for attribute in set(reasons or ()) & set(DECISION_ATTRIBUTES):
                week.held[attribute] += 1
    audit = select(AuditEntry.at, AuditEntry.action, AuditEntry.details).where(
        AuditEntry.at >= since, AuditEntry.action.in_(("approve", "reject"))
    )
    if site_ids is not None:
        audit = audit.where(AuditEntry.site_id.in_(list(site_ids)))
    for at, action, details in session.execute(audit):
        details = details or {}
        week = weeks.get(_week_start(at))
        if week is None or details.get("prev_decided_by") != "model":
            continue
        week.decisions += 1
        before = details.get("from")
        week.overturned += (action == "approve" and before in ("review", "rejected")) or (
            action == "reject" and before == "published"
        )
    ordered = [weeks[start] for start in starts]
    return Drift(weeks=ordered, warnings=_warnings(ordered))
