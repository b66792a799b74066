"""The dashboard in headless Chromium: a moderator's real keystrokes and clicks, checked in the database.

The ``page`` fixture fails any test during which a JavaScript dialog opened, a script error was
thrown or the Content-Security-Policy blocked something.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from moderation.services import review
from moderation.services.accounts import ModeratorIdentity
from moderation.settings import DEFAULT_MODEL_DIR
from moderation.storage.models import Author, Comment, utcnow
from tests.e2e.helpers import sign_in
from tests.e2e.seed import add_comment, make_moderator


def held(db, site, texts: list[str], **extra) -> list[str]:
    """Comments held for review, oldest first in the list's order."""
    now = utcnow()
    return [
        add_comment(db, site, text, created=now - timedelta(minutes=len(texts) - i), **extra)
        for i, text in enumerate(texts)
    ]


def stored(db, comment_id: str) -> Comment:
    with db.session() as session:
        return session.get(Comment, comment_id)


def current_text(page) -> str:
    return page.locator("#queue-region .card.is-current .content").inner_text()


def test_review_a_queue_with_the_keyboard(page, db, site, linh):
    ids = held(db, site, ["một ngu", "hai ngu", "ba ngu", "bốn ngu"], highlight=["ngu"])
    sign_in(page, "linh")
    expect(page.locator(".tab[aria-current='page'] .count")).to_have_text("4")
    expect(page.locator(".card.is-current")).to_have_count(1)
    assert current_text(page) == "một ngu"
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert current_text(page) == "ba ngu"
    page.keyboard.press("k")
    assert current_text(page) == "hai ngu"
    assert page.locator(".card.is-current mark").inner_text() == "ngu", "the span is highlighted"

    page.keyboard.press("a")
    expect(page.locator(f"#c-{ids[1]}")).to_have_count(0)
    expect(page.locator("#queue-region .message.success")).to_contain_text("Đã duyệt bình luận")
    expect(page.locator("#announcer")).to_contain_text("Đã duyệt bình luận")  # read out by screen readers
    assert stored(db, ids[1]).status == "published"
    assert current_text(page) == "ba ngu", "the next comment takes the decided one's place"

    page.keyboard.press("r")
    expect(page.locator(".card.is-current details.reject-panel")).to_have_attribute("open", "")
    page.keyboard.press("2")
    expect(page.locator(f"#c-{ids[2]}")).to_have_count(0)
    comment = stored(db, ids[2])
    assert (comment.status, comment.decision_reasons) == ("rejected", ["Thù ghét"])
    expect(page.locator(".tab[aria-current='page'] .count")).to_have_text("2")

    page.keyboard.press("u")
    expect(page.locator(f"#c-{ids[2]}")).to_have_count(1)
    expect(page.locator("#queue-region .message.success")).to_contain_text("Đã hoàn tác")
    assert stored(db, ids[2]).status == "review"

    page.keyboard.press("?")
    expect(page.locator("dialog#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("dialog#help")).to_be_hidden()


def test_bulk_reject_with_a_listed_reason_then_undo(page, db, site, linh):
    ids = held(db, site, ["quảng cáo 1", "quảng cáo 2", "ý kiến hay"])
    sign_in(page, "linh")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.locator(".card.is-current input.select").click()  # by mouse, then the keyboard still works
    expect(page.locator(".card.is-current input.select")).to_be_checked()
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(page.locator("[data-selected-count]")).to_have_text("Đã chọn 2")
    page.get_by_label("Lý do từ chối các bình luận đã chọn").select_option(label="Spam/quảng cáo")
    page.get_by_role("button", name="Từ chối các mục đã chọn").click()
    expect(page.locator("#queue-region .message.success")).to_contain_text("Đã từ chối 2 bình luận")
    assert [stored(db, i).status for i in ids] == ["rejected", "rejected", "review"]
    assert stored(db, ids[0]).decision_reasons == ["Spam/quảng cáo"]
    expect(page.locator("#queue-region .card")).to_have_count(1)

    page.locator("#queue-region .message.success").get_by_role("button", name="Hoàn tác").click()
    expect(page.locator("#queue-region .card")).to_have_count(3)
    assert [stored(db, i).status for i in ids] == ["review"] * 3


def test_ban_an_author_rejects_their_waiting_comments(page, db, site, linh):
    troll = held(db, site, ["Tao sẽ quay lại", "Cấm cũng vô ích"], author="Troll")
    other = held(db, site, ["Bình luận của người khác"], author="Hà")
    sign_in(page, "linh")
    card = page.locator(f"#c-{troll[0]}")
    card.get_by_text("Tác giả…").click()
    card.get_by_label("Lý do (không bắt buộc)").fill("spam liên tục")
    card.get_by_role("button", name="Cấm tác giả này").click()
    expect(page.locator("#queue-region .message.success")).to_contain_text("Đã cấm Troll; 2 bình luận")
    expect(page.locator("#queue-region .card")).to_have_count(1)
    assert [stored(db, i).status for i in troll] == ["rejected", "rejected"]
    assert stored(db, other[0]).status == "review"
    with db.session() as session:
        assert session.get(Author, stored(db, troll[0]).author_id).status == "banned"


def test_a_comment_decided_by_someone_else_meanwhile_is_not_overwritten(page, db, site, linh, events):
    events.allow_status(409)  # the answer this test is about
    ids = held(db, site, ["tranh cãi"])
    other = make_moderator(db, "minh")
    sign_in(page, "linh")
    with db.session() as session:
        review.decide(
            session, ModeratorIdentity(other, "minh", "moderator", None), ids[0], "reject", "Lạc đề"
        )
    page.keyboard.press("a")
    expect(page.locator("#queue-region .message.error")).to_contain_text("minh đã xử lý bình luận này")
    assert stored(db, ids[0]).status == "rejected"


def test_reader_text_with_markup_is_shown_literally_and_never_runs(page, db, site, linh):
    payload = '<script>window.__xss = "script"</script><img src=x onerror="window.__xss=\'img\'">'
    name = "<img src=x onerror=\"window.__xss='name'\">"
    ids = held(
        db,
        site,
        [payload],
        author=name,
        title="<script>window.__xss='title'</script>",
        url="javascript:window.__xss='url'",
        highlight=["<script>"],
    )
    sign_in(page, "linh")
    card = page.locator(f"#c-{ids[0]}")
    assert card.locator(".content").inner_text() == payload
    assert card.locator(".author").inner_text() == name
    assert card.locator(".article").inner_text().endswith("<script>window.__xss='title'</script>")
    assert card.locator(".article a").count() == 0, "a javascript: URL is not a link"
    assert page.locator("#queue-region img").count() == 0
    # Reject with the payload as a free-text reason, then read it back in the rejected tab.
    page.keyboard.press("r")
    page.keyboard.press("7")
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    expect(card).to_have_count(0)
    page.get_by_role("link", name="Đã từ chối").click()
    expect(page.locator(".mod-reason q")).to_have_text(name)
    assert page.evaluate("window.__xss") is None


def test_the_language_switch(page, linh):
    sign_in(page, "linh")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("link", name="To review")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.get_by_role("link", name="Cần duyệt")).to_be_visible()


@pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "CURRENT").exists(),
    reason="the shipped model is not under moderation/models yet",
)
def test_a_threshold_changed_by_an_admin_holds_the_next_comment(page, app, db, site, run_workers):
    from tests.e2e.seed import PASSWORD

    with db.session() as session:
        from moderation import services

        _site, key = services.create_site(session, "tin-tuc")
        services.create_moderator(session, "chief", PASSWORD, "admin")
    api = app.test_client()
    body = {
        "article_id": "a-7",
        "article_title": "Mùa lúa chín ở Mù Cang Chải",
        "author": {"name": "Khách"},
        "content": "Cảnh đẹp quá, cảm ơn phóng viên đã ghi lại những hình ảnh này.",
    }

    def post_and_score(reader: str) -> Comment:
        # A different reader each time: the same text twice from one reader is held as a repeat.
        comment = {**body, "author": {"name": reader}}
        response = api.post("/api/v1/comments", json=comment, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 202
        run_workers()
        return stored(db, response.get_json()["id"])

    assert post_and_score("Khách").status == "published"
    sign_in(page, "chief")
    page.get_by_role("link", name="Chính sách").click()
    page.locator("tr", has_text="tin-tuc").get_by_role("link", name="Sửa chính sách").click()
    page.get_by_label("Độc hại – Giữ lại chờ duyệt từ").fill("0")
    page.get_by_role("button", name="Lưu chính sách").click()
    expect(page.locator(".message.success")).to_contain_text("Đã lưu chính sách")

    comment = post_and_score("Khách khác")
    assert comment.status == "review" and "toxicity" in comment.decision_reasons
    page.get_by_role("link", name="Hàng đợi").click()
    card = page.locator(f"#c-{comment.id}")
    expect(card).to_contain_text("Cảnh đẹp quá")
    expect(card.locator(".chip-toxicity")).to_have_text("Ngôn từ độc hại")
