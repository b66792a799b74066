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
