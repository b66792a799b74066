"""Personal data kept no longer than needed (Vietnam's Decree 13/2023 on personal data).

Readers' network addresses and user agents help fight abuse for a while; after the site's
retention period they are erased from comments and reports. Comments, names and decisions stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update

from moderation.storage.db import Database
from moderation.storage.models import Comment, Report, utcnow


@dataclass(frozen=True)
class RetentionReport:
    comments: int
    reports: int


def erase_old_personal_data(db: Database, days: int, *, now: datetime | None = None) -> RetentionReport:
    """Erase addresses and user agents older than ``days`` (0 keeps everything)."""
    if days <= 0:
        return RetentionReport(0, 0)
    cutoff = (now or utcnow()) - timedelta(days=days)
    with db.session() as session:
        comments = session.execute(
            update(Comment)
            .where(
                Comment.created_at < cutoff,
                or_(Comment.client_ip.is_not(None), Comment.user_agent.is_not(None)),
            )
            .values(client_ip=None, user_agent=None)
        ).rowcount
        reports = session.execute(
            update(Report)
            .where(Report.created_at < cutoff, Report.reporter_ip.is_not(None))
            .values(reporter_ip=None)
        ).rowcount
    return RetentionReport(comments=comments or 0, reports=reports or 0)
