"""The widget blueprint through Flask's test client: its files (size, caching, headers, no HTML
injection), the demo page (content, CSP, when it is served) and the demo site ``moderation up``
prepares."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from moderation.app import create_app
from moderation.services import widget_support
from moderation.settings import Settings
from moderation.storage.models import AuditEntry, Site
from moderation.supervisor import prepare_demo
from moderation.widget import assets
from moderation.widget.views import api_origin_for, demo_csp

DEMO_HOST = "http://127.0.0.1:5000"


@pytest.fixture
def demo(db):
    with db.session() as session:
        return widget_support.ensure_demo_site(session, widget_support.loopback_origins(5000))


def test_script_and_stylesheet_stay_under_30_kb_together(client):
    script = client.get("/widget/v1/widget.js")
    style = client.get("/widget/v1/widget.css")
    assert script.status_code == style.status_code == 200
    total = len(script.data) + len(style.data)
    assert total < assets.BUDGET_BYTES, f"{total} bytes"
    assert total > 10_000, "the files are the real widget"


def test_the_files_are_long_cached_revalidated_and_usable_from_any_page(client):
    script = client.get("/widget/v1/widget.js")
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert script.headers["Cache-Control"] == "public, max-age=86400, stale-while-revalidate=604800"
    assert script.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in script.headers
    again = client.get("/widget/v1/widget.js", headers={"If-None-Match": script.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    css_version = assets.stylesheet().etag
    assert f'CSS_VERSION = "{css_version}"'.encode() in script.data, "the script loads this stylesheet"
    assert assets.CSS_VERSION_MARK.encode() not in script.data
    versioned = client.get(f"/widget/v1/widget.css?v={css_version}")
    assert versioned.mimetype == "text/css"
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = client.get("/widget/v1/widget.css?v=old")
    assert stale.headers["Cache-Control"] == "public, max-age=86400", "an old URL is not pinned for a year"


def test_the_script_never_builds_html_from_strings():
    text = (assets.STATIC_DIR / "widget.js").read_text(encoding="utf-8")
    source = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, sink
    assert "textContent" in source and "createElement" in source
    assert 'credentials: "omit"' in source, "no cookies are sent to the service"


def test_every_style_rule_is_scoped_to_the_widget():
    css = re.sub(r"/\*.*?\*/", "", (assets.STATIC_DIR / "widget.css").read_text(encoding="utf-8"), flags=re.S)
    selectors = re.findall(r"([^{}]+)\{", css)
    assert len(selectors) > 30
    for group in selectors:
        if group.strip().startswith("@media"):
            continue
        for selector in group.split(","):
            assert selector.strip().startswith(".mw"), f"unscoped: {selector.strip()!r}"


def test_the_demo_page_reproduces_the_article_with_the_widget_under_it(client, demo):
    response = client.get("/demo", base_url=DEMO_HOST)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    article = assets.demo_article()
    for text in (
        "Tạo động lực thi đua trong cán bộ, đảng viên, Nhân dân",
        "Thứ ba, 07/03/2023 - 15:45&#39;",
        "(BLC) - Thời gian qua, Đảng bộ huyện Sìn Hồ",
        "68.132 lươt người tham gia",
        "Người dân xã Phìn Hồ, huyện Sìn Hồ phát triển kinh tế từ chăn nuôi đại gia súc.",
        '<p class="byline">Hà Tĩnh</p>',
        "Than Uyên: Chú trọng thực hiện tiêu chí môi trường trong xây dựng nông thôn mới",
        "Góp sức cho những cánh rừng thêm xanh",
    ):
        assert text in html, text
    assert html.count("<p>") == len([b for b in article["body"] if "text" in b]) + 2
    assert html.index("Hà Tĩnh") < html.index('id="binh-luan"') < html.index("Góp sức cho những cánh rừng")
    script = re.search(r"<script ([^>]*)></script>", html).group(1)
    assert 'src="/widget/v1/widget.js"' in script and "async" in script
    assert f'data-key="{demo.widget_key}"' in script
    assert 'data-article-id="tao-dong-luc-thi-dua-sin-ho"' in script
    assert 'data-api="http://localhost:5000"' in script, "the API through the other loopback name"
    assert "demo-note" not in html


def test_the_demo_page_sends_a_strict_csp_that_lets_the_widget_work(client, demo):
    response = client.get("/demo", base_url=DEMO_HOST)
    csp = response.headers["Content-Security-Policy"]
    assert csp == demo_csp("http://localhost:5000")
    assert "script-src 'self';" in csp and "connect-src 'self' http://localhost:5000;" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    html = response.get_data(as_text=True)
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], "no inline scripts"
    assert " style=" not in html and "<style" not in html, "no inline styles"
    assert re.findall(r"\son[a-z]+=", html) == [], "no inline event handlers"
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    assert client.get("/demo/demo.css").mimetype == "text/css"


def test_the_api_origin_is_the_other_loopback_name_or_the_page_itself():
    assert api_origin_for("http", "127.0.0.1:5000") == "http://localhost:5000"
    assert api_origin_for("http", "localhost:8000") == "http://127.0.0.1:8000"
    assert api_origin_for("http", "localhost") == "http://127.0.0.1"
    assert api_origin_for("https", "moderation.example.vn") is None
    assert api_origin_for("http", "localhost.evil.example:5000") is None
    assert demo_csp(None).count("connect-src 'self';") == 1


def test_the_demo_page_says_what_is_missing(client, db):
    missing = client.get("/demo", base_url=DEMO_HOST)
    assert missing.status_code == 503
    html = missing.get_data(as_text=True)
    assert "moderation site create demo-article --origin http://127.0.0.1:5000" in html
    assert "data-key=" not in html
    with db.session() as session:
        widget_support.ensure_demo_site(session, ["https://baolaichau.vn"])
    elsewhere = client.get("/demo", base_url="http://news.example.org")
    text = elsewhere.get_data(as_text=True)
    assert elsewhere.status_code == 200
    assert "Địa chỉ http://news.example.org chưa được đăng ký cho trang “demo-article”" in text
    assert "connect-src 'self';" in elsewhere.headers["Content-Security-Policy"]


def _app(settings: Settings, **overrides):
    return create_app(settings=settings.with_overrides(**overrides))


@pytest.mark.parametrize(("setting", "served"), [(None, False), (False, False), (True, True)])
def test_the_demo_is_off_in_production_unless_enabled(settings, demo, setting, served):
    app = _app(settings, env="production", demo=setting)
    try:
        client = app.test_client()
        assert (client.get("/demo", base_url=DEMO_HOST).status_code == 200) is served
        assert (client.get("/demo/demo.css").status_code == 200) is served
        assert client.get("/widget/v1/widget.js").status_code == 200, "sites need the widget everywhere"
    finally:
        app.extensions["moderation"].close()


def test_the_demo_setting_is_read_from_the_environment():
    assert Settings.from_env({}).demo_enabled is True
    assert Settings.from_env({"MODERATION_DEMO": "off"}).demo_enabled is False
    production = {"MODERATION_ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite://"}
    production["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    assert Settings.from_env(production).demo_enabled is False
    assert Settings.from_env({**production, "MODERATION_DEMO": "1"}).demo_enabled is True
    with pytest.raises(ValueError, match="MODERATION_DEMO"):
        Settings.from_env({"MODERATION_DEMO": "maybe"})


def _audit_count(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_the_demo_site_is_ensured_idempotently_keeping_added_origins(db):
    with db.session() as session:
        first = widget_support.ensure_demo_site(session, widget_support.loopback_origins(5000))
    assert first.origins == ("http://127.0.0.1:5000", "http://localhost:5000")
    entries = _audit_count(db)
    with db.session() as session:
        again = widget_support.ensure_demo_site(session, widget_support.loopback_origins(5000))
    assert again == first and _audit_count(db) == entries, "nothing changes, nothing is audited"
    with db.session() as session:
        site = session.scalar(select(Site).where(Site.name == "demo-article"))
        site.origins = [*site.origins, "https://baolaichau.vn"]
    with db.session() as session:
        moved = widget_support.ensure_demo_site(session, widget_support.loopback_origins(8000, "10.0.0.5"))
    assert moved.widget_key == first.widget_key
    assert moved.origins == (
        "http://127.0.0.1:5000",
        "http://localhost:5000",
        "https://baolaichau.vn",
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://10.0.0.5:8000",
    )
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Site)) == 1


def test_moderation_up_prepares_the_demo_site(settings, db):
    prepare_demo(settings.with_overrides(port=5123))
    with db.session() as session:
        site = widget_support.widget_site_named(session, "demo-article")
    assert site is not None and "http://localhost:5123" in site.origins


def test_the_package_ships_the_demo_article():
    article = assets.demo_article()
    assert Path(assets.DEMO_ARTICLE).is_relative_to(Path(assets.__file__).parent)
    assert article["title"] == "Tạo động lực thi đua trong cán bộ, đảng viên, Nhân dân"
    assert [story["title"][:9] for story in article["related"]] == ["Than Uyên", "Góp sức c"]
