"""The dashboard through Flask's test client, on both databases: sign-in and sessions, CSRF, roles,
conflicts, escaping, security headers, site restriction, languages."""

from __future__ import annotations

import re
import time

from moderation import services
from moderation.dashboard.security import CONTENT_SECURITY_POLICY
from moderation.services import admin, review
from tests.e2e.helpers import client_sign_in, csrf_token, htmx, identity, status_of
from tests.e2e.seed import add_comment, make_moderator, make_site

XSS_COMMENT = '<script>alert("c")</script> và <img src=x onerror=alert(1)>'
XSS_NAME = "<img src=x onerror=alert('name')>"
XSS_REASON = "<script>alert('reason')</script>"


def test_pages_need_a_sign_in_and_sign_out_ends_it(client, linh):
    response = client.get("/dashboard/queue?tab=review")
    assert response.status_code == 302
    assert "/dashboard/login?next=/dashboard/queue" in response.headers["Location"]
    refused = client_sign_in(client, "linh", "wrong password!")
    assert refused.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in refused.get_data(as_text=True)
    signed_in = client_sign_in(client, "linh")
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/dashboard/queue"
    cookie = signed_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    page = client.get("/dashboard/queue")
    assert page.status_code == 200 and "linh" in page.get_data(as_text=True)
    token = csrf_token(client, "/dashboard/queue")
    assert client.post("/dashboard/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/dashboard/queue").status_code == 302


def test_sign_in_rotates_the_session_and_keeps_only_the_language(client, linh):
    before = csrf_token(client)
    with client.session_transaction() as session:
        session["lang"] = "en"
        session["planted"] = "by someone else"
    client_sign_in(client, "linh")
    with client.session_transaction() as session:
        assert "planted" not in session and session["lang"] == "en"
    assert csrf_token(client, "/dashboard/queue") != before, "the CSRF token changes at sign-in"


def test_a_sign_in_expires_after_the_configured_hours(client, linh, settings):
    client_sign_in(client, "linh")
    assert client.get("/dashboard/queue").status_code == 200
    with client.session_transaction() as session:
        session["signed_in_at"] = time.time() - settings.session_hours * 3600 - 5
    response = client.get("/dashboard/queue")
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]
    assert "Phiên làm việc đã hết hạn" in client.get("/dashboard/login").get_data(as_text=True)


def test_inactive_moderators_cannot_sign_in_and_deactivation_ends_sessions(client, db, linh, chief):
    client_sign_in(client, "linh")
    assert client.get("/dashboard/queue").status_code == 200
    with db.session() as session:
        admin.update_moderator(session, identity(db, chief), linh, active=False)
    assert client.get("/dashboard/queue").status_code == 302, "the open session ends at once"
    refused = client_sign_in(client, "linh")
    assert refused.status_code == 403
    assert "vô hiệu hóa" in refused.get_data(as_text=True)


