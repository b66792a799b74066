"""The moderator's day in headless Chromium (issue 16): a clean console on every htmx action, dates,
the policy's effective thresholds, the audit log, a phone's layout, the author panel, replies and notes.

The ``page`` fixture fails a test on any console error, uncaught error or CSP violation.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from moderation.scoring.artifact import read_manifest, resolve_version_dir
from moderation.services import newsroom
from moderation.settings import DEFAULT_MODEL_DIR
from moderation.storage.models import Comment, Report, utcnow
from tests.e2e.helpers import identity, sign_in
from tests.e2e.seed import add_comment

PHONE = {"width": 390, "height": 844}
SHOTS = Path(tempfile.gettempdir())


def held(db, site, texts: list[str], **extra) -> list[str]:
    now = utcnow()
    return [
        add_comment(db, site, text, created=now - timedelta(minutes=len(texts) - i), **extra)
        for i, text in enumerate(texts)
    ]


def test_the_fixture_catches_an_inline_style_whatever_the_browser_calls_it(page, events, linh):
    """The guard itself: a blocked inline style is recorded (the next tests rely on it)."""
    sign_in(page, "linh")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>')")
    expect(page.locator("p[style]")).to_have_count(1)
    page.wait_for_function("true")
    assert any("style-src" in text for text in events.csp), events.csp
    events.csp.clear()


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_every_htmx_action_leaves_the_console_clean(page, db, site, linh, viewport):
    if viewport:
        page.set_viewport_size(viewport)
    ids = held(db, site, ["một ngu", "hai ngu", "ba ngu", "bốn ngu"], highlight=["ngu"], author="Hà")
    cluster = held(db, site, ["mua ngay", "mua ngay!", "mua ngay!!"], author="Shop")
    with db.session() as session:
        for comment_id in cluster:
            session.get(Comment, comment_id).cluster_id = cluster[0]
    reported = add_comment(db, site, "bài hay", status="published", author="Minh")
    with db.session() as session:
        session.add(Report(comment_id=reported, site_id=site.id, reason="xúc phạm"))
    sign_in(page, "linh")
    region = page.locator("#queue-region")

    def done(text: str) -> None:
        expect(region.locator(".message.success")).to_contain_text(text)

    page.keyboard.press("a")
    done("Đã duyệt")
    page.keyboard.press("u")
    done("Đã hoàn tác")
    card = page.locator(f"#c-{ids[0]}")
    card.locator("summary[data-action='reject']").click()
    card.locator("label.reason").first.click()
    card.get_by_role("button", name="Từ chối", exact=True).click()
    done("Đã từ chối")
    region.get_by_role("button", name="Hoàn tác").first.click()
    done("Đã hoàn tác")
    page.locator(f"#sel-{ids[1]}").check()
    page.get_by_role("button", name="Duyệt các mục đã chọn").click()
    done("Đã duyệt")
    card = page.locator(f"#c-{cluster[0]}")
    card.locator("summary[data-action='reject-cluster']").click()
    card.get_by_role("button", name="Từ chối 3 bình luận").click()
    done("3")
    card = page.locator(f"#c-{ids[2]}")
    card.get_by_text("Tác giả…").click()
    card.get_by_role("button", name="Đánh dấu tin cậy").click()
    done("Hà")
    page.get_by_role("link", name="Bị báo cáo").click()
    page.locator(f"#c-{reported}").get_by_role("button", name="Giữ bình luận, đóng báo cáo").click()
    expect(page.locator(f"#c-{reported}")).to_have_count(0)


def test_the_date_filter_is_typed_day_first_in_the_sites_zone(page, db, site, linh):
    """A text field taking dd/mm/yyyy (never the browser's mm/dd/yyyy), in the site's zone."""
    from datetime import UTC, datetime

    # 23:30 UTC on 24/11 is 06:30 on 25/11 in Vietnam: the comment belongs to the 25th there.
    late = add_comment(db, site, "đêm khuya", created=datetime(2026, 11, 24, 23, 30, tzinfo=UTC))
    early = add_comment(db, site, "hôm trước", created=datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    sign_in(page, "linh")
    since = page.get_by_label("từ").nth(1)
    assert since.get_attribute("type") == "text"
    assert since.get_attribute("placeholder") == "dd/mm/yyyy"
    since.fill("25/11/2026")
    page.get_by_label("đến").nth(1).fill("25/11/2026")
    page.get_by_role("button", name="Áp dụng").click()
    expect(page.locator(f"#c-{late}")).to_have_count(1)
    expect(page.locator(f"#c-{early}")).to_have_count(0)
    expect(page.locator(f"#c-{late} time")).to_have_text("25/11/2026 06:30")
    expect(page.get_by_label("từ").nth(1)).to_have_value("25/11/2026")

    page.goto("/dashboard/queue?since=11/25/2026")  # month first: refused, said, and ignored
    expect(page.locator("#queue-region .message.error")).to_contain_text(
        "Đăng từ ngày): một ngày dạng dd/mm/yyyy, ví dụ 25/11/2026"
    )
    expect(page.locator("#queue-region .card")).to_have_count(2)

    with db.session() as session:
        from moderation.storage.models import Site

        session.get(Site, site.id).timezone = "Europe/Paris"
    page.goto("/dashboard/queue")
    expect(page.locator(f"#c-{late} time")).to_have_text("25/11/2026 00:30")


def test_author_panel_note_and_a_reply_as_the_newspaper(page, app, db, site, linh):
    ids = held(db, site, ["Tao sẽ quay lại", "lại là tao"], author="Troll")
    old = add_comment(db, site, "bình luận cũ đã đăng", status="published", author="Troll")
    sign_in(page, "linh")
    card = page.locator(f"#c-{ids[0]}")
    card.get_by_text("Ghi chú…").click()
    card.get_by_label("Ghi chú nội bộ").fill("Đã nhắc nhở qua email ngày 25/11")
    card.get_by_role("button", name="Thêm ghi chú").click()
    expect(page.locator("#queue-region .message.success")).to_contain_text("Đã thêm ghi chú")
    expect(page.locator(f"#c-{ids[0]} .note")).to_contain_text("linh")
    expect(page.locator(f"#c-{ids[0]} .note")).to_contain_text("Đã nhắc nhở qua email ngày 25/11")

    card = page.locator(f"#c-{ids[1]}")
    card.get_by_text("Trả lời với tư cách tòa soạn…").click()
    card.get_by_label("Trả lời, đăng ngay").fill("Tòa soạn đề nghị bạn giữ lời lẽ văn minh.")
    card.get_by_role("button", name="Đăng câu trả lời").click()
    expect(page.locator("#queue-region .message.success")).to_contain_text("Đã đăng câu trả lời")
    with db.session() as session:
        reply = session.query(Comment).filter(Comment.parent_id == ids[1]).one()
        assert (reply.status, reply.decided_by) == ("published", "moderator")
        assert reply.author.name == "Ban biên tập demo"
    page.locator(f"#c-{ids[1]}").get_by_role("button", name="Duyệt").click()  # the parent, published
    expect(page.locator(f"#c-{ids[1]}")).to_have_count(0)

    # Readers see the reply under its published parent, never the note.
    thread = app.test_client().get("/api/v1/articles/a-1/comments?site=demo").get_data(as_text=True)
    assert "Tòa soạn đề nghị" in thread and "Ban biên tập demo" in thread
    assert "nhắc nhở" not in thread

    # The author's full history, each comment linked, ban from there.
    page.locator(f"#c-{ids[0]} a.history").click()
    expect(page.locator("h1")).to_contain_text("Troll")
    rows = page.locator("table.author-history tbody tr")
    expect(rows).to_have_count(3)  # held, published by the moderator, published before
    page.get_by_role("link", name="bình luận cũ đã đăng").click()
    expect(page.locator(f"#c-{old} .content")).to_have_text("bình luận cũ đã đăng")
    page.go_back()
    page.get_by_role("button", name="Cấm tác giả này").click()
    expect(page.locator(".message.success")).to_contain_text("Đã cấm Troll")
    expect(page.locator("h1 .badge-banned")).to_be_visible()
    page.get_by_role("button", name="Đánh dấu tin cậy").click()  # trust, from the panel too
    expect(page.locator("h1 .badge-trusted")).to_be_visible()
    page.get_by_role("button", name="Về bình thường").click()
    expect(page.locator("h1 .badge")).to_have_count(0)
    page.get_by_role("button", name="Cấm tác giả này").click()
    expect(page.locator("h1 .badge-banned")).to_be_visible()
    with db.session() as session:
        assert [session.get(Comment, i).status for i in ids] == ["rejected", "published"]

    # Both are in the audit log (an admin's page).
    with db.session() as session:
        from moderation.storage.models import AuditEntry

        actions = {e.action for e in session.query(AuditEntry).all()}
    assert {"note", "newsroom_reply", "ban_author"} <= actions


@pytest.mark.skipif(
    not (DEFAULT_MODEL_DIR / "CURRENT").exists(), reason="the shipped model is not under moderation/models"
)
def test_the_policy_shows_the_thresholds_in_effect_and_the_audit_says_what_changed(page, db, site, chief):
    sign_in(page, "chief")
    page.goto(f"/dashboard/admin/sites/{site.id}/policy")
    manifest = read_manifest(resolve_version_dir(DEFAULT_MODEL_DIR))
    threshold = f"{manifest['thresholds']['toxicity'] * 100:.1f}%"
    toxicity = page.locator("td.effective[data-attribute='toxicity']")
    expect(toxicity).to_contain_text(f"giữ lại từ {threshold} (ngưỡng của mô hình {manifest['version']})")
    expect(toxicity).to_contain_text("không bao giờ tự động từ chối")
    assert (
        page.get_by_label("Độc hại – Giữ lại chờ duyệt từ").get_attribute("placeholder")
        == f"mô hình: {threshold}"
    )
    page.get_by_label("Độc hại – Giữ lại chờ duyệt từ").fill("40")
    page.get_by_label("Spam – Từ chối từ").fill("95")
    page.locator("#banned_words").fill("lừa đảo")
    page.get_by_role("button", name="Lưu chính sách").click()
    expect(page.locator("td.effective[data-attribute='toxicity']")).to_contain_text("giữ lại từ 40%")

    page.goto("/dashboard/admin/audit")
    row = page.locator("table.audit tr", has_text="Thay đổi chính sách")
    expect(row).to_contain_text("demo")
    expect(row).to_contain_text("Độc hại – giữ lại từ: trống → 40%")
    expect(row).to_contain_text("Spam – từ chối từ: 98% → 95%")
    expect(row).to_contain_text("Từ bị cấm: +lừa đảo")
    expect(page.locator("table.audit tr", has_text="Tạo trang")).to_contain_text("(demo)")


def test_undo_entries_in_the_audit_log_link_to_the_comments(page, db, site, chief):
    ids = held(db, site, ["quảng cáo 1", "quảng cáo 2"])
    sign_in(page, "chief")
    page.locator(f"#sel-{ids[0]}").check()
    page.locator(f"#sel-{ids[1]}").check()
    page.get_by_role("button", name="Duyệt các mục đã chọn").click()
    expect(page.locator("#queue-region .message.success")).to_contain_text("Đã duyệt")
    page.keyboard.press("u")
    expect(page.locator("#queue-region .message.success")).to_contain_text("Đã hoàn tác")
    page.goto("/dashboard/admin/audit?action=undo")
    links = page.locator("table.audit a.restored")
    expect(links).to_have_count(2)
    page.get_by_role("link", name="quảng cáo 2").click()
    expect(page.locator(f"#c-{ids[1]} .content")).to_have_text("quảng cáo 2")


def test_notes_and_newsroom_replies_are_in_the_audit_log_with_their_text_and_comment(page, db, site, chief):
    (target,) = held(db, site, ["Bình luận cần ghi chú"])
    moderator = identity(db, chief)
    with db.session() as session:
        newsroom.add_note(session, moderator, target, "Đã gọi điện cho bạn đọc <b>ngày 25/11</b>")
        reply = newsroom.reply_as_newsroom(session, moderator, target, "Cảm ơn bạn, tòa soạn đã ghi nhận.")
        reply_id = reply.id
    sign_in(page, "chief")
    page.goto("/dashboard/admin/audit?action=note")
    note = page.locator("table.audit tbody tr")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("Thêm ghi chú nội bộ")
    expect(note.locator("td").last).to_have_text("Đã gọi điện cho bạn đọc <b>ngày 25/11</b>")  # as text
    expect(note.get_by_role("link", name="Bình luận cần ghi chú")).to_be_visible()
    page.goto("/dashboard/admin/audit?action=newsroom_reply")
    row = page.locator("table.audit tbody tr")
    expect(row).to_contain_text("Trả lời với tư cách tòa soạn")
    row.get_by_role("link", name="Cảm ơn bạn, tòa soạn đã ghi nhận.").click()
    expect(page.locator(f"#c-{reply_id} .content")).to_have_text("Cảm ơn bạn, tòa soạn đã ghi nhận.")


def test_an_authors_full_history_pages_through_every_comment(page, db, site, linh):
    """ "The author's full history": past one page (100), the rest is one click away, none left out."""
    start = utcnow() - timedelta(days=30)
    ids = [
        add_comment(
            db,
            site,
            f"Ý kiến số {n}",
            status="published",
            author="Bạn đọc chăm chỉ",
            created=start + timedelta(hours=n),
        )
        for n in range(1, 106)
    ]
    with db.session() as session:
        author_id = session.get(Comment, ids[0]).author_id
    sign_in(page, "linh")
    page.goto(f"/dashboard/authors/{author_id}")
    rows = page.locator("table.author-history tbody tr")
    expect(rows).to_have_count(100)
    expect(rows.first).to_contain_text("Ý kiến số 105")  # newest first
    expect(page.locator("nav.pager")).to_contain_text("Trang 1/2")
    page.get_by_role("link", name="Sau →").click()
    expect(rows).to_have_count(5)
    expect(rows.last).to_contain_text("Ý kiến số 1")
    expect(rows.last.get_by_role("link")).to_have_attribute("href", f"/dashboard/comments/{ids[0]}")
    page.get_by_role("link", name="← Trước").click()
    expect(rows).to_have_count(100)


def no_horizontal_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > "
        "innerWidth + 1 && getComputedStyle(e).position !== 'absolute').slice(0, 5)"
        ".map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
    )
    assert width <= PHONE["width"], f"{page.url}: {width}px wide on a {PHONE['width']}px phone: {wide}"


def test_on_a_phone_the_queue_comes_first_and_nothing_overflows(page, db, site, chief):
    page.set_viewport_size(PHONE)
    ids = held(db, site, ["một bình luận khá dài " * 8, "hai"], highlight=["dài"])
    with db.session() as session:
        author_id = session.get(Comment, ids[0]).author_id
    sign_in(page, "chief")
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] <= 100, f"the header takes {header['height']}px (two lines at most)"
    toggle = page.get_by_role("button", name="Bộ lọc")
    expect(toggle).to_be_visible()
    expect(page.get_by_label("Tìm trong nội dung")).to_be_hidden()
    first_card = page.locator(f"#c-{ids[0]}").bounding_box()
    assert first_card["y"] < PHONE["height"], "the first card is on the first screen"
    no_horizontal_overflow(page)
    page.screenshot(path=str(SHOTS / "phone-queue.png"))
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_label("Tìm trong nội dung")).to_be_visible()
    toggle.click()
    expect(page.get_by_label("Tìm trong nội dung")).to_be_hidden()

    page.keyboard.press("a")  # approved, then audited: the audit table scrolls inside its box
    expect(page.locator("#queue-region .message.success")).to_contain_text("Đã duyệt")
    for path in (
        "/dashboard/admin/audit",
        "/dashboard/admin/sites",
        f"/dashboard/admin/sites/{site.id}/policy",
        "/dashboard/admin/moderators",
        "/dashboard/admin/stats",
        f"/dashboard/comments/{ids[0]}",
        f"/dashboard/authors/{author_id}",
    ):
        page.goto(path)
        no_horizontal_overflow(page)
    page.goto("/dashboard/admin/audit")
    table = page.locator("table.audit")
    assert table.bounding_box()["width"] <= PHONE["width"]
    assert table.evaluate("t => getComputedStyle(t).overflowX") == "auto", "a wide table scrolls in its box"
    # Scrolling in its box, the comment stays readable instead of one word per line.
    excerpt = page.locator("table.audit td.excerpt a").first.bounding_box()
    assert excerpt["width"] >= 160, f"the comment column is {excerpt['width']}px wide on a phone"
    page.screenshot(path=str(SHOTS / "phone-audit.png"))


def test_an_htmx_swap_never_copies_an_inline_style(page, db, site, linh):
    """Issue 16's "12 CSP errors per action": Playwright's screenshots (to hide the caret), like
    extensions that touch fields, leave ``style`` attributes set through the CSSOM (allowed) on
    inputs; htmx's settle step then copied them with setAttribute("style") onto the swapped-in
    inputs of the same id, one CSP violation each. htmx no longer settles "style"."""
    held(db, site, ["một", "hai", "ba"])
    sign_in(page, "linh")
    page.screenshot(path=str(SHOTS / "queue-before-swap.png"))
    page.evaluate("document.querySelectorAll('input[id]').forEach(e => { e.style.caretColor = 'red'; })")
    page.keyboard.press("a")
    expect(page.locator("#queue-region .message.success")).to_contain_text("Đã duyệt")
    page.keyboard.press("u")
    expect(page.locator("#queue-region .message.success")).to_contain_text("Đã hoàn tác")


def test_an_admin_sets_the_sites_time_zone(page, db, site, chief):
    from datetime import UTC, datetime

    comment = add_comment(db, site, "giờ nào?", created=datetime(2026, 11, 24, 23, 30, tzinfo=UTC))
    sign_in(page, "chief")
    expect(page.locator(f"#c-{comment} time")).to_have_text("25/11/2026 06:30")
    page.goto(f"/dashboard/admin/sites/{site.id}/policy")
    expect(page.get_by_label("Múi giờ")).to_have_value("Asia/Ho_Chi_Minh")
    page.get_by_label("Múi giờ").fill("Sao Hỏa/Olympus")
    page.get_by_role("button", name="Lưu múi giờ").click()
    expect(page.locator(".message.error")).to_contain_text("một múi giờ IANA")
    page.get_by_label("Múi giờ").fill("Asia/Tokyo")
    page.get_by_role("button", name="Lưu múi giờ").click()
    expect(page.locator(".message.success")).to_contain_text("Asia/Tokyo")
    page.goto("/dashboard/queue")
    expect(page.locator(f"#c-{comment} time")).to_have_text("25/11/2026 08:30")


def test_a_reader_stored_under_the_newsrooms_name_is_marked_with_the_name_readers_see(page, db, site, linh):
    """A name stored before names were checked ("Tòa soạn") is shown to readers as "Bạn đọc"; the
    dashboard says so, in the queue, on the comment's page and on the author's, so the comment is
    not read as the paper's own. An ordinary name gets no such badge."""
    posing = held(db, site, ["Bài này viết sai số liệu rồi"], author="Hà")[0]
    plain = held(db, site, ["Bài này viết hay"], author="Minh")[0]
    with db.session() as session:
        session.get(Comment, posing).author.name = "Tòa soạn"
    sign_in(page, "linh")
    badge = page.locator(f"#c-{posing} .badge-posing")
    expect(badge).to_have_text("Bạn đọc thấy “Bạn đọc”")
    expect(badge).to_have_attribute("title", "Tên này giống tên của tòa soạn: bạn đọc thấy một tên khác")
    expect(page.locator(f"#c-{posing} .author")).to_have_text("Tòa soạn")
    expect(page.locator(f"#c-{plain} .badge-posing")).to_have_count(0)
    page.goto(page.url.split("/dashboard")[0] + f"/dashboard/comments/{posing}")
    expect(page.locator(f"#c-{posing} .badge-posing")).to_have_text("Bạn đọc thấy “Bạn đọc”")
    page.locator(f"#c-{posing} a.history").click()
    expect(page.locator("#author-title .badge-posing")).to_have_text("Bạn đọc thấy “Bạn đọc”")
    expect(page.locator(f"#h-{posing} .badge-posing")).to_have_text("Bạn đọc thấy “Bạn đọc”")
    page.go_back()
    page.go_back()
    page.locator(f"#c-{plain} a.history").click()
    expect(page.locator("#author-title")).to_contain_text("Minh")
    expect(page.locator(f"#h-{plain}")).to_contain_text("Bài này viết hay")
    expect(page.locator(".badge-posing")).to_have_count(0)
