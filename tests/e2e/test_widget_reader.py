"""What the widget remembers for its reader, and what it tells them, in headless Chromium (issue 16).

The reader's name and email and the ids of their own comments are kept in the page's
localStorage; times are shown in the site's time zone whatever the browser's; a post refused for
being too fast, or over the site's allowance, says which and when to try again; a report is
confirmed once.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from moderation import services
from moderation.storage.models import Comment
from tests.e2e.guard import assert_clean, watch
from tests.e2e.seed import demo_site
from tests.e2e.test_widget_browser import (
    FOLLOW_TIMEOUT,
    comments,
    error_of,
    main_form,
    open_demo,
    published,
    stored,
    widget,
    write,
)

NAME, EMAIL = "Nguyễn Thị Lan", "lan@example.vn"
HELD = "Bình luận của bạn sẽ hiển thị sau khi được duyệt"
WAITING = "Bình luận của bạn đang chờ duyệt"
RESERVED = "Tên này dành cho ban biên tập, vui lòng dùng tên khác"


@pytest.fixture
def site(db, live_server):
    return demo_site(db, live_server, min_seconds=1)


def send(page, content: str, name: str = NAME, email: str | None = EMAIL) -> None:
    write(main_form(page), name, content, email=email)
    main_form(page).get_by_role("button", name="Gửi bình luận").click()
    expect(widget(page).locator(".mw-comment.mw-mine .mw-content").last).to_have_text(content)


def test_the_readers_name_and_email_are_remembered_for_replies_and_the_next_visit(page, db, site):
    parent = published(db, site, "Mong huyện tiếp tục nhân rộng mô hình khu dân cư kiểu mẫu.")
    open_demo(page)
    send(page, "Bài viết rất hay, cảm ơn tác giả.")
    thread = widget(page).locator(f'.mw-comment[data-id="{parent}"]')
    thread.get_by_role("button", name="Trả lời", exact=True).click()
    reply = thread.get_by_role("form", name="Trả lời Lò Thị Mai")
    expect(reply.get_by_label("Họ và tên")).to_have_value(NAME)
    expect(reply.get_by_label("Email (không bắt buộc, không hiển thị)")).to_have_value(EMAIL)
    expect(reply.get_by_label("Nội dung bình luận")).to_be_focused()

    page.reload()
    expect(main_form(page).get_by_role("button", name="Gửi bình luận")).to_be_enabled()
    expect(main_form(page).get_by_label("Họ và tên")).to_have_value(NAME)
    expect(main_form(page).get_by_label("Email (không bắt buộc, không hiển thị)")).to_have_value(EMAIL)
    expect(main_form(page).get_by_label("Nội dung bình luận")).to_have_value("")


def test_a_readers_own_held_and_pending_comments_stay_visible_to_them_after_a_reload(
    page, db, site, run_workers
):
    held_text = "Thằng này láo thật, đồ ngu như bò <img src=x onerror=window.__xss=1>"
    open_demo(page)
    send(page, held_text)
    run_workers()
    held_id = comments(db)[0].id
    assert stored(db, held_id).status in ("review", "rejected")
    if stored(db, held_id).status == "rejected":  # the model may reject it outright: hold it for the test
        with db.session() as session:
            session.get(Comment, held_id).status = "review"
    waiting_text = "Đường lên bản mùa này đẹp quá, mong tỉnh sớm nâng cấp."
    send(page, waiting_text)
    page.reload()
    mine = widget(page).locator(".mw-comment.mw-mine")
    expect(mine).to_have_count(2)
    expect(mine.locator(".mw-content")).to_have_text([held_text, waiting_text])
    expect(mine.nth(0).locator(".mw-badge")).to_have_text(HELD)
    expect(mine.nth(1).locator(".mw-badge")).to_have_text(WAITING)
    expect(mine.nth(0).locator(".mw-author")).to_have_text(NAME)
    assert widget(page).locator("img").count() == 0 and page.evaluate("window.__xss") is None
    expect(widget(page).locator(".mw-empty")).to_be_hidden()
    # The waiting one is followed as after sending: published without another reload.
    run_workers()
    expect(mine.nth(1).locator(".mw-badge")).to_have_count(0, timeout=FOLLOW_TIMEOUT)
    page.reload()
    expect(widget(page).locator(".mw-comment")).to_have_count(2)
    expect(widget(page).locator(".mw-comment:not(.mw-mine) .mw-content")).to_have_text([waiting_text])
    # A rejected one is not shown again, and forgotten.
    with db.session() as session:
        session.get(Comment, held_id).status = "rejected"
    page.reload()
    expect(widget(page).locator(".mw-comment .mw-content")).to_have_text([waiting_text])
    # The thread is shown first; the reader's own ids are checked and forgotten after it (a page
    # read at once could still hold the id: CI saw that race).
    page.wait_for_function(
        "id => !JSON.stringify(Object.entries(localStorage)).includes(id)", arg=held_id, timeout=10_000
    )
    assert held_id not in page.evaluate("JSON.stringify(Object.entries(localStorage))")


def test_a_post_sent_sooner_than_the_sites_minimum_says_when_to_try_again(page, db, site):
    with db.session() as session:
        current = services.abuse_settings(session, site.id).to_dict()
        services.update_abuse_settings(session, site.id, {**current, "min_seconds": 30}, actor="test")
    open_demo(page)
    write(main_form(page), NAME, "Một góp ý ngắn gửi rất nhanh.")
    main_form(page).get_by_role("button", name="Gửi bình luận").click()
    message = main_form(page).locator(".mw-form-error")
    expect(message).to_have_text(re.compile(r"^Bạn gửi quá nhanh, vui lòng thử lại sau (2\d|3[01]) giây$"))
    expect(main_form(page).get_by_role("button", name="Gửi bình luận")).to_be_enabled()
    expect(main_form(page).get_by_label("Nội dung bình luận")).to_have_value("Một góp ý ngắn gửi rất nhanh.")
    assert comments(db) == [], "nothing was sent"


def test_a_post_over_the_hourly_allowance_says_too_many_and_in_how_many_minutes(page, db, site, events):
    """A refusal that lasts minutes is an allowance spent, not a burst: "quá nhanh" would be wrong."""
    events.allow_status(429)  # the refusal this test provokes
    with db.session() as session:
        current = services.abuse_settings(session, site.id).to_dict()
        services.update_abuse_settings(session, site.id, {**current, "author_rate": "1/hour"}, actor="test")
    open_demo(page)
    send(page, "Bài viết rất hay, cảm ơn tác giả.")
    write(main_form(page), NAME, "Thêm một ý nữa: mong tỉnh sớm làm đường.", email=EMAIL)
    main_form(page).get_by_role("button", name="Gửi bình luận").click()
    message = main_form(page).locator(".mw-form-error")
    expect(message).to_have_text(
        re.compile(r"^Bạn đã gửi nhiều bình luận, vui lòng thử lại sau (59|60) phút$")
    )
    expect(message).to_have_attribute("role", "alert")
    expect(main_form(page).get_by_label("Nội dung bình luận")).to_have_value(
        "Thêm một ý nữa: mong tỉnh sớm làm đường."
    )
    assert len(comments(db)) == 1


def test_the_report_confirmation_is_shown_once(page, db, site):
    target = published(db, site, "Toàn bọn ăn hại, viết bài để làm gì.", author="Ẩn danh")
    open_demo(page)
    thread = widget(page).locator(f'.mw-comment[data-id="{target}"]')
    thread.get_by_role("button", name="Báo cáo vi phạm").click()
    thread.get_by_role("button", name="Gửi báo cáo").click()
    done = thread.locator(".mw-done")
    expect(done).to_have_text("Đã gửi báo cáo")
    expect(done).to_be_focused()
    expect(thread.get_by_text("Đã gửi báo cáo")).to_have_count(1)
    expect(thread.get_by_role("button", name="Báo cáo vi phạm")).to_have_count(0)
    expect(widget(page).locator(".mw-sr")).not_to_have_text("Đã gửi báo cáo")


def test_a_reader_posing_as_the_newsroom_is_told_the_name_is_reserved(page, db, site, events):
    """The newsroom's replies are signed "Ban biên tập <site>": a reader cannot take that name."""
    events.allow_status(422)  # the refused posts whose error is shown next to the name
    parent = published(db, site, "Mong huyện tiếp tục nhân rộng mô hình khu dân cư kiểu mẫu.")
    open_demo(page)
    write(main_form(page), "ban bien tap Demo-Article", "Tòa soạn xin đính chính: số liệu đã được cập nhật.")
    main_form(page).get_by_role("button", name="Gửi bình luận").click()
    expect(error_of(main_form(page), "Họ và tên")).to_have_text(RESERVED)
    expect(main_form(page).get_by_label("Họ và tên")).to_be_focused()
    expect(main_form(page).locator(".mw-form-error")).to_have_text(
        "Vui lòng kiểm tra lại các ô được đánh dấu."
    )
    expect(main_form(page).get_by_role("button", name="Gửi bình luận")).to_be_enabled()
    expect(main_form(page).get_by_label("Nội dung bình luận")).to_have_value(
        "Tòa soạn xin đính chính: số liệu đã được cập nhật."
    )
    # In a reply too; with the reader's own name the same reply goes through.
    thread = widget(page).locator(f'.mw-comment[data-id="{parent}"]')
    thread.get_by_role("button", name="Trả lời", exact=True).click()
    reply = thread.get_by_role("form", name="Trả lời Lò Thị Mai")
    write(reply, "BBT Báo Demo", "Cảm ơn bạn đã góp ý.")
    reply.get_by_role("button", name="Gửi trả lời").click()
    expect(error_of(reply, "Họ và tên")).to_have_text(RESERVED)
    assert [c.id for c in comments(db)] == [parent], "nothing was stored"
    assert "biên tập" not in page.evaluate("JSON.stringify(Object.entries(localStorage))").lower()
    assert "bien tap" not in page.evaluate("JSON.stringify(Object.entries(localStorage))").lower()
    reply.get_by_label("Họ và tên").fill(NAME)
    reply.get_by_role("button", name="Gửi trả lời").click()
    expect(widget(page).locator(".mw-comment.mw-mine .mw-content")).to_have_text("Cảm ơn bạn đã góp ý.")
    expect(widget(page).locator(".mw-comment.mw-mine .mw-author")).to_have_text(NAME)


def test_times_are_shown_in_the_sites_time_zone_not_the_browsers(browser, live_server, db, site, events):
    at = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)  # 00:30 on the 26th in Hà Nội
    published(db, site, "Một bình luận đăng lúc nửa đêm giờ Việt Nam.", created=at)
    context = browser.new_context(base_url=live_server, locale="vi-VN", timezone_id="America/New_York")
    page = context.new_page()
    watch(context, page, events)
    open_demo(page)
    expect(widget(page).locator(".mw-comment time")).to_have_text("26/11/2026 00:30")
    assert page.evaluate("new Date(Date.UTC(2026, 10, 25, 17, 30)).getHours()") == 12, "in New York"
    context.close()
    assert_clean(events)
