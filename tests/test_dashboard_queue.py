"""The queue through Flask's test client: filters, bulk actions, undo, bans, cards, query count."""

from __future__ import annotations

import re

from sqlalchemy import event

from moderation.storage.models import Author, Comment, Report
from tests.e2e.helpers import client_sign_in, csrf_token, htmx, status_of
from tests.e2e.seed import add_comment


def test_filters_search_without_accents_and_by_score(client, db, site, linh):
    add_comment(db, site, "Tôi KHÔNG đồng ý", scores={"toxicity": 0.6, "hate_speech": 0.1, "spam": 0.0})
    add_comment(
        db, site, "Quảng cáo", reasons=("spam",), scores={"toxicity": 0.1, "hate_speech": 0.0, "spam": 0.9}
    )
    client_sign_in(client, "linh")

    def shown(query: str) -> list[str]:
        html = client.get(f"/dashboard/queue?{query}").get_data(as_text=True)
        return re.findall(r'<p class="content">([^<]*)</p>', html)

    assert shown("q=khong+dong+y") == ["Tôi KHÔNG đồng ý"]
    assert shown("reason=spam") == ["Quảng cáo"]
    assert shown("attribute=spam&min_score=50") == ["Quảng cáo"]
    assert shown("order=score") == ["Quảng cáo", "Tôi KHÔNG đồng ý"]
    assert "một số từ 0 đến 100" in client.get("/dashboard/queue?min_score=abc").get_data(as_text=True)


def test_bulk_reject_then_undo(client, db, site, linh):
    ids = [add_comment(db, site, f"spam {i}") for i in range(3)]
    client_sign_in(client, "linh")
    token = csrf_token(client, "/dashboard/queue")
    response = client.post(
        "/dashboard/comments/bulk",
        data={"ids": ids[:2], "action": "reject", "bulk_reason_code": "spam"},
        headers=htmx(token),
    )
    assert response.status_code == 200
    assert "Đã từ chối 2 bình luận." in response.get_data(as_text=True)
    assert [status_of(db, i) for i in ids] == ["rejected", "rejected", "review"]
    with db.session() as session:
        assert session.get(Comment, ids[0]).decision_reasons == ["Spam/quảng cáo"], "stored in Vietnamese"
    undone = client.post("/dashboard/undo", headers=htmx(token))
    assert "khôi phục 2 bình luận" in undone.get_data(as_text=True)
    assert [status_of(db, i) for i in ids] == ["review"] * 3
    missing = client.post("/dashboard/comments/bulk", data={"action": "reject"}, headers=htmx(token))
    assert missing.status_code == 422 and "Hãy chọn ít nhất một bình luận" in missing.get_data(as_text=True)


def test_reject_needs_a_reason_and_ban_rejects_waiting_comments(client, db, site, linh):
    first = add_comment(db, site, "một", author="Troll")
    second = add_comment(db, site, "hai", author="Troll")
    client_sign_in(client, "linh")
    token = csrf_token(client, "/dashboard/queue")
    refused = client.post(
        f"/dashboard/comments/{first}/decision", data={"action": "reject"}, headers=htmx(token)
    )
    assert refused.status_code == 422 and "hãy chọn hoặc nhập lý do" in refused.get_data(as_text=True)
    with db.session() as session:
        author_id = session.get(Comment, first).author_id
    banned = client.post(
        f"/dashboard/authors/{author_id}/status", data={"status": "banned"}, headers=htmx(token)
    )
    assert "Đã cấm Troll; 2 bình luận đang chờ bị từ chối" in banned.get_data(as_text=True)
    assert status_of(db, first) == status_of(db, second) == "rejected"
    with db.session() as session:
        assert session.get(Author, author_id).status == "banned"
        assert session.get(Comment, first).decision_reasons == ["Tác giả bị cấm"]
    client.post(f"/dashboard/authors/{author_id}/status", data={"status": "trusted"}, headers=htmx(token))
    with db.session() as session:
        assert session.get(Author, author_id).status == "trusted"


def test_cards_show_history_reports_parent_and_replies_under_it(client, db, site, linh):
    parent = add_comment(db, site, "Gốc đã đăng", status="published", reasons=(), author="Hà")
    reply = add_comment(db, site, "Trả lời bị giữ", parent_id=parent, author="Bảo")
    held_parent = add_comment(db, site, "Cha bị giữ", author="Bảo")
    add_comment(db, site, "Con bị giữ", parent_id=held_parent, author="Hà")
    with db.session() as session:
        session.add(Report(comment_id=parent, site_id=site.id, reason="spam"))
    client_sign_in(client, "linh")
    html = client.get("/dashboard/queue").get_data(as_text=True)
    assert "Trả lời Hà:" in html and "Gốc đã đăng" in html, "the parent off the page is quoted"
    order = re.findall(r'<p class="content">([^<]*)</p>', html)
    assert order.index("Con bị giữ") == order.index("Cha bị giữ") + 1, "a reply follows its parent"
    assert 'class="card depth-1"' in html
    assert "2 bình luận · 0 đã duyệt · 0 bị từ chối" in html
    reported = client.get("/dashboard/queue?tab=reported").get_data(as_text=True)
    assert "1 báo cáo từ bạn đọc" in reported and reply not in reported


def test_the_queue_page_runs_a_constant_number_of_queries(client, db, site, linh, app):
    client_sign_in(client, "linh")
    engine = app.extensions["moderation"].db.engine
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    counts = []
    for batch in (3, 30):
        for i in range(batch):
            article = f"x-{batch}-{i}"
            parent = add_comment(
                db, site, f"gốc {i}", status="published", reasons=(), author=f"A{i}", article=article
            )
            add_comment(db, site, f"trả lời {i}", parent_id=parent, author=f"B{i}", article=article)
            with db.session() as session:
                session.add(Report(comment_id=parent, site_id=site.id))
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            assert client.get("/dashboard/queue").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", record)
        counts.append(len([s for s in statements if s.lstrip().upper().startswith("SELECT")]))
    assert counts[0] == counts[1], counts


def test_notes_are_escaped_checked_and_never_reach_readers(client, db, site, linh):
    comment = add_comment(db, site, "bình luận", status="published")
    other = add_comment(db, site, "bình luận khác")
    client_sign_in(client, "linh")
    token = csrf_token(client, "/dashboard/queue")
    note = '<img src=x onerror="alert(1)"> gọi lại cho tác giả'
    empty = client.post(f"/dashboard/comments/{other}/note", data={"note": "  "}, headers=htmx(token))
    assert empty.status_code == 422
    long = client.post(f"/dashboard/comments/{other}/note", data={"note": "x" * 2001}, headers=htmx(token))
    assert long.status_code == 422
    added = client.post(f"/dashboard/comments/{other}/note", data={"note": note}, headers=htmx(token))
    assert added.status_code == 200
    html = added.get_data(as_text=True)
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; gọi lại cho tác giả" in html
    assert "<img src=x" not in html
    client.post(f"/dashboard/comments/{comment}/note", data={"note": "ghi chú bí mật"}, headers=htmx(token))
    thread = client.get("/api/v1/articles/a-1/comments?site=demo").get_data(as_text=True)
    assert "bình luận" in thread and "bí mật" not in thread
    with db.session() as session:
        assert session.get(Comment, comment).status == "published", "a note changes nothing else"
