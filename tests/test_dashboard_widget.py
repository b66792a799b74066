"""Dashboard additions for the site side, through Flask's test client on both databases: the
widget and anti-abuse page, clusters on cards and their one-action rejection, readers' report
reasons, the reported tab's approve button, and the labels of the door's reasons."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from moderation import services
from moderation.storage.models import AuditEntry, Report
from tests.e2e.helpers import client_sign_in, csrf_token, htmx, status_of
from tests.e2e.seed import add_comment, make_moderator

# A clean text that many readers paste (a campaign): only the flood rule holds it. (A loan ad here
# would be held by the spam model on its own.)
FLOOD = "Cả nước cùng chung tay ủng hộ đồng bào miền Trung khắc phục hậu quả bão lũ"


@pytest.fixture
def site_and_key(db):
    with db.session() as session:
        site, key = services.create_site(session, "baolaichau", ["https://baolaichau.vn"])
        return site, key


@pytest.fixture
def site(site_and_key):
    return site_and_key[0]


@pytest.fixture
def chief(db, site) -> int:
    return make_moderator(db, "chief", role="admin")


@pytest.fixture
def linh(db, site) -> int:
    return make_moderator(db, "linh")


def widget_page(site) -> str:
    return f"/dashboard/admin/sites/{site.id}/widget"


VALID = {
    "origins": "https://baolaichau.vn/\nhttp://LOCALHOST:8080\n\n",
    "ip_rate": "3/minute;20/hour",
    "author_rate": "4/minute",
    "min_seconds": "2,5",
    "duplicate_window_minutes": "30",
    "flood_window_minutes": "15",
    "flood_senders": "4",
    "auto_trust_published": "0",
}


def test_the_widget_page_shows_the_key_the_snippet_and_every_setting(client, site, chief):
    client_sign_in(client, "chief")
    sites = client.get("/dashboard/admin/sites").get_data(as_text=True)
    assert f'href="{widget_page(site)}"' in sites and "Tiện ích & chống lạm dụng" in sites
    html = client.get(widget_page(site)).get_data(as_text=True)
    assert f'<code class="widget-key">{site.widget_key}</code>' in html
    assert (
        "&lt;script src=&#34;http://localhost/widget/v1/widget.js&#34; "
        f"data-key=&#34;{site.widget_key}&#34;" in html
    ), "the snippet is shown escaped, with this service's address"
    assert "Khóa API (msk_…) là bí mật" in html
    assert (
        '<textarea id="origins" name="origins" rows="4"' in html
        and "https://baolaichau.vn</textarea>" in html
    )
    for name, value in (
        ("ip_rate", "5/minute;30/hour"),
        ("author_rate", "5/minute;20/hour"),
        ("min_seconds", "3"),
        ("duplicate_window_minutes", "60"),
        ("flood_window_minutes", "10"),
        ("flood_senders", "3"),
        ("auto_trust_published", "5"),
    ):
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(value)}"', html), name
    assert '<input type="checkbox" name="honeypot" checked>' in html


def test_saving_applies_the_settings_and_origins_and_audits_what_changed(client, db, site, chief):
    client_sign_in(client, "chief")
    token = csrf_token(client, widget_page(site))
    saved = client.post(widget_page(site), data={**VALID, "csrf_token": token})
    assert saved.status_code == 303
    assert "Đã lưu cài đặt" in client.get(saved.headers["Location"]).get_data(as_text=True)
    with db.session() as session:
        abuse = services.abuse_settings(session, site.id)
        origins = services.site_named(session, "baolaichau").origins
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert (abuse.ip_rate, abuse.author_rate, abuse.min_seconds) == ("3/minute;20/hour", "4/minute", 2.5)
    assert (abuse.duplicate_window_minutes, abuse.flood_window_minutes, abuse.flood_senders) == (30, 15, 4)
    assert abuse.auto_trust_published == 0 and abuse.honeypot is False, "an unchecked box turns it off"
    assert origins == ["https://baolaichau.vn", "http://localhost:8080"]
    assert actions[-2:] == ["abuse_settings_changed", "origins_changed"]
    client.post(widget_page(site), data={**VALID, "csrf_token": token})
    with db.session() as session:
        assert session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc())).action == "origins_changed"
        assert len(session.scalars(select(AuditEntry)).all()) == len(actions), "saving again changes nothing"
    audit = client.get("/dashboard/admin/audit").get_data(as_text=True)
    assert "Sửa cài đặt chống lạm dụng" in audit and "Sửa các địa chỉ được phép" in audit
    assert "https://baolaichau.vn, http://localhost:8080" in audit


def test_invalid_values_are_shown_next_to_their_fields_and_nothing_is_saved(client, db, site, chief):
    client_sign_in(client, "chief")
    token = csrf_token(client, widget_page(site))
    typed = client.post(widget_page(site), data={**VALID, "min_seconds": "ba", "csrf_token": token})
    assert typed.status_code == 422 and 'id="min_seconds-error">một số</span>' in typed.get_data(as_text=True)
    bad = {
        **VALID,
        "ip_rate": "nhiều lắm",
        "min_seconds": "9999",
        "flood_senders": "1",
        "origins": "baolaichau.vn/bai-viet",
        "csrf_token": token,
    }
    response = client.post(widget_page(site), data=bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Chưa lưu gì" in html
    assert 'id="ip_rate-error">một giới hạn dạng &#34;5/minute;30/hour&#34;</span>' in html
    assert 'id="min_seconds-error">một số từ 0 đến 600</span>' in html
    assert 'id="flood_senders-error">một số từ 2 đến 1000</span>' in html
    assert "không phải một địa chỉ dạng https://example.vn" in html
    assert 'value="9999"' in html and "baolaichau.vn/bai-viet</textarea>" in html, "what was typed stays"
    with db.session() as session:
        assert services.abuse_settings(session, site.id).ip_rate == "5/minute;30/hour"
        assert services.site_named(session, "baolaichau").origins == ["https://baolaichau.vn"]


def test_only_admins_of_the_site_open_the_widget_page(client, db, site, linh):
    client_sign_in(client, "linh")
    assert client.get(widget_page(site)).status_code == 403
    with db.session() as session:
        other, _key = services.create_site(session, "other")
    make_moderator(db, "local-chief", role="admin", sites=["other"])
    local = client.application.test_client()
    client_sign_in(local, "local-chief")
    assert local.get(widget_page(site)).status_code == 404
    assert local.get(widget_page(other)).status_code == 200


def flood(client, key: str, count: int = 4) -> list[str]:
    """The same ad from ``count`` readers (through the site's server): the door clusters them."""
    ids = []
    for i in range(count):
        response = client.post(
            "/api/v1/comments",
            json={
                "article_id": "sin-ho",
                "author": {"name": f"Tài khoản {i}"},
                "content": f"{FLOOD} {i}",
                "client": {"ip": f"203.0.113.{10 + i}"},
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 202
        ids.append(response.get_json()["id"])
    return ids


def test_cards_show_the_cluster_and_reject_it_in_one_action_with_one_undo(
    client, db, site_and_key, linh, run_workers
):
    site, key = site_and_key
    ids = flood(client, key)
    run_workers()
    # The first two are scored and published; the next two, scored too, are held by the flood rule.
    assert [status_of(db, i) for i in ids] == ["published", "published", "review", "review"]
    client_sign_in(client, "linh")
    html = client.get("/dashboard/queue?tab=review").get_data(as_text=True)
    assert html.count("4 bình luận giống nhau") == 2
    assert f"cluster={ids[0]}" in html
    assert "Nhiều người gửi cùng một nội dung (tràn)" in html
    filtered = client.get(f"/dashboard/queue?tab=published&cluster={ids[0]}").get_data(as_text=True)
    assert "Đang xem một cụm bình luận giống nhau." in filtered
    assert sorted(re.findall(r'data-comment-id="([0-9a-f]+)"', filtered)) == sorted(ids[:2])
    token = csrf_token(client, "/dashboard/queue")
    response = client.post(
        f"/dashboard/comments/{ids[2]}/cluster?tab=review",
        data={"cluster_reason_code": "spam"},
        headers=htmx(token),
    )
    assert response.status_code == 200
    assert "Đã từ chối 4 bình luận trong cụm." in response.get_data(as_text=True)
    assert {status_of(db, i) for i in ids} == {"rejected"}
    client.post("/dashboard/undo", headers=htmx(token))
    assert [status_of(db, i) for i in ids] == ["published", "published", "review", "review"]


def test_a_cluster_rejection_needs_a_reason(client, db, site_and_key, linh, run_workers):
    ids = flood(client, site_and_key[1], 3)
    run_workers()
    client_sign_in(client, "linh")
    token = csrf_token(client, "/dashboard/queue")
    response = client.post(
        f"/dashboard/comments/{ids[2]}/cluster", data={"cluster_reason_code": "other"}, headers=htmx(token)
    )
    assert response.status_code == 422 and "chọn hoặc nhập lý do" in response.get_data(as_text=True).lower()
    assert status_of(db, ids[2]) == "review"


def test_reported_cards_show_readers_reasons_and_approving_keeps_them_published(client, db, site, linh):
    reported = add_comment(db, site, "Bình luận bị báo cáo", status="published", reasons=())
    with db.session() as session:
        session.add(Report(comment_id=reported, site_id=site.id, reason="Xúc phạm, thô tục"))
        session.add(Report(comment_id=reported, site_id=site.id, reason="<b>spam</b>"))
        session.add(Report(comment_id=reported, site_id=site.id))
    client_sign_in(client, "linh")
    html = client.get("/dashboard/queue?tab=reported").get_data(as_text=True)
    assert "3 báo cáo từ bạn đọc" in html
    assert "Lý do bạn đọc báo cáo: <q>Xúc phạm, thô tục</q>, <q>&lt;b&gt;spam&lt;/b&gt;</q>" in html
    assert "Giữ bình luận, đóng báo cáo <kbd>a</kbd>" in html
    token = csrf_token(client, "/dashboard/queue")
    client.post(f"/dashboard/comments/{reported}/decision", data={"action": "approve"}, headers=htmx(token))
    assert status_of(db, reported) == "published"
    with db.session() as session:
        assert all(r.resolved_at is not None for r in session.scalars(select(Report)))
    assert 'data-tab="reported" >Bị báo cáo <span class="count">0</span>' in client.get(
        "/dashboard/queue?tab=reported"
    ).get_data(as_text=True).replace('data-tab="reported" aria-current="page"', 'data-tab="reported" ')
    review_tab = client.get("/dashboard/queue").get_data(as_text=True)
    assert "Giữ bình luận, đóng báo cáo" not in review_tab


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("duplicate", "Bình luận trùng lặp"),
        ("flood", "Nhiều người gửi cùng một nội dung (tràn)"),
        ("banned_author", "Tác giả bị cấm"),
        ("honeypot", "Bẫy bot: ô ẩn bị điền"),
        ("too_fast", "Gửi quá nhanh sau khi mở biểu mẫu"),
        ("premoderation", "Kiểm duyệt trước mọi bình luận"),
        ("scoring_error", "Không chấm được"),
    ],
)
def test_the_door_reasons_read_in_vietnamese(client, db, site, linh, reason, label):
    add_comment(db, site, "Một bình luận", status="rejected", reasons=(reason,))
    client_sign_in(client, "linh")
    html = client.get("/dashboard/queue?tab=rejected").get_data(as_text=True)
    assert f'<li class="chip chip-{reason}">{label}</li>' in html
