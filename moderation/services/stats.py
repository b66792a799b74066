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
    session: Session, site_ids: Sequence[int] | None, *, days: int = 30, now: datetime | None = None
) -> Statistics:
    now = now or utcnow()
    since = now - timedelta(days=days)
    today = now.astimezone(NEWSROOM_TZ).date()
    day_list = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    query = select(Comment.created_at, Comment.status, Comment.decided_by).where(Comment.created_at >= since)
    if site_ids is not None:
        query = query.where(Comment.site_id.in_(list(site_ids)))
    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    stats = Statistics(days=day_list, per_day={})
    waits: list[float] = []
    for created_at, status, decided_by in session.execute(query):
        per_day[created_at.astimezone(NEWSROOM_TZ).date()][status] += 1
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