def test_posts_without_the_csrf_token_are_refused_with_an_html_page(client, db, site, linh):
    comment_id = add_comment(db, site, "bình luận")
    client_sign_in(client, "linh")
    response = client.post(f"/dashboard/comments/{comment_id}/decision", data={"action": "approve"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    forged = client.post(
        f"/dashboard/comments/{comment_id}/decision", data={"action": "approve", "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    assert status_of(db, comment_id) == "review"
    token = csrf_token(client, "/dashboard/queue")
    ok = client.post(
        f"/dashboard/comments/{comment_id}/decision", data={"action": "approve"}, headers=htmx(token)
    )
    assert ok.status_code == 200, "htmx sends the token in the X-CSRFToken header"
    assert status_of(db, comment_id) == "published"


def test_the_json_api_stays_exempt_from_csrf(client, site, db):
    with db.session() as session:
        _other, key = services.create_site(session, "api-site")
    response = client.post(
        "/api/v1/comments",
        json={"article_id": "x", "author": {"name": "An"}, "content": "Bài hay"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 202


def test_the_api_and_ops_responses_do_not_depend_on_the_dashboard_session(client):
    for path in ("/healthz", "/api/v1/articles/a-1/comments?site=demo"):
        response = client.get(path)
        assert "Cookie" not in response.headers.get("Vary", ""), path
        assert "Set-Cookie" not in response.headers and "Content-Security-Policy" not in response.headers


def test_admin_pages_refuse_moderators(client, db, site, linh, chief):
    client_sign_in(client, "linh")
    for path in (
        "/dashboard/admin/stats",
        "/dashboard/admin/audit",
        f"/dashboard/admin/sites/{site.id}/policy",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Không được phép" in response.get_data(as_text=True)
    assert "Chính sách" not in client.get("/dashboard/queue").get_data(as_text=True), "no admin links"
    token = csrf_token(client, "/dashboard/queue")
    refused = client.post(
        f"/dashboard/admin/sites/{site.id}/policy", data={"csrf_token": token, "premoderate": "on"}
    )
    assert refused.status_code == 403
    with db.session() as session:
        assert services.site_policy(session, site.id).premoderate is False
    client2 = client.application.test_client()
    client_sign_in(client2, "chief")
    for path in ("/dashboard/admin/stats", "/dashboard/admin/audit", "/dashboard/admin/moderators"):
        assert client2.get(path).status_code == 200, path


def test_acting_on_a_comment_someone_decided_first_says_who_and_overwrites_nothing(client, db, site, linh):
    comment_id = add_comment(db, site, "bình luận gây tranh cãi")
    other = make_moderator(db, "minh")
    client_sign_in(client, "linh")
    token = csrf_token(client, "/dashboard/queue")
    with db.session() as session:
        review.decide(session, identity(db, other), comment_id, "reject", "Xúc phạm")
    response = client.post(
        f"/dashboard/comments/{comment_id}/decision?tab=review",
        data={"action": "approve"},
        headers=htmx(token),
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'id="queue-region"' in html, "htmx gets the refreshed queue"
    assert "minh đã xử lý bình luận này lúc" in html and "Thao tác của bạn không được áp dụng" in html
    assert status_of(db, comment_id) == "rejected"
    plain = client.post(
        f"/dashboard/comments/{comment_id}/decision", data={"action": "approve", "csrf_token": token}
    )
    assert plain.status_code == 303
    assert "minh đã xử lý" in client.get(plain.headers["Location"]).get_data(as_text=True)


def test_reader_text_is_escaped_everywhere(client, db, site, chief):
    add_comment(
        db,
        site,
        XSS_COMMENT,
        author=XSS_NAME,
        title="<script>alert('title')</script>",
        url="javascript:alert('url')",
        highlight=["<script>"],
    )
    rejected = add_comment(db, site, "trả lời", author=XSS_NAME, article="a-2")
    client_sign_in(client, "chief")
    token = csrf_token(client, "/dashboard/queue")
    client.post(
        f"/dashboard/comments/{rejected}/decision",
        data={"action": "reject", "reason_code": "other", "reason_text": XSS_REASON, "csrf_token": token},
    )
    pages = [
        client.get("/dashboard/queue").get_data(as_text=True),
        client.get("/dashboard/queue?tab=rejected").get_data(as_text=True),
        client.get("/dashboard/admin/audit").get_data(as_text=True),
    ]
    for html in pages:
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert 'href="javascript:' not in html, "only http(s) article URLs become links"
    queue, rejected_tab, audit = pages
    assert "&lt;script&gt;alert(&#34;c&#34;)&lt;/script&gt;" in queue.replace("<mark>", "").replace(
        "</mark>", ""
    )
    assert "<mark>&lt;script&gt;</mark>" in queue, "a highlighted span is escaped too"
    assert "&lt;img src=x onerror=alert(&#39;name&#39;)&gt;" in queue
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in queue
    assert "&lt;script&gt;alert(&#39;reason&#39;)&lt;/script&gt;" in rejected_tab
    assert "&lt;script&gt;alert(&#39;reason&#39;)&lt;/script&gt;" in audit


def test_pages_send_a_strict_content_security_policy(client, linh):
    for path in ("/dashboard/login", "/dashboard/static/dashboard.js"):
        response = client.get(path)
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert (
        "script-src 'self'" in CONTENT_SECURITY_POLICY and "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    )
    client_sign_in(client, "linh")
    page = client.get("/dashboard/queue")
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert " style=" not in html and "<style" not in html, "the CSP forbids inline styles"
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], "no inline scripts"
    assert re.findall(r"\son[a-z]+=", html) == [], "no inline event handlers"


def test_a_moderator_limited_to_a_site_only_sees_that_site(client, db, site):
    other_site = make_site(db, "other")[0]
    hidden = add_comment(db, site, "của demo")
    visible = add_comment(db, other_site, "của other")
    make_moderator(db, "outsider", sites=["other"])
    client_sign_in(client, "outsider")
    html = client.get("/dashboard/queue").get_data(as_text=True)
    assert "của other" in html and "của demo" not in html
    assert f"?site={site.id}" not in html
    token = csrf_token(client, "/dashboard/queue")
    response = client.post(
        f"/dashboard/comments/{hidden}/decision", data={"action": "approve", "csrf_token": token}
    )
    assert response.status_code == 404
    assert status_of(db, hidden) == "review" and status_of(db, visible) == "review"
    filtered = client.get(f"/dashboard/queue?site={site.id}").get_data(as_text=True)
    assert "của demo" not in filtered and "không thuộc các trang bạn phụ trách" in filtered


def test_vietnamese_by_default_and_english_on_request(client, linh):
    client_sign_in(client, "linh")
    html = client.get("/dashboard/queue").get_data(as_text=True)
    assert '<html lang="vi">' in html
    for label in ("Cần duyệt", "Bị báo cáo", "Chờ chấm", "Đã duyệt", "Đã từ chối"):
        assert label in html
    token = csrf_token(client, "/dashboard/queue")
    client.post("/dashboard/language", data={"lang": "en", "next": "/dashboard/queue", "csrf_token": token})
    english = client.get("/dashboard/queue").get_data(as_text=True)
    assert '<html lang="en">' in english and "To review" in english and "Cần duyệt" not in english
    switched = client.post(
        "/dashboard/language", data={"lang": "vi", "next": "https://evil.example/", "csrf_token": token}
    )
    assert switched.headers["Location"] == "/dashboard/queue", "no open redirect"
