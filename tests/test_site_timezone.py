"""A site's time zone: stored by the migration's column (default Vietnam), checked with zoneinfo."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation import services, timezones
from moderation.errors import ValidationError
from moderation.services.sites import set_timezone
from moderation.storage.models import AuditEntry, Site


def test_a_new_site_is_on_vietnam_time_and_a_zone_is_checked(db):
    with db.session() as session:
        site, _key = services.create_site(session, "bao-a")
        site_id = site.id
    with db.session() as session:
        site = session.get(Site, site_id)
        assert site.timezone == "Asia/Ho_Chi_Minh"
        assert set_timezone(session, site, " Asia/Bangkok ", actor="moderator:chief") == "Asia/Bangkok"
    for bad in ("", "Mars/Olympus", "../../etc/passwd", "x" * 65):
        with db.session() as session, pytest.raises(ValidationError) as raised:
            set_timezone(session, session.get(Site, site_id), bad, actor="moderator:chief")
        assert raised.value.fields == {"timezone": "unknown time zone"}
    with db.session() as session:
        assert session.get(Site, site_id).timezone == "Asia/Bangkok", "a refused name changes nothing"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "timezone_changed")).one()
        assert entry.details == {"from": "Asia/Ho_Chi_Minh", "to": "Asia/Bangkok"}


def test_zone_falls_back_to_the_default_for_a_missing_name():
    assert timezones.zone(None).key == "Asia/Ho_Chi_Minh"
    assert timezones.zone("Mars/Olympus").key == "Asia/Ho_Chi_Minh"
    assert timezones.zone("Europe/Paris").key == "Europe/Paris"


def test_statistics_count_days_in_the_sites_zone(db):
    from datetime import UTC, datetime, timedelta

    from moderation.services import stats
    from tests.e2e.seed import add_comment

    with db.session() as session:
        site, _key = services.create_site(session, "bao-b")
    late = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)  # 06:30 on the 25th in Vietnam
    add_comment(db, site, "đêm khuya", status="published", created=late)
    now = late + timedelta(hours=12)
    with db.session() as session:
        vietnam = stats.compute(session, [site.id], days=3, now=now)
        new_york = stats.compute(session, [site.id], days=3, now=now, zone=timezones.zone("America/New_York"))
    day = datetime(2026, 11, 25).date()
    assert sum(vietnam.per_day[day].values()) == 1
    assert sum(new_york.per_day[day - timedelta(days=1)].values()) == 1, "18:30 on the 24th in New York"
