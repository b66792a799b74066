"""Admin pages via the test client: the policy form and its effect on scoring, accounts, audit, statistics."""

from __future__ import annotations

import re

from sqlalchemy import select

from moderation import services
from moderation.services import review
from moderation.storage.models import AuditEntry, Moderator
from tests.e2e.helpers import client_sign_in, csrf_token, identity, status_of
from tests.e2e.seed import add_comment


def test_policy_form_saves_thresholds_and_reports_bad_values(client, db, site, chief):
    client_sign_in(client, "chief")
    page = client.get(f"/dashboard/admin/sites/{site.id}/policy").get_data(as_text=True)
    assert 'name="attributes.hate_speech.reject" min="0" max="100" step="0.1" value="97"' in page
    token = csrf_token(client, f"/dashboard/admin/sites/{site.id}/policy")
    form = {
        "csrf_token": token,
        "attributes.spam.review": "30",
        "attributes.spam.reject": "90",
        "premoderate": "on",
        "banned_words": "đồ ngu\n  \nóc chó",
        "rule_actions.link": "reject",
    }
    saved = client.post(f"/dashboard/admin/sites/{site.id}/policy", data=form)
    assert saved.status_code == 303
    with db.session() as session:
        policy = services.site_policy(session, site.id)
    assert (policy.attributes["spam"].review, policy.attributes["spam"].reject) == (0.3, 0.9)
    assert policy.premoderate and policy.banned_words == ("đồ ngu", "óc chó")
    assert policy.rule_actions["link"] == "reject" and policy.trusted_lighter_review is False
    bad = client.post(
        f"/dashboard/admin/sites/{site.id}/policy",
        data={**form, "attributes.spam.review": "95", "attributes.spam.reject": "150"},
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "một số từ 0 đến 100, hoặc để trống" in html and 'value="150"' in html
    with db.session() as session:
        assert services.site_policy(session, site.id).attributes["spam"].reject == 0.9, "nothing saved"


def test_a_threshold_changed_in_the_form_applies_to_the_next_comment_scored(client, db, site, chief):
    from moderation.scoring.types import ModelThresholds, ScoredText

    class FixedAnalyzer:
        model_version = "fixed"
        thresholds = ModelThresholds()

        def score(self, texts):
            return [
                ScoredText(
                    text=t,
                    toxicity=0.1,
                    spam=0.35,
                    constructive=0.2,
                    hate_scores={"clean": 0.95, "offensive": 0.03, "hate": 0.02},
                    hate_label="clean",
                    canonical=t.lower(),
                    folded=t.lower(),
                )
                for t in texts
            ]

    def score_new() -> str:
        comment_id = add_comment(db, site, "Mua hàng giảm giá", status="pending")
        services.score_comments(db, FixedAnalyzer(), [comment_id])
        return status_of(db, comment_id)

    assert score_new() == "published"
    client_sign_in(client, "chief")
    token = csrf_token(client, f"/dashboard/admin/sites/{site.id}/policy")
    client.post(
        f"/dashboard/admin/sites/{site.id}/policy", data={"csrf_token": token, "attributes.spam.review": "30"}
    )
    assert score_new() == "review"


def test_admin_creates_and_deactivates_moderators_and_reads_the_audit_log(client, db, site, chief):
    client_sign_in(client, "chief")
    token = csrf_token(client, "/dashboard/admin/moderators")
    created = client.post(
        "/dashboard/admin/moderators",
        data={
            "csrf_token": token,
            "username": "an",
            "password": "long enough pass",
            "role": "moderator",
            "sites": [str(site.id)],
        },
    )
    assert created.status_code == 303
    short = client.post(
        "/dashboard/admin/moderators",
        data={"csrf_token": token, "username": "bo", "password": "short", "role": "moderator"},
    )
    assert short.status_code == 422 and "ít nhất 10 ký tự" in short.get_data(as_text=True)
    with db.session() as session:
        an = session.scalar(select(Moderator).where(Moderator.username == "an"))
        assert [s.name for s in an.sites] == ["demo"]
        created_entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "moderator_created")
        ).all()[-1]
        assert created_entry.actor == "moderator:chief"
        an_id = an.id
    client.post(f"/dashboard/admin/moderators/{an_id}", data={"csrf_token": token, "active": "0"})
    with db.session() as session:
        assert session.get(Moderator, an_id).active is False
    audit = client.get("/dashboard/admin/audit?actor=chief&action=moderator_changed").get_data(as_text=True)
    assert "Sửa tài khoản kiểm duyệt" in audit and "1 mục" in audit


def test_statistics_page_draws_the_charts(client, db, site, chief, linh):
    held = add_comment(db, site, "giữ")
    add_comment(db, site, "đăng", status="published", reasons=())
    with db.session() as session:
        review.decide(session, identity(db, linh), held, "approve", None)
    client_sign_in(client, "chief")
    html = client.get("/dashboard/admin/stats?days=7").get_data(as_text=True)
    assert html.count('class="o-published"') >= 1 and "<svg" in html
    assert "Tự động quyết định" in html and "50%" in html, "1 of 2 decided by the model"
    assert re.search(r"Độc hại</th>\s*<td>.*100%", html), "the one toxicity hold was overturned"
