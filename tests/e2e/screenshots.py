"""Regenerate the dashboard and widget screenshots under docs/screenshots/ (PNG), from realistic demo data.

    .venv/bin/python -m tests.e2e.screenshots [--out docs/screenshots]

Builds a throw-away SQLite database, fills it with a newsroom's day (held, reported, replies,
a banned author, two weeks of history for the statistics), serves the app from a thread and
photographs the main pages in Debian's headless Chromium at a laptop's size; then the demo
article page with the comment widget (a laptop and a phone: a newsroom reply, the reader's own
comment held and shown again after a reload, a post refused as too fast) and a site's anti-abuse
page. No worker runs: the reader's comment is held in the database as a worker would hold it.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from moderation.app import create_app
from moderation.services import newsroom, review
from moderation.services.accounts import ModeratorIdentity
from moderation.settings import Settings
from moderation.storage.db import Database
from moderation.storage.migrate import upgrade
from moderation.storage.models import AuditEntry, Author, Comment, Moderator, Report, utcnow
from tests.e2e.helpers import sign_in
from tests.e2e.seed import DEMO_ARTICLE, add_comment, demo_site, make_moderator, make_site
from tests.e2e.server import CHROMIUM_ARGS, VIEWPORT, chromium_path, serve

ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
ARTICLES = {
    "a-1001": ("Giá xăng tăng lần thứ ba trong tháng", "https://bao.example.vn/kinh-te/gia-xang-1001.html"),
    "a-1002": (
        "Hà Nội thí điểm thu phí vào nội đô từ năm 2027",
        "https://bao.example.vn/thoi-su/thu-phi-1002.html",
    ),
    "a-1003": (
        "Đội tuyển Việt Nam thắng 2-0 trên sân khách",
        "https://bao.example.vn/the-thao/doi-tuyen-1003.html",
    ),
}
HELD = [
    (
        "a-1001",
        "Trần Văn Hùng",
        "Bọn quan chức ngu như bò, chỉ biết tăng giá để vơ vét của dân.",
        {"toxicity": 0.91, "hate_speech": 0.58, "spam": 0.02},
        ["ngu như bò", "vơ vét"],
        ("toxicity", "hate_speech"),
    ),
    (
        "a-1001",
        "Tài chính 24h",
        "Vay tiền nhanh lãi suất 0%, liên hệ Zalo 0912 345 678 để được duyệt trong 5 phút!!!",
        {"toxicity": 0.08, "hate_speech": 0.03, "spam": 0.97},
        [],
        ("spam", "phone", "chat_handle"),
    ),
    (
        "a-1003",
        "minh_hn",
        "Thằng viết bài này chắc óc chó, đọc mà phát mệt.",
        {"toxicity": 0.88, "hate_speech": 0.47, "spam": 0.01},
        ["óc chó"],
        ("toxicity",),
    ),
    (
        "a-1002",
        "Nguyễn Thị Mai",
        "khong biet noi gi hon, that la qua te, ai nghi ra cai tro nay vay",
        {"toxicity": 0.57, "hate_speech": 0.12, "spam": 0.03},
        [],
        ("toxicity",),
    ),
    (
        "a-1003",
        "bongda_free",
        "Xem trực tiếp bóng đá miễn phí, không quảng cáo tại https://bongda-free.example",
        {"toxicity": 0.04, "hate_speech": 0.02, "spam": 0.89},
        [],
        ("spam", "link"),
    ),
]


EVERYDAY = [
    "Bài viết rất hay, cảm ơn tác giả đã phản ánh kịp thời.",
    "Mong chính quyền sớm có giải pháp cho người dân.",
    "Tôi thấy giá cả tăng nhanh hơn lương nhiều quá.",
    "Thông tin hữu ích, chia sẻ cho mọi người cùng biết.",
    "Cần minh bạch hơn về cách tính phí này.",
    "Đội tuyển chơi quá hay, tự hào Việt Nam!",
    "Ở quê tôi cũng gặp tình trạng tương tự.",
    "Đề nghị báo làm thêm bài phân tích về vấn đề này.",
    "Không đồng ý với quan điểm của tác giả ở đoạn cuối.",
    "Nên học hỏi cách làm của các nước trong khu vực.",
]


def seed(db: Database) -> None:
    random.seed(4)
    site, _key = make_site(db, "bao-demo")
    make_moderator(db, "thu.nguyen", "admin")
    editor_id = make_moderator(db, "linh.tran", "moderator")
    editor = ModeratorIdentity(editor_id, "linh.tran", "moderator", None)
    now = utcnow()
    # Two weeks of traffic: mostly published by the model, some held and decided by people.
    decided: list[tuple[str, str]] = []
    for day in range(14, 0, -1):
        for n in range(random.randint(18, 34)):
            article = random.choice(list(ARTICLES))
            title, url = ARTICLES[article]
            status = random.choices(["published", "review", "rejected"], weights=[78, 16, 6])[0]
            created = now - timedelta(days=day, minutes=random.randint(0, 600))
            reason = random.choice(["toxicity", "spam", "hate_speech"])
            scores = {
                name: round(random.uniform(0.01, 0.3), 2) for name in ("toxicity", "hate_speech", "spam")
            }
            if status != "published":
                scores[reason] = round(random.uniform(0.6, 0.99), 2)
            comment_id = add_comment(
                db,
                site,
                random.choice(EVERYDAY),
                status=status,
                author=f"Bạn đọc {n % 9}",
                article=article,
                title=title,
                url=url,
                created=created,
                scores=scores,
                reasons=(reason,) if status != "published" else (),
            )
            if status == "review":
                decided.append((comment_id, random.choices(["approve", "reject"], weights=[35, 65])[0]))
    for comment_id, action in decided:
        with db.session() as session:
            comment = review.decide(
                session, editor, comment_id, action, "Xúc phạm" if action == "reject" else None
            )
            # A realistic wait: the demo decides everything now, a newsroom within the hour.
            comment.decided_at = comment.scored_at + timedelta(minutes=random.randint(3, 75))
    # Today's queue.
    hung_history = [
        add_comment(
            db,
            site,
            "Bài viết hay, cảm ơn tác giả.",
            status="published",
            author="Trần Văn Hùng",
            article="a-1001",
            reasons=(),
        )
        for _ in range(3)
    ]
    add_comment(db, site, "Toàn bọn ăn hại.", status="rejected", author="Trần Văn Hùng", article="a-1001")
    for minutes, (article, author, content, scores, highlight, reasons) in zip(
        (48, 41, 35, 22, 9), HELD, strict=True
    ):
        title, url = ARTICLES[article]
        add_comment(
            db,
            site,
            content,
            author=author,
            article=article,
            title=title,
            url=url,
            scores=scores,
            highlight=highlight,
            reasons=reasons,
            created=now - timedelta(minutes=minutes),
        )
    title, url = ARTICLES["a-1002"]
    parent = add_comment(
        db,
        site,
        "Tôi ủng hộ thu phí, giờ cao điểm tắc đường quá rồi.",
        status="published",
        author="Lê Thu Hà",
        article="a-1002",
        title=title,
        url=url,
        reasons=(),
    )
    add_comment(
        db,
        site,
        "Ủng hộ cái con khỉ, mày có phải đi xe máy mỗi ngày đâu mà nói.",
        author="Phạm Quốc Bảo",
        article="a-1002",
        title=title,
        url=url,
        parent_id=parent,
        highlight=["con khỉ", "mày"],
        scores={"toxicity": 0.76, "hate_speech": 0.35, "spam": 0.01},
        created=now - timedelta(minutes=5),
    )
    with db.session() as session:
        session.add(Report(comment_id=hung_history[0], site_id=site.id, reason="xúc phạm"))
        session.add(Report(comment_id=parent, site_id=site.id, reason="spam"))
        troll = add_comment(
            db,
            site,
            "Tao sẽ quay lại, cấm cũng vô ích.",
            author="anh_hung_ban_phim",
            reasons=("banned_author",),
            scores={"toxicity": 0.41, "hate_speech": 0.2, "spam": 0.05},
            created=now - timedelta(minutes=2),
        )
    with db.session() as session:
        author = session.get(Author, session.get(Comment, troll).author_id)
        author.status = "banned"


DEMO_THREAD = [
    (
        "Nguyễn Văn Thắng",
        "Mô hình khu dân cư kiểu mẫu ở khu 5 rất đáng học tập. Mong các xã khác trong huyện nhân rộng.",
        None,
    ),
    ("Lò Thị Mai", "Đúng vậy, bà con Phìn Hồ chăn nuôi đại gia súc cũng đã khá lên nhiều.", 0),
    (
        "Hoàng Minh Đức",
        "Cảm ơn tác giả. Hai năm tổ chức 1.275 hội nghị là con số rất ấn tượng với một huyện vùng cao.",
        None,
    ),
]
OWN_COMMENT = "Tôi ở thị trấn Sìn Hồ, thấy đường sá và điện chiếu sáng đã tốt hơn nhiều so với trước."


NEWSROOM_REPLY = "Cảm ơn bạn đã góp ý. Tòa soạn sẽ tiếp tục theo dõi và phản ánh cách làm của các khu dân cư."


def seed_demo(db: Database, base_url: str) -> None:
    """The demo article's site (registered for this server, as ``moderation up`` does) and a thread,
    with a reply of the newsroom written by a moderator."""
    site = demo_site(db, base_url)
    now = utcnow()
    ids: list[str] = []
    for minutes, (author, content, parent) in zip((95, 80, 40), DEMO_THREAD, strict=True):
        ids.append(
            add_comment(
                db,
                site,
                content,
                status="published",
                reasons=(),
                author=author,
                article=DEMO_ARTICLE,
                created=now - timedelta(minutes=minutes),
                parent_id=ids[parent] if parent is not None else None,
            )
        )
    with db.session() as session:
        editor = session.scalars(select(Moderator).where(Moderator.username == "linh.tran")).one()
        identity = ModeratorIdentity(editor.id, editor.username, editor.role, None)
        reply = newsroom.reply_as_newsroom(session, identity, ids[0], NEWSROOM_REPLY)
        reply.created_at = reply.decided_at = now - timedelta(minutes=60)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.comment_id == reply.id)).one()
        entry.at = reply.created_at


def hold(db_url: str, content: str) -> None:
    """Hold the reader's comment as a worker would (the screenshots run no worker)."""
    db = Database(db_url)
    with db.session() as session:
        comment = session.scalars(select(Comment).where(Comment.content == content)).one()
        comment.status, comment.decided_by, comment.decision_reasons = "review", "model", ["toxicity"]
        comment.decided_at = comment.scored_at = utcnow()
    db.dispose()


