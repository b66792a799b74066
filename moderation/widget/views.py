"""Routes: the widget's files (long-cached, public) and the demo article page."""

from __future__ import annotations

import re

from flask import Response, abort, current_app, make_response, request

from moderation.extensions import resources
from moderation.services import widget_support
from moderation.widget import assets, bp

LOOPBACK_HOST = re.compile(r"^(127\.0\.0\.1|localhost)(:\d{1,5})?$")


def _asset_response(asset: assets.Asset, cache_control: str) -> Response:
    """A public file any page may load: cached, revalidated by ETag, never sniffed, no cookies."""
    response = Response(asset.body, mimetype=asset.mimetype)
    response.set_etag(asset.etag)
    response.headers["Cache-Control"] = cache_control
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)


@bp.get("/widget/v1/widget.js")
def widget_js() -> Response:
    return _asset_response(assets.script(), assets.SCRIPT_CACHE)


@bp.get("/widget/v1/widget.css")
def widget_css() -> Response:
    asset = assets.stylesheet()
    versioned = request.args.get("v") == asset.etag
    return _asset_response(asset, assets.VERSIONED_CACHE if versioned else assets.UNVERSIONED_CACHE)


@bp.get("/demo/demo.css")
def demo_css() -> Response:
    _demo_enabled()
    return _asset_response(assets.stylesheet("demo.css"), assets.UNVERSIONED_CACHE)


def api_origin_for(scheme: str, host: str) -> str | None:
    """The service's other loopback name for a page served on one (127.0.0.1 <-> localhost).

    Browsers send no ``Origin`` on same-origin GET requests, and the widget API checks the
    page's Origin; so the demo page calls the API through the other name: cross-origin, with
    CORS, exactly as on a newspaper's page. ``None`` for any other host (same origin then).
    """
    match = LOOPBACK_HOST.match(host)
    if scheme != "http" or match is None:
        return None
    other = "localhost" if match.group(1) == "127.0.0.1" else "127.0.0.1"
    return f"http://{other}{match.group(2) or ''}"


def demo_csp(api_origin: str | None) -> str:
    """Strict: the page's own script and styles only; the widget may call the API's origin."""
    connect = f"'self' {api_origin}" if api_origin else "'self'"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _demo_enabled() -> None:
    if not resources().settings.demo_enabled:
        abort(404)


@bp.get("/demo")
def demo() -> Response:
    """The article of a regional newspaper with the widget under it, on the demo site's key."""
    _demo_enabled()
    with resources().db.session() as session:
        site = widget_support.widget_site_named(session, widget_support.DEMO_SITE)
    page_origin = f"{request.scheme}://{request.host}"
    api_origin = api_origin_for(request.scheme, request.host)
    problem = None
    if site is None:
        problem = (
            f"Chưa có trang “{widget_support.DEMO_SITE}”: chạy `moderation up` (hoặc ./run) để tạo, "
            f"hoặc `moderation site create {widget_support.DEMO_SITE} --origin {page_origin}`."
        )
    elif page_origin not in site.origins:
        problem = (
            f"Địa chỉ {page_origin} chưa được đăng ký cho trang “{site.name}”, nên trình duyệt "
            "không được gửi bình luận từ đây. Thêm nó trong trang quản trị (Tiện ích & chống lạm dụng)."
        )
    # Rendered without the app's context processors: they would read the dashboard's session.
    html = current_app.jinja_env.get_template("widget/demo.html").render(
        article=assets.demo_article(), site=site, api_base=api_origin, problem=problem
    )
    response = make_response(html, 503 if site is None else 200)
    response.headers["Content-Security-Policy"] = demo_csp(api_origin)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["Cache-Control"] = "no-cache"
    return response
