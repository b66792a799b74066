"""The comment widget on the demo article page, in headless Chromium: what a reader sees and does,
checked in the database. The demo page calls the API cross-origin (127.0.0.1 <-> localhost), so
every call goes through CORS exactly as on a newspaper's page.

The ``page`` fixture fails any test during which a JavaScript dialog opened, a script error was
thrown or the Content-Security-Policy blocked something.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from moderation.storage.models import Comment, Report, utcnow
from tests.e2e.guard import assert_clean, watch
from tests.e2e.seed import DEMO_ARTICLE, add_comment, demo_site
from tests.e2e.server import serve

CLEAN = "Bài viết rất hay, chúc Sìn Hồ ngày càng phát triển, bà con no ấm."
#: Published within seconds in the tests: the first status check comes after 1 s, then 2 s, 3 s...
FOLLOW_TIMEOUT = 20_000


@pytest.fixture
def site(db, live_server):
    return demo_site(db, live_server, min_seconds=1)


def published(db, site, content: str, **extra) -> str:
    extra.setdefault("author", "Lò Thị Mai")
    return add_comment(db, site, content, status="published", reasons=(), article=DEMO_ARTICLE, **extra)


def stored(db, comment_id: str) -> Comment:
    with db.session() as session:
        return session.get(Comment, comment_id)


def comments(db) -> list[Comment]:
    with db.session() as session:
        return list(session.scalars(select(Comment).order_by(Comment.created_at)))


def widget(page):
    return page.locator("#binh-luan section.mw")


def open_demo(page) -> None:
    page.goto("/demo")
    expect(widget(page).locator("form.mw-form button.mw-send")).to_be_enabled()
    # The widget adds its stylesheet itself, and nothing else waits for it: tests that measure the
    # layout (the hidden honeypot, the size of the buttons) need it applied.
    page.wait_for_function("() => !!document.querySelector('link[data-mw-css]')?.sheet")


def write(form, name: str, content: str, email: str | None = None) -> None:
    form.get_by_label("Họ và tên").fill(name)
    if email is not None:
        form.get_by_label("Email (không bắt buộc, không hiển thị)").fill(email)
    form.get_by_label("Nội dung bình luận").fill(content)


def error_of(form, label: str):
    """The error message shown next to a field."""
    return form.locator(".mw-field", has=form.page.get_by_label(label, exact=True)).locator(".mw-error")


def main_form(page):
    return widget(page).locator("form.mw-form").last


def test_a_clean_comment_shows_at_once_then_as_published_without_a_reload(page, db, site, run_workers):
    open_demo(page)
    expect(widget(page).get_by_role("heading", name="Bình luận", exact=True)).to_be_visible()
    expect(widget(page).locator(".mw-empty")).to_have_text("Hiện tại chưa có bình luận")
    expect(widget(page).get_by_role("heading", name="Viết bình luận")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    write(main_form(page), "Nguyễn Lan", CLEAN, email="lan@example.vn")
    main_form(page).get_by_role("button", name="Gửi bình luận").click()

    mine = widget(page).locator(".mw-comment.mw-mine")
    expect(mine.locator(".mw-content")).to_have_text(CLEAN)
    expect(mine.locator(".mw-badge")).to_have_text("Bình luận của bạn đang chờ duyệt")
    expect(widget(page).locator(".mw-empty")).to_be_hidden()
    expect(main_form(page).get_by_label("Nội dung bình luận")).to_have_value("")
    with db.session() as session:
        [comment] = session.scalars(select(Comment)).all()
        assert (comment.status, comment.content, comment.client_ip) == ("pending", CLEAN, "127.0.0.1")
        assert comment.article.title == "Tạo động lực thi đua trong cán bộ, đảng viên, Nhân dân"
        assert comment.article.url.endswith("/demo")
        assert comment.author.email == "lan@example.vn"

    run_workers()
    assert stored(db, comment.id).status == "published"
    expect(mine.locator(".mw-badge")).to_have_count(0, timeout=FOLLOW_TIMEOUT)
    expect(mine.get_by_role("button", name="Trả lời", exact=True)).to_be_visible()
    expect(widget(page).locator(".mw-sr")).to_have_text("Bình luận của bạn đã được đăng")
    assert page.evaluate("window.__sameDocument") is True, "no reload"
    page.reload()
    expect(widget(page).locator(".mw-comment .mw-content")).to_have_text([CLEAN])


def test_an_abusive_comment_is_held_with_a_short_notice(page, db, site, run_workers):
    open_demo(page)
    write(main_form(page), "Khách", "Thằng này láo thật, đồ ngu như bò")
    main_form(page).get_by_role("button", name="Gửi bình luận").click()
    mine = widget(page).locator(".mw-comment.mw-mine")
    expect(mine.locator(".mw-badge")).to_have_text("Bình luận của bạn đang chờ duyệt")
    run_workers()
    assert comments(db)[0].status in ("review", "rejected")
    expect(mine.locator(".mw-badge")).to_have_text(
        "Bình luận của bạn sẽ hiển thị sau khi được duyệt", timeout=FOLLOW_TIMEOUT
    )
    expect(mine.get_by_role("button", name="Trả lời", exact=True)).to_have_count(0)
    page.reload()
    expect(widget(page).locator(".mw-empty")).to_have_text("Hiện tại chưa có bình luận")


def test_a_reply_goes_under_its_comment_and_is_published_there(page, db, site, run_workers):
    parent = published(db, site, "Mong huyện tiếp tục nhân rộng mô hình khu dân cư kiểu mẫu.")
    open_demo(page)
    thread = widget(page).locator(f'.mw-comment[data-id="{parent}"]')
    reply_button = thread.get_by_role("button", name="Trả lời", exact=True)
    reply_button.click()
    expect(reply_button).to_have_attribute("aria-expanded", "true")
    form = thread.get_by_role("form", name="Trả lời Lò Thị Mai")
    expect(form.get_by_label("Họ và tên")).to_be_focused()
    page.keyboard.press("Escape")
    expect(form).to_have_count(0)
    expect(reply_button).to_be_focused()
    page.keyboard.press("Enter")
    write(form, "Trần Minh", "Đồng ý với bạn, khu 5 làm rất tốt.")
    form.get_by_role("button", name="Gửi trả lời").click()
    expect(form).to_have_count(0)
    reply = thread.locator(".mw-replies > .mw-comment.mw-mine")
    expect(reply.locator(".mw-content")).to_have_text("Đồng ý với bạn, khu 5 làm rất tốt.")
    [_parent, child] = comments(db)
    assert child.parent_id == parent
    run_workers()
    expect(reply.locator(".mw-badge")).to_have_count(0, timeout=FOLLOW_TIMEOUT)
    page.reload()
    expect(thread.locator(".mw-replies .mw-content")).to_have_text(["Đồng ý với bạn, khu 5 làm rất tốt."])


def test_a_reader_reports_a_published_comment_into_the_reported_queue(page, db, site):
    target = published(db, site, "Toàn bọn ăn hại, viết bài để làm gì.", author="Ẩn danh")
    open_demo(page)
    thread = widget(page).locator(f'.mw-comment[data-id="{target}"]')
    thread.get_by_role("button", name="Báo cáo vi phạm").click()
    group = thread.get_by_role("group", name="Lý do báo cáo")
    group.get_by_label("Xúc phạm, thô tục").check()
    thread.get_by_role("button", name="Gửi báo cáo").click()
    expect(thread.locator(".mw-done")).to_have_text("Đã gửi báo cáo")
    expect(thread.locator(".mw-done")).to_be_focused()
    expect(thread.locator(".mw-report-btn")).to_have_count(0)
    with db.session() as session:
        [report] = session.scalars(select(Report)).all()
        assert (report.comment_id, report.reason, report.reporter_ip) == (
            target,
            "Xúc phạm, thô tục",
            "127.0.0.1",
        )


def test_the_character_counter_and_errors_next_to_the_fields(page, db, site, events):
    events.allow_status(422)  # the refused post whose error is shown next to the field
    open_demo(page)
    form = main_form(page)
    counter = form.locator(".mw-count")
    expect(counter).to_have_text("Còn 5.000 ký tự")
    form.get_by_label("Nội dung bình luận").fill("Xin chào Sìn Hồ")
    expect(counter).to_have_text("Còn 4.985 ký tự")
    form.get_by_label("Nội dung bình luận").fill("ạ" * 5003)
    expect(counter).to_have_text("Vượt quá 3 ký tự")
    form.get_by_role("button", name="Gửi bình luận").click()
    name = form.get_by_label("Họ và tên")
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(error_of(form, "Họ và tên")).to_have_text("Vui lòng nhập họ và tên")
    expect(error_of(form, "Nội dung bình luận")).to_have_text("Tối đa 5.000 ký tự")
    expect(error_of(form, "Email (không bắt buộc, không hiển thị)")).to_be_hidden()
    assert comments(db) == []

    # What only the server knows (a name over its limit, forced past the field's maxlength): a 422.
    form.get_by_label("Nội dung bình luận").fill("Một góp ý ngắn.")
    name.evaluate("(input, value) => { input.removeAttribute('maxlength'); input.value = value; }", "A" * 81)
    form.get_by_role("button", name="Gửi bình luận").click()
    expect(error_of(form, "Họ và tên")).to_have_text("Tối đa 80 ký tự")
    expect(error_of(form, "Nội dung bình luận")).to_be_hidden()
    expect(form.locator(".mw-form-error")).to_have_text("Vui lòng kiểm tra lại các ô được đánh dấu.")
    assert comments(db) == []


def test_reader_markup_is_shown_as_text_and_never_runs(page, db, site):
    payload = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    published(db, site, payload, author='<b onmouseover="window.__xss=3">Tên</b>')
    open_demo(page)
    item = widget(page).locator(".mw-comment")
    expect(item.locator(".mw-content")).to_have_text(payload)
    expect(item.locator(".mw-author")).to_have_text('<b onmouseover="window.__xss=3">Tên</b>')
    assert widget(page).locator("img, script, b").count() == 0
    assert page.evaluate("window.__xss") is None


def test_more_comments_load_on_request(page, db, site):
    start = utcnow() - timedelta(hours=2)
    for i in range(23):
        published(db, site, f"Ý kiến số {i + 1} về bài viết.", created=start + timedelta(minutes=i))
    open_demo(page)
    items = widget(page).locator(".mw-list > .mw-comment")
    expect(items).to_have_count(20)
    expect(items.first.locator(".mw-content")).to_have_text("Ý kiến số 1 về bài viết.")
    widget(page).get_by_role("button", name="Xem thêm bình luận").click()
    expect(items).to_have_count(23)
    expect(items.nth(20).locator(".mw-body")).to_be_focused()
    expect(widget(page).get_by_role("button", name="Xem thêm bình luận")).to_be_hidden()


def test_a_burst_of_30_posts_from_one_address_meets_429_and_the_reader_is_told(page, db, site, events):
    events.allow_status(429)  # the refusals this test provokes
    open_demo(page)
    statuses: list[int] = []
    page.on(
        "response",
        lambda response: (
            statuses.append(response.status)
            if response.request.method == "POST" and "/api/v1/comments" in response.url
            else None
        ),
    )
    form = main_form(page)
    form.get_by_label("Họ và tên").fill("Người gửi nhanh")
    for i in range(30):
        form.get_by_label("Nội dung bình luận").fill(
            f"Ý kiến thứ {i + 1}: đường lên bản cần sửa sớm hơn nữa."
        )
        with page.expect_response(lambda r: r.request.method == "POST" and "/api/v1/comments" in r.url):
            form.get_by_role("button", name="Gửi bình luận").click()
        expect(form.get_by_role("button", name="Gửi bình luận")).to_be_enabled()
    assert statuses[:5] == [202] * 5 and set(statuses[5:]) == {429}, statuses
    message = form.locator(".mw-form-error")
    expect(message).to_have_text(re.compile(r"^Bạn gửi quá nhanh, vui lòng thử lại sau \d+ giây$"))
    expect(message).to_have_attribute("role", "alert")
    assert len(comments(db)) == 5
    expect(form.get_by_label("Nội dung bình luận")).not_to_have_value("", timeout=1000)


@pytest.fixture
def foreign_page(browser, live_server: str) -> Iterator[tuple[object, str]]:
    """A newspaper page on another origin (another port) that nobody registered for the site."""
    app = Flask("foreign")
    holder: dict[str, str] = {}

    @app.get("/bai-viet")
    def article() -> str:
        return (
            "<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>Trang lạ</title></head>"
            "<body><h1>Bài viết</h1><div id='binh-luan'></div>"
            f"<script src='{live_server}/widget/v1/widget.js' data-key='{holder['key']}' "
            f"data-article-id='{DEMO_ARTICLE}' data-target='binh-luan' async></script></body></html>"
        )

    with serve(app) as foreign_url:
        context = browser.new_context(base_url=foreign_url, locale="vi-VN")
        yield context, holder
        context.close()


def test_a_page_on_an_unregistered_origin_cannot_read_or_post(foreign_page, db, site, live_server):
    context, holder = foreign_page
    holder["key"] = site.widget_key
    published(db, site, "Một bình luận đã đăng.")
    page = context.new_page()
    page.goto("/bai-viet")
    note = page.locator("section.mw .mw-note")
    expect(note).to_have_text("Không tải được phần bình luận. Vui lòng tải lại trang sau.")
    expect(page.locator("section.mw .mw-comment")).to_have_count(0)
    expect(page.locator("section.mw form.mw-form button.mw-send")).to_be_disabled()
    # The page's own script tries to post anyway: the browser refuses (no CORS permission).
    outcome = page.evaluate(
        """async ([base, key, article]) => {
            try {
                const r = await fetch(base + '/api/v1/comments?key=' + key, {method: 'POST',
                    headers: {'Content-Type': 'application/json'},
                    body: JSON.stringify({article_id: article, author: {name: 'X'}, content: 'Spam spam'})});
                return 'answered ' + r.status;
            } catch (error) { return 'refused'; }
        }""",
        [live_server, site.widget_key, DEMO_ARTICLE],
    )
    assert outcome == "refused"
    assert len(comments(db)) == 1, "nothing was stored"


def test_on_a_phone_the_widget_fits_and_works(browser, live_server, db, site, run_workers, events):
    context = browser.new_context(
        base_url=live_server,
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
    )
    page = context.new_page()
    watch(context, page, events)
    parent = published(db, site, "Bà con Phìn Hồ chăn nuôi giỏi quá, mong có thêm vốn vay ưu đãi.")
    open_demo(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "no sideways scrolling"
    send = main_form(page).get_by_role("button", name="Gửi bình luận")
    box = send.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300, box
    thread = widget(page).locator(f'.mw-comment[data-id="{parent}"]')
    thread.get_by_role("button", name="Trả lời", exact=True).tap()
    form = thread.get_by_role("form", name="Trả lời Lò Thị Mai")
    write(form, "Hà", "Đúng vậy, cần thêm vốn cho bà con.")
    form.get_by_role("button", name="Gửi trả lời").tap()
    expect(thread.locator(".mw-replies .mw-badge")).to_have_text("Bình luận của bạn đang chờ duyệt")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()
    assert_clean(events)


def test_the_honeypot_is_out_of_sight_and_a_bot_that_fills_it_learns_nothing(page, db, site):
    open_demo(page)
    form = main_form(page)
    trap = form.locator("input[name=website]")
    assert form.locator(".mw-hp").get_attribute("aria-hidden") == "true"
    assert (trap.get_attribute("tabindex"), trap.get_attribute("autocomplete")) == ("-1", "off")
    box = trap.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0, "off-screen"
    form.get_by_label("Họ và tên").focus()
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(form.get_by_role("button", name="Gửi bình luận")).to_be_focused()  # name, email, text, send
    write(form, "Bot", "Mua ngay hàng giá rẻ tại cửa hàng của chúng tôi.")
    trap.evaluate("input => { input.value = 'http://spam.example'; }")
    form.get_by_role("button", name="Gửi bình luận").click()
    mine = widget(page).locator(".mw-comment.mw-mine")
    expect(mine.locator(".mw-badge")).to_have_text("Bình luận của bạn đang chờ duyệt")
    expect(mine.locator(".mw-badge")).to_have_text(
        "Bình luận của bạn sẽ hiển thị sau khi được duyệt", timeout=FOLLOW_TIMEOUT
    )
    [comment] = comments(db)
    assert (comment.status, comment.decision_reasons) == ("rejected", ["honeypot"])