def shoot_widget(browser, base_url: str, db_url: str, out: Path) -> list[Path]:
    """The demo page on a laptop (the article, then the comments: a reply of the newsroom, the
    reader's own comment held and shown to them after a reload, their name remembered, a report
    being made), on a phone (the thread; the form refused as too fast), then a site's anti-abuse page."""
    files = []
    page = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="vi-VN").new_page()
    page.goto("/demo")
    files.append(out / "demo-article.png")
    page.screenshot(path=files[-1])
    form = page.locator("#binh-luan form.mw-form").last
    form.get_by_label("Họ và tên").fill("Vàng A Sình")
    form.get_by_label("Nội dung bình luận").fill(OWN_COMMENT)
    # A reader takes longer than the site's minimum (3 s) to write; a post sooner is refused.
    page.wait_for_timeout(3500)
    form.get_by_role("button", name="Gửi bình luận").click()
    page.locator(".mw-mine .mw-badge").wait_for()
    hold(db_url, OWN_COMMENT)
    page.reload()
    page.locator(".mw-mine .mw-badge", has_text="sẽ hiển thị sau khi được duyệt").wait_for()
    page.locator(".mw-comment", has_text="Hoàng Minh Đức").locator(".mw-report-btn").click()
    files.append(out / "widget-desktop.png")
    # The widget with a margin (its own box cuts the text at its edges); clip is in page coordinates.
    box = page.locator("#binh-luan").bounding_box()
    top = box["y"] + page.evaluate("window.scrollY")
    page.screenshot(
        path=files[-1],
        full_page=True,
        clip={"x": box["x"] - 16, "y": top, "width": box["width"] + 32, "height": box["height"] + 16},
    )
    phone = browser.new_context(
        base_url=base_url,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
    ).new_page()
    phone.goto("/demo")
    phone.locator("#binh-luan .mw-comment").first.wait_for()
    phone.locator("#binh-luan .mw-title").scroll_into_view_if_needed()
    phone.evaluate("document.querySelector('#binh-luan').scrollIntoView()")
    files.append(out / "widget-phone.png")
    phone.screenshot(path=files[-1])
    # Sent at once after the page opened: the widget says when to try again and keeps the text.
    phone_form = phone.locator("#binh-luan form.mw-form").last
    phone_form.get_by_label("Họ và tên").fill("Lò Văn Páo")
    phone_form.get_by_label("Nội dung bình luận").fill(
        "Đường lên bản mùa này đẹp quá, mong tỉnh sớm nâng cấp."
    )
    phone_form.get_by_role("button", name="Gửi bình luận").click()
    phone_form.locator(".mw-form-error", has_text="Bạn gửi quá nhanh").wait_for()
    phone_form.scroll_into_view_if_needed()
    files.append(out / "widget-phone-form.png")
    phone_form.screenshot(path=files[-1])
    phone.context.close()
    sign_in(page, "thu.nguyen")
    page.goto("/dashboard/admin/sites")
    page.locator("tr", has_text="bao-demo").get_by_role("link", name="Tiện ích & chống lạm dụng").click()
    files.append(out / "admin-widget.png")
    page.screenshot(path=files[-1], full_page=True)
    return files


