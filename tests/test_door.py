"""The widget's API and the anti-abuse door: origins, limits, bot traps, repeats, floods, bans, reports."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from moderation import services
from moderation.api.widget import form_token
from moderation.limits import POST_LIMITS_PREFIX
from moderation.services import review
from moderation.storage.models import Ban, Comment, Report, Site
from moderation.storage.queue_queries import QueueFilter

ORIGIN = "https://baolaichau.vn"
TEXT = "Đường lên bản Sìn Hồ mùa này đẹp quá, mong tỉnh sớm nâng cấp để bà con đi lại dễ hơn."


@pytest.fixture
def site(db):
    with db.session() as session:
        created, api_key = services.create_site(session, "baolaichau", [ORIGIN + "/"])
        return {"id": created.id, "widget_key": created.widget_key, "api_key": api_key}


def widget_post(
    app, http, site, *, ip="198.51.100.7", origin=ORIGIN, opened_ago=10.0, headers_extra=None, **fields
):
    with app.app_context():
        token = form_token(site["id"], time.time() - opened_ago)
    body = {
        "article_id": "sin-ho",
        "author": {"name": fields.pop("name", "Lò Văn Páo")},
        "content": fields.pop("content", TEXT),
        "form_token": token,
        "website": "",
        **fields,
    }
    headers = {"Origin": origin} if origin else {}
    headers.update(headers_extra or {})
    return http.post(
        f"/api/v1/comments?key={site['widget_key']}",
        json=body,
        headers=headers,
        environ_base={"REMOTE_ADDR": ip},
    )


def server_post(client, site, *, ip=None, name="Lò Văn Páo", email=None, content=TEXT):
    body = {
        "article_id": "sin-ho",
        "author": {"name": name, **({"email": email} if email else {})},
        "content": content,
    }
    if ip:
        body["client"] = {"ip": ip}
    return client.post("/api/v1/comments", json=body, headers={"Authorization": f"Bearer {site['api_key']}"})


def stored(db, comment_id) -> Comment:
    with db.session() as session:
        return session.get(Comment, comment_id)


def test_origins_are_stored_as_browsers_send_them(db, site):
    with db.session() as session:
        assert services.site_named(session, "baolaichau").origins == [ORIGIN]
    with db.session() as session, pytest.raises(Exception, match="invalid origin"):
        services.create_site(session, "bad", ["baolaichau.vn/path"])


def test_the_widget_posts_from_a_registered_origin_with_the_connection_as_reader(app, client, db, site):
    response = widget_post(app, client, site, ip="198.51.100.20", **{"client": {"ip": "203.0.113.99"}})
    assert response.status_code == 202, response.get_json()
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Set-Cookie" not in response.headers, "the widget works without cookies from the service"
    comment = stored(db, response.get_json()["id"])
    assert comment.status == "pending"
    assert comment.client_ip == "198.51.100.20", "a page cannot claim another reader's address"


@pytest.mark.parametrize("origin", ["https://evil.example", None])
def test_a_post_from_an_unregistered_origin_is_refused(app, client, db, site, origin):
    response = widget_post(app, client, site, origin=origin)
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Comment)) == 0


def test_preflight_answers_only_registered_origins(client, site):
    url = f"/api/v1/comments?key={site['widget_key']}"
    ok = client.options(url, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Content-Type" in ok.headers["Access-Control-Allow-Headers"]
    other = client.options(
        url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in other.headers


def test_the_widget_key_reaches_only_posting_and_published_comments(app, client, site):
    comment_id = widget_post(app, client, site).get_json()["id"]
    key = {"Authorization": f"Bearer {site['widget_key']}"}
    assert client.get(f"/api/v1/comments/{comment_id}", headers=key).status_code == 401
    assert (
        client.post("/api/v1/analyze", json={"comments": [{"content": "x"}]}, headers=key).status_code == 401
    )
    assert client.get("/api/v1/moderation/queue", headers=key).status_code == 401
    status = client.get(
        f"/api/v1/comments/{comment_id}/status?key={site['widget_key']}", headers={"Origin": ORIGIN}
    )
    assert status.get_json() == {"id": comment_id, "status": "pending"}
    listing = client.get(
        f"/api/v1/articles/sin-ho/comments?key={site['widget_key']}", headers={"Origin": ORIGIN}
    )
    assert listing.status_code == 200 and listing.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_a_burst_of_30_posts_from_one_address_meets_429_with_retry_after(app, client, db, site):
    codes = [
        widget_post(
            app, client, site, name=f"Bạn đọc {i}", content=f"{TEXT} Ý kiến {i}", ip="198.51.100.9"
        ).status_code
        for i in range(30)
    ]
    assert codes[:5] == [202] * 5
    assert set(codes[5:]) == {429}
    response = widget_post(app, client, site, ip="198.51.100.9")
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0
    assert widget_post(app, client, site, ip="198.51.100.10").status_code == 202, (
        "another reader is not limited"
    )
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Comment)) == 6


def test_a_site_server_is_limited_per_reader_and_per_author_not_as_one_reader(client, site):
    for i in range(12):
        assert (
            server_post(
                client, site, ip=f"203.0.113.{i}", name=f"Reader {i}", content=f"{TEXT} {i}"
            ).status_code
            == 202
        )
    author = [
        server_post(client, site, ip=f"203.0.114.{i}", name="Cùng một người", content=f"{TEXT} {i}")
        for i in range(6)
    ]
    assert [r.status_code for r in author] == [202] * 5 + [429]


def test_the_honeypot_and_a_too_fast_form_are_silent_for_the_bot(app, client, db, site, redis_conn):
    trapped = widget_post(app, client, site, website="http://spam.example")
    assert trapped.status_code == 202 and trapped.get_json()["status"] == "pending"
    comment = stored(db, trapped.get_json()["id"])
    assert (comment.status, comment.decision_reasons) == ("rejected", ["honeypot"])
    fast = widget_post(app, client, site, opened_ago=0.5, ip="198.51.100.30", name="Nhanh")
    assert fast.status_code == 202
    assert stored(db, fast.get_json()["id"]).decision_reasons == ["too_fast"]
    forged = widget_post(app, client, site, ip="198.51.100.31", name="Giả", form_token="forged")
    assert stored(db, forged.get_json()["id"]).decision_reasons == ["too_fast"]
    assert redis_conn.llen("moderation:pending") == 0, "bot posts never reach a worker"


def test_a_repeat_by_the_same_reader_is_held_as_duplicate_even_without_accents(
    app, client, db, site, redis_conn, run_workers
):
    first = widget_post(app, client, site).get_json()["id"]
    stripped = "Duong len ban Sin Ho mua nay dep qua, mong tinh som nang cap de ba con di lai de hon!!"
    again = widget_post(app, client, site, content=stripped, name="Tên khác").get_json()["id"]
    comment = stored(db, again)
    assert (comment.status, comment.decision_reasons) == ("pending", ["duplicate"]), "the worker decides"
    assert comment.cluster_id == first
    assert redis_conn.lrange("moderation:pending", 0, -1) == [first.encode(), again.encode()]
    run_workers()
    comment = stored(db, again)
    assert (comment.status, comment.decided_by) == ("review", "model")
    assert "duplicate" in comment.decision_reasons
    assert comment.analysis is not None and "duplicate" in comment.analysis["reasons"], "scored"
    assert comment.score_toxicity is not None
    assert stored(db, first).status == "published"


def test_many_senders_posting_the_same_text_are_held_as_a_flood_in_one_cluster(
    app, client, db, site, run_workers
):
    ids = [
        widget_post(
            app,
            client,
            site,
            ip=f"198.51.100.{40 + i}",
            name=f"Tài khoản {i}",
            # A campaign the model publishes on its own scores: only the flood holds the copies.
            content=f"Mọi người cùng ủng hộ dự án xây cầu mới của huyện nhà nhé, rất ý nghĩa {i}",
        ).get_json()["id"]
        for i in range(4)
    ]
    statuses = [stored(db, i) for i in ids]
    assert [c.decision_reasons for c in statuses] == [None, None, ["flood"], ["flood"]]
    assert {c.cluster_id for c in statuses} == {ids[0]}
    run_workers()
    statuses = [stored(db, i) for i in ids]
    assert all(c.analysis is not None for c in statuses), "every comment is scored"
    assert [c.status for c in statuses[:2]] == ["published", "published"]
    assert all(c.status == "review" and "flood" in c.decision_reasons for c in statuses[2:])
    with db.session() as session:
        from moderation.storage.queue_queries import cluster_sizes

        assert cluster_sizes(session, [ids[0]]) == {ids[0]: 4}
    short = [
        widget_post(app, client, site, ip=f"198.51.100.{60 + i}", name=f"R{i}", content="Hay quá!")
        for i in range(4)
    ]
    assert {stored(db, r.get_json()["id"]).status for r in short} == {"pending"}, (
        "short replies repeat naturally"
    )


def test_a_cluster_is_rejected_in_one_action(app, client, db, site):
    ids = [
        widget_post(
            app,
            client,
            site,
            ip=f"198.51.100.{80 + i}",
            name=f"Bot {i}",
            content="Nhận làm bằng đại học giá rẻ, uy tín, giao bằng tận nhà trong tuần",
        ).get_json()["id"]
        for i in range(3)
    ]
    with db.session() as session:
        moderator = services.create_moderator(session, "linh", "correct horse battery")
        identity = services.ModeratorIdentity(moderator.id, "linh", "moderator", None)
    with db.session() as session:
        result = review.decide_cluster(session, identity, ids[0], "reject", "Spam/quảng cáo")
    assert sorted(result.decided) == sorted(ids)
    assert {stored(db, i).status for i in ids} == {"rejected"}


def test_bans_by_email_and_by_name_and_address_hold_and_are_scored(client, db, site, redis_conn, run_workers):
    with db.session() as session:
        session.add(Ban(site_id=site["id"], kind="email", value="troll@example.vn"))
        session.add(Ban(site_id=site["id"], kind="name_ip", value="kẻ phá|203.0.113.66"))
    by_email = server_post(client, site, email="Troll@example.vn", content="Bình luận bình thường thôi mà.")
    by_name_ip = server_post(
        client, site, ip="203.0.113.66", name="Kẻ phá", content="Một bình luận khác hẳn."
    )
    same_name_elsewhere = server_post(
        client, site, ip="203.0.113.67", name="Kẻ phá", content="Lại một câu nữa."
    )
    assert redis_conn.llen("moderation:pending") == 3
    run_workers()
    email_ban = stored(db, by_email.get_json()["id"])
    assert (email_ban.status, email_ban.decision_reasons) == ("review", ["banned_author"])
    assert email_ban.analysis["reasons"] == ["banned_author"], "scored, held by the rule"
    assert stored(db, by_name_ip.get_json()["id"]).decision_reasons == ["banned_author"]
    assert stored(db, same_name_elsewhere.get_json()["id"]).status == "published"
    with db.session() as session:
        services.update_site_policy(
            session, site["id"], {"rule_actions": {"banned_author": "reject"}}, actor="t"
        )
    rejected = server_post(client, site, email="troll@example.vn", content="Thử lần nữa xem sao.")
    run_workers()
    assert stored(db, rejected.get_json()["id"]).status == "rejected"


def test_banning_from_the_dashboard_bans_at_the_door_and_undo_lifts_it(client, db, site):
    first = server_post(
        client, site, ip="203.0.113.70", name="Hay gây sự", content="Câu đầu tiên của tôi đây."
    )
    with db.session() as session:
        moderator = services.create_moderator(session, "linh", "correct horse battery")
        identity = services.ModeratorIdentity(moderator.id, "linh", "moderator", None)
        author_id = session.get(Comment, first.get_json()["id"]).author_id
    with db.session() as session:
        review.set_author_status(session, identity, author_id, "banned", "spam")
    with db.session() as session:
        assert [b.value for b in session.scalars(select(Ban))] == ["hay gây sự|203.0.113.70"]
    with db.session() as session:
        review.undo_last(session, identity)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Ban)) == 0
    later = server_post(client, site, ip="203.0.113.70", name="Hay gây sự", content="Câu thứ hai, khác hẳn.")
    assert stored(db, later.get_json()["id"]).status == "pending"


def test_readers_report_a_published_comment_into_the_reported_queue(app, client, db, site):
    comment_id = widget_post(app, client, site).get_json()["id"]
    with db.session() as session:
        session.get(Comment, comment_id).status = "published"
    url = f"/api/v1/comments/{comment_id}/reports?key={site['widget_key']}"
    headers = {"Origin": ORIGIN}
    first = client.post(
        url, json={"reason": "Xúc phạm"}, headers=headers, environ_base={"REMOTE_ADDR": "198.51.100.90"}
    )
    assert first.status_code == 202 and first.get_json() == {"id": comment_id, "status": "reported"}
    again = client.post(url, json={}, headers=headers, environ_base={"REMOTE_ADDR": "198.51.100.90"})
    assert again.status_code == 202
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 1, "one reader counts once"
        moderator = services.create_moderator(session, "linh", "correct horse battery")
        identity = services.ModeratorIdentity(moderator.id, "linh", "moderator", None)
    with db.session() as session:
        page = review.queue_page(session, identity, QueueFilter(tab="reported"), page=1, per_page=10)
        assert [c.id for c in page.items] == [comment_id]
    held = widget_post(
        app, client, site, ip="198.51.100.91", name="Khác", content="Một ý kiến khác hoàn toàn."
    )
    not_published = f"/api/v1/comments/{held.get_json()['id']}/reports?key={site['widget_key']}"
    assert client.post(not_published, json={}, headers=headers).status_code == 404


def test_trusted_authors_get_a_lighter_review(client, db, site, run_workers):
    with db.session() as session:
        services.update_abuse_settings(session, site["id"], {"author_rate": "100/minute"}, actor="t")
    for i in range(5):
        server_post(client, site, name="Độc giả lâu năm", content=f"Bài viết số {i} rất hữu ích cho bà con.")
    with db.session() as session:
        for comment in session.scalars(select(Comment)):
            comment.status, comment.decided_by = "published", "model"
        services.update_site_policy(
            session, site["id"], {"attributes": {"toxicity": {"review": 0.0, "reject": None}}}, actor="t"
        )
    trusted = server_post(
        client, site, name="Độc giả lâu năm", content="Một góp ý thẳng thắn cho chính quyền xã."
    )
    newcomer = server_post(
        client, site, name="Người mới", content="Một góp ý thẳng thắn cho chính quyền huyện."
    )
    run_workers()
    assert stored(db, trusted.get_json()["id"]).status == "published"
    assert stored(db, newcomer.get_json()["id"]).status == "review"


def test_a_same_origin_page_is_recognised_by_sec_fetch_site(client, db, site):
    """Browsers send no Origin on same-origin GETs; Sec-Fetch-Site (not settable by pages) stands in."""
    with db.session() as session:
        stored = session.get(Site, site["id"])
        services.set_origins(session, stored, [*stored.origins, "http://localhost"], actor="t")
    url = f"/api/v1/widget/config?key={site['widget_key']}"
    assert client.get(url, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert client.get(url, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.get(url).status_code == 403


def test_behind_a_trusted_proxy_the_reader_is_the_forwarded_address(app, db, site):
    from moderation.app import create_app

    settings = app.extensions["moderation"].settings.with_overrides(proxy_hops=1)
    proxied = create_app(settings=settings)
    client = proxied.test_client()
    response = widget_post(
        proxied, client, site, ip="10.0.0.1", headers_extra={"X-Forwarded-For": "198.51.100.123"}
    )
    assert response.status_code == 202
    assert stored(db, response.get_json()["id"]).client_ip == "198.51.100.123"
    proxied.extensions["moderation"].close()


def _limit_keys(redis_conn) -> set[str]:
    return {key.decode() for key in redis_conn.scan_iter(f"{POST_LIMITS_PREFIX}:*")}


def test_the_posting_limits_count_the_reader_and_the_author_by_these_keys(app, client, site, redis_conn):
    """The windows' keys: a reader by the connection (widget) or ``client.ip`` (a site's server), an
    author by e-mail or else name, lower-cased; a post with neither counts in no window."""
    site_id = site["id"]
    assert widget_post(app, client, site, ip="198.51.100.20", name="  Lò Văn Páo ").status_code == 202
    widget = _limit_keys(redis_conn)
    assert {key.rsplit(":", 1)[0] for key in widget} == {
        f"{POST_LIMITS_PREFIX}:reader:{site_id}:198.51.100.20",
        f"{POST_LIMITS_PREFIX}:author:{site_id}:lò văn páo",
    }
    assert len(widget) == 4, "a minute and an hour window each"
    server_post(client, site, ip="203.0.113.50", name="Lan:", email="Lan@Example.vn", content=f"{TEXT} 2")
    server = _limit_keys(redis_conn) - widget
    assert {key.rsplit(":", 1)[0] for key in server} == {
        f"{POST_LIMITS_PREFIX}:reader:{site_id}:203.0.113.50",
        f"{POST_LIMITS_PREFIX}:author:{site_id}:lan@example.vn",
    }
    server_post(client, site, name="Lan:", content=f"{TEXT} 3")
    no_address = _limit_keys(redis_conn) - widget - server
    assert {key.rsplit(":", 1)[0] for key in no_address} == {f"{POST_LIMITS_PREFIX}:author:{site_id}:lan:"}, (
        "no reader window without an address; a name ending in ':' is still an author"
    )


def test_a_reader_may_report_ten_times_an_hour(app, client, db, site):
    comment_id = widget_post(app, client, site).get_json()["id"]
    with db.session() as session:
        session.get(Comment, comment_id).status = "published"
    url = f"/api/v1/comments/{comment_id}/reports?key={site['widget_key']}"

    def report(ip: str) -> int:
        return client.post(
            url, json={}, headers={"Origin": ORIGIN}, environ_base={"REMOTE_ADDR": ip}
        ).status_code

    assert [report("198.51.100.60") for _ in range(11)] == [202] * 10 + [429]
    assert report("198.51.100.61") == 202, "another reader is not limited"


def test_flask_limiters_app_wide_hook_does_not_run_on_each_request(app):
    """Every limit is a decorator on its view; the app-wide hook would only cost each request."""
    from moderation.limits import limiter

    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])


def test_the_widget_config_names_the_time_zone_to_show_times_in(client, site):
    config = client.get(f"/api/v1/widget/config?key={site['widget_key']}", headers={"Origin": ORIGIN})
    assert config.status_code == 200
    assert config.get_json()["timezone"] == "Asia/Ho_Chi_Minh", "the newsroom's zone when the site names none"
