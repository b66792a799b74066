"""Personal data: never in public answers or logs; erased after the retention period."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy import update

from moderation import services
from moderation.cli import main
from moderation.services.privacy import erase_old_personal_data
from moderation.storage.models import Comment, Report, utcnow
from tests.test_api_comments import VALID, post

EMAIL = "nguoi.doc@example.vn"
IP = "203.0.113.77"


def test_no_email_or_address_reaches_logs_or_public_answers(app, client, db, site_key, run_workers, caplog):
    auth = {"Authorization": f"Bearer {site_key}"}
    body = {
        **VALID,
        "author": {"name": "Người đọc", "email": EMAIL},
        "client": {"ip": IP, "user_agent": "UA-x"},
    }
    with db.session() as session:
        site = services.site_named(session, "demo")
        services.update_abuse_settings(session, site.id, {"ip_rate": "2/minute"}, actor="t")
    with caplog.at_level(logging.DEBUG):
        comment_id = post(client, auth, body).get_json()["id"]
        run_workers()
        answers = [
            client.get(f"/api/v1/comments/{comment_id}", headers=auth).get_data(as_text=True),
            client.get("/api/v1/articles/a-100/comments?site=demo").get_data(as_text=True),
        ]
        codes = [  # breach the per-reader limit: the breach must not log the address
            post(
                client, auth, {**body, "content": f"Một bình luận khác số {i}", "author": {"name": f"N{i}"}}
            ).status_code
            for i in range(3)
        ]
        assert 429 in codes
        app.logger.info("flow done")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "flow done" in logged, "logs were captured"
    for secret in (EMAIL, IP):
        assert secret not in logged, f"{secret} appears in the logs"
        for answer in answers:
            assert secret not in answer


def test_the_retention_job_erases_old_addresses_and_user_agents(client, auth, db):
    old = post(client, auth, VALID).get_json()["id"]
    recent = post(client, auth, {**VALID, "content": "Bình luận mới."}).get_json()["id"]
    with db.session() as session:
        session.execute(
            update(Comment).where(Comment.id == old).values(created_at=utcnow() - timedelta(days=100))
        )
        session.get(Comment, recent).status = "published"
        session.get(Comment, old).status = "published"
        session.add(
            Report(
                comment_id=old,
                site_id=session.get(Comment, old).site_id,
                reporter_ip="198.51.100.1",
                created_at=utcnow() - timedelta(days=95),
            )
        )
    report = erase_old_personal_data(db, 90)
    assert (report.comments, report.reports) == (1, 1)
    with db.session() as session:
        erased, kept = session.get(Comment, old), session.get(Comment, recent)
        assert (erased.client_ip, erased.user_agent) == (None, None)
        assert erased.content == VALID["content"], "the comment itself stays"
        assert (kept.client_ip, kept.user_agent) == ("203.0.113.7", "Mozilla/5.0")
    assert erase_old_personal_data(db, 0).comments == 0, "0 keeps everything"


def test_retention_from_the_command_line(runner, client, auth, db):
    comment_id = post(client, auth, VALID).get_json()["id"]
    with db.session() as session:
        session.execute(
            update(Comment).where(Comment.id == comment_id).values(created_at=utcnow() - timedelta(days=10))
        )
    result = runner.invoke(main, ["retention", "--days", "7"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"comments": 1, "reports": 0}