def shoot_dashboard_phone(browser, base_url: str, out: Path) -> list[Path]:
    """The queue at 390x844: filters folded, the queue first; then the filters open, the audit log."""
    phone = browser.new_context(
        base_url=base_url,
        viewport=PHONE,
        locale="vi-VN",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    ).new_page()
    sign_in(phone, "linh.tran")
    files = [out / "phone-queue.png"]
    phone.screenshot(path=files[-1])
    phone.get_by_role("button", name="Bộ lọc").click()
    files.append(out / "phone-filters.png")
    phone.screenshot(path=files[-1])
    phone.context.close()
    admin = browser.new_context(
        base_url=base_url,
        viewport=PHONE,
        locale="vi-VN",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    ).new_page()
    sign_in(admin, "thu.nguyen")
    admin.goto("/dashboard/admin/audit")
    files.append(out / "phone-audit.png")
    admin.screenshot(path=files[-1])
    admin.context.close()
    return files


def shoot(base_url: str, db_url: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise SystemExit("Chromium not found: install Debian's chromium")
    out.mkdir(parents=True, exist_ok=True)
    files = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="vi-VN").new_page()
        sign_in(page, "thu.nguyen")
        page.goto("/dashboard/queue?order=oldest")
        page.keyboard.press("j")
        files.append(out / "queue.png")
        page.screenshot(path=files[-1])
        card = page.locator(".card", has_text="ngu như bò")
        card.click(position={"x": 8, "y": 8})
        page.keyboard.press("r")
        box, popover = card.bounding_box(), card.locator(".reject-form").bounding_box()
        bottom = max(box["y"] + box["height"], popover["y"] + popover["height"]) + 12
        files.append(out / "card-highlighted-spans.png")
        page.screenshot(
            path=files[-1],
            clip={
                "x": box["x"] - 8,
                "y": box["y"] - 8,
                "width": box["width"] + 16,
                "height": bottom - box["y"] + 8,
            },
        )
        page.goto("/dashboard/admin/sites")
        page.locator("tr", has_text="bao-demo").get_by_role("link", name="Sửa chính sách").click()
        files.append(out / "admin-policy.png")
        page.screenshot(path=files[-1], full_page=True)
        page.goto("/dashboard/admin/stats?days=30")
        files.append(out / "statistics.png")
        page.screenshot(path=files[-1], full_page=True)
        page.goto("/dashboard/admin/audit")
        files.append(out / "audit-log.png")
        page.screenshot(path=files[-1])
        page.goto("/dashboard/queue?order=oldest")
        page.locator(".card", has_text="ngu như bò").locator("a.history").click()
        files.append(out / "author-history.png")
        page.screenshot(path=files[-1], full_page=True)
        files.extend(shoot_dashboard_phone(browser, base_url, out))
        files.extend(shoot_widget(browser, base_url, db_url, out))
        browser.close()
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/screenshots.db"
        upgrade(url)
        db = Database(url)
        seed(db)
        db.dispose()
        settings = Settings(env="development", database_url=url, instance_dir=Path(tmp), log_level="WARNING")
        app = create_app(settings=settings)
        with serve(app) as base_url:
            demo_db = Database(url)
            seed_demo(demo_db, base_url)
            demo_db.dispose()
            for path in shoot(base_url, url, args.out):
                print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        app.extensions["moderation"].close()


if __name__ == "__main__":
    main()
