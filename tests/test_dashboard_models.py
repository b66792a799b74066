"""The models page via the test client, on both databases: who may see it, promotion, the refused
candidate's confirmation, rollback, shadow on/off, the learning settings form and escaping."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest
from sqlalchemy import select

from moderation.scoring.artifact import resolve_version_dir
from moderation.services import learning
from moderation.storage.models import AuditEntry, ModelVersion, Site
from tests.e2e.helpers import client_sign_in, csrf_token
from tests.e2e.seed import add_comment
from tests.models_helpers import BAD, GOOD, SPARE, add_label, add_shadow, add_versions, candidate_store
from tests.xss_payloads import PAYLOADS


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return candidate_store(tmp_path_factory)


@pytest.fixture
def settings(settings, store):
    return dataclasses.replace(settings, model_store=store)


@pytest.fixture
def versions(db, site):
    add_versions(db, site.id)


def page_of(client, site) -> str:
    response = client.get(f"/dashboard/admin/sites/{site.id}/models")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post(client, site, action: str, **data):
    token = csrf_token(client, f"/dashboard/admin/sites/{site.id}/models")
    return client.post(
        f"/dashboard/admin/sites/{site.id}/models/{action}", data={"csrf_token": token, **data}
    )


def site_row(db, site) -> Site:
    with db.session() as session:
        return session.get(Site, site.id)


def audit(db, action: str) -> list[AuditEntry]:
    with db.session() as session:
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        )


def flashes(response) -> str:
    return " ".join(re.findall(r'<p class="message [a-z]+">([^<]*)</p>', response.get_data(as_text=True)))


def test_moderators_get_403_and_the_page_is_linked_for_admins(client, db, site, linh, chief, versions):
    client_sign_in(client, "linh")
    assert client.get(f"/dashboard/admin/sites/{site.id}/models").status_code == 403
    token = csrf_token(client, "/dashboard/queue")
    for action, data in (("promote", {"version": GOOD}), ("rollback", {}), ("shadow", {"version": GOOD})):
        response = client.post(
            f"/dashboard/admin/sites/{site.id}/models/{action}", data={"csrf_token": token, **data}
        )
        assert response.status_code == 403, action
    settings = client.post(f"/dashboard/admin/sites/{site.id}/models/settings", data={"csrf_token": token})
    assert settings.status_code == 403
    assert site_row(db, site).model_version is None and site_row(db, site).shadow_version is None
    client.post("/dashboard/logout", data={"csrf_token": token})
    client_sign_in(client, "chief")
    sites = client.get("/dashboard/admin/sites").get_data(as_text=True)
    assert f'href="/dashboard/admin/sites/{site.id}/models"' in sites and "Mô hình và học" in sites
    assert client.get("/dashboard/admin/sites/9999/models").status_code == 404


def test_page_shows_live_version_labels_candidates_and_reports(client, db, site, chief, versions):
    ids = [add_comment(db, site, f"bình luận {i}") for i in range(3)]
    add_label(db, site.id, ids[0], "toxicity", 1)
    add_label(db, site.id, ids[1], "toxicity", 0)
    add_label(db, site.id, ids[2], "toxicity", 1)
    add_label(db, site.id, ids[2], "hate_speech", 2)
    client_sign_in(client, "chief")
    page = page_of(client, site)
    assert f"mặc định đã cài {resolve_version_dir().name}" in page
    assert "vi phạm: 2" in page and "chấp nhận được: 1" in page and "thù ghét: 1" in page
    for version in (GOOD, BAD, SPARE):
        assert f"<code>{version}</code>" in page
    assert page.index(GOOD) < page.index(BAD) < page.index(SPARE), "newest first"
    assert "Bộ kiểm tra: từ chối" in page and "Bộ kiểm tra: đạt" in page
    # The refused report's hate speech row is highlighted with its figures and change.
    regressions = re.findall(r'<tr class="regression">(.*?)</tr>', page, re.S)
    assert len(regressions) == 1
    cells = re.findall(r"<td>([^<]*)</td>", regressions[0])
    assert cells == ["0.6800", "0.5200", "-0.1600"]
    assert "+0.1300" in page, "toxicity improved by 0.13"
    assert page.count("Vẫn đưa vào sử dụng") == 1 and 'name="confirm" required' in page
    assert "Không có phiên bản nào đang chạy thử song song" in page


def test_promote_shadow_and_rollback_change_the_site_and_are_audited(client, db, site, chief, versions):
    client_sign_in(client, "chief")
    promoted = post(client, site, "promote", version=GOOD)
    assert promoted.status_code == 303
    assert site_row(db, site).model_version == GOOD
    page = client.get(promoted.headers["Location"])
    assert f"{GOOD} giờ quyết định bình luận của trang này." in flashes(page)
    [entry] = audit(db, "promote_model")
    assert entry.actor == "moderator:chief" and entry.details == {"from": None, "to": GOOD, "forced": False}

    post(client, site, "shadow", version=SPARE)
    assert site_row(db, site).shadow_version == SPARE
    html_page = page_of(client, site)
    assert "Tắt chạy thử song song" in html_page and "Quay lại mô hình mặc định đã cài" in html_page
    refused = post(client, site, "shadow", version=GOOD)
    assert "là mô hình đang dùng" in flashes(client.get(refused.headers["Location"]))
    assert site_row(db, site).shadow_version == SPARE, "the live model cannot be its own shadow"
    post(client, site, "shadow", version="")
    assert site_row(db, site).shadow_version is None
    assert [e.details for e in audit(db, "shadow_model")] == [
        {"from": None, "to": SPARE},
        {"from": SPARE, "to": None},
    ]

    post(client, site, "promote", version=SPARE)
    assert "Quay lại " + GOOD in page_of(client, site)
    post(client, site, "rollback")
    assert site_row(db, site).model_version == GOOD
    post(client, site, "rollback")
    assert site_row(db, site).model_version is None
    assert [e.details for e in audit(db, "rollback_model")] == [
        {"from": SPARE, "to": GOOD},
        {"from": GOOD, "to": None},
    ]
    log = client.get("/dashboard/admin/audit").get_data(as_text=True)
    assert "Đã đưa một mô hình vào sử dụng" in log and f"– → {GOOD}" in log and f"{GOOD} → –" in log
    nothing = post(client, site, "rollback")
    assert "Không có gì để quay lại" in flashes(client.get(nothing.headers["Location"]))


def test_a_refused_candidate_needs_the_confirmation(client, db, site, chief, versions):
    client_sign_in(client, "chief")
    unconfirmed = post(client, site, "promote", version=BAD)
    assert "hãy đánh dấu ô để xác nhận" in flashes(client.get(unconfirmed.headers["Location"]))
    assert site_row(db, site).model_version is None and audit(db, "promote_model") == []
    post(client, site, "promote", version=BAD, confirm="on")
    assert site_row(db, site).model_version == BAD
    [entry] = audit(db, "promote_model")
    assert entry.details["forced"] is True and entry.reason == "forced by an admin"
    with db.session() as session:
        assert session.get(ModelVersion, BAD).status == "live"


def test_unknown_versions_and_missing_csrf_change_nothing(client, db, site, chief, versions):
    client_sign_in(client, "chief")
    missing = post(client, site, "promote", version="9999.1.1")
    assert "chưa được cài trên máy chủ này" in flashes(client.get(missing.headers["Location"]))
    forged = client.post(f"/dashboard/admin/sites/{site.id}/models/promote", data={"version": GOOD})
    assert forged.status_code == 400
    forged_shadow = client.post(
        f"/dashboard/admin/sites/{site.id}/models/shadow", data={"version": GOOD, "csrf_token": "forged"}
    )
    assert forged_shadow.status_code == 400
    row = site_row(db, site)
    assert row.model_version is None and row.shadow_version is None


def test_learning_settings_form_saves_and_reports_each_bad_field(client, db, site, chief):
    client_sign_in(client, "chief")
    page = page_of(client, site)
    assert 'name="tolerance" value="2"' in page and 'name="holdout" value="25"' in page
    good = {"schedule": "weekly", "min_labels": "80", "weight": "2,5", "tolerance": "3", "holdout": "20"}
    saved = post(client, site, "settings", **good, auto_promote="on")
    assert saved.status_code == 303
    with db.session() as session:
        stored = learning.learning_settings(session, site.id)
    assert (stored.schedule, stored.min_labels, stored.weight) == ("weekly", 80, 2.5)
    assert (stored.tolerance, stored.holdout, stored.auto_promote) == (0.03, 0.2, True)
    assert audit(db, "learning_settings_changed")[0].actor == "moderator:chief"

    bad = post(client, site, "settings", **{**good, "min_labels": "5", "weight": "nhiều", "holdout": "90"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'id="min_labels-error">một số nguyên từ 10 đến 100000<' in text
    assert 'id="weight-error">một số từ 0,1 đến 100<' in text
    assert 'id="holdout-error">một số từ 10 đến 50 (%)<' in text
    assert 'id="tolerance-error"' not in text and 'value="nhiều"' in text
    bad_schedule = post(client, site, "settings", **{**good, "schedule": "hourly"})
    assert bad_schedule.status_code == 422 and 'id="schedule-error"' in bad_schedule.get_data(as_text=True)
    with db.session() as session:
        assert learning.learning_settings(session, site.id) == stored, "nothing saved"


def test_shadow_disagreements_are_summarised_and_escaped(client, db, site, chief, versions, monkeypatch):
    from moderation.dashboard import views_models
    from moderation.services import review
    from tests.e2e.helpers import identity

    monkeypatch.setattr(views_models, "DISAGREEMENTS_SHOWN", len(PAYLOADS))  # the whole corpus at once

    with db.session() as session:
        session.get(Site, site.id).shadow_version = SPARE
    ids = []
    for payload in PAYLOADS:
        comment_id = add_comment(db, site, payload)
        add_shadow(db, site.id, comment_id, SPARE, decision="publish", live="review")
        ids.append(comment_id)
    agreed = add_comment(db, site, "đồng ý")
    add_shadow(db, site.id, agreed, SPARE, decision="review", live="review")
    with db.session() as session:
        admin = identity(db, chief)
        review.decide(session, admin, ids[0], "approve", None)  # sides with the shadow
        review.decide(session, admin, ids[1], "reject", reason="Spam")  # sides with the live model
        review.decide(session, admin, ids[2], "approve", None)
    client_sign_in(client, "chief")
    page = page_of(client, site)
    summary = f"{SPARE} đã chấm {len(PAYLOADS) + 1} bình luận và quyết định khác mô hình đang dùng"
    assert f"{summary} ở {len(PAYLOADS)} bình luận" in page
    assert (
        "đã xét 3 bình luận trong số đó: đồng ý với mô hình chạy thử 2 lần và với mô hình đang dùng 1 lần"
        in page
    )
    for payload in PAYLOADS:
        if "<" in payload:
            assert payload not in page, payload
        assert html.escape(payload, quote=False) in page.replace("&#39;", "'").replace("&#34;", '"')
    assert "<script>window.__xss" not in page
    assert page.count("chưa được xét") == len(PAYLOADS) - 3
