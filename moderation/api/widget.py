"""What the widget in a reader's browser may do with the site's public key: fetch its form
settings, post comments (see ``comments.py``), follow its own comment, and report one."""

from __future__ import annotations

import time
from typing import Any

from flask import Response, jsonify, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from moderation import services
from moderation.api import bp, schemas
from moderation.api.auth import current_caller, widget_site
from moderation.api.door import reader_key
from moderation.extensions import resources
from moderation.limits import limiter
from moderation.services.antiabuse import AbuseSettings
from moderation.services.site_cache import SiteContext
from moderation.storage.models import Site

REPORT_RATE = "10/hour"
#: The zone the widget shows times in when the site names none (the newsroom's, as the dashboard's).
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(resources().settings.secret_key, salt="widget-form")


def form_token(site_id: int, at: float | None = None) -> str:
    """A signed note of when the form was opened, so a post seconds later can be told from a bot's."""
    return _signer().dumps({"s": site_id, "t": time.time() if at is None else at})


def bot_trap(data: dict[str, Any], site_id: int, settings: AbuseSettings) -> str | None:
    """Which bot trap a widget post fell into, if any: the hidden field, or sent too fast."""
    if settings.honeypot and data.get("website"):
        return "honeypot"
    if settings.min_seconds <= 0:
        return None
    try:
        opened = _signer().loads(str(data.get("form_token", "")))
    except BadSignature:
        return "too_fast"
    if (
        not isinstance(opened, dict)
        or opened.get("s") != site_id
        or not isinstance(opened.get("t"), int | float)
    ):
        return "too_fast"
    return "too_fast" if time.time() - opened["t"] < settings.min_seconds else None


@bp.get("/widget/config")
def widget_config() -> Response:
    res = resources()
    with res.db.session() as session:
        site = widget_site(session)
        settings = site.abuse
        return jsonify(
            {
                "site": site.name,
                "form_token": form_token(site.id),
                "max_content_chars": res.settings.max_content_chars,
                "max_name_chars": res.settings.max_name_chars,
                "min_seconds": settings.min_seconds,
                "timezone": _site_timezone(session, site),
            }
        )


def _site_timezone(session: Session, site: SiteContext) -> str:
    """The site's own time zone where sites have one (a ``timezone`` column), else the newsroom's."""
    zone = getattr(site, "timezone", None)
    if zone is None and hasattr(Site, "timezone"):
        zone = getattr(session.get(Site, site.id), "timezone", None)
    return zone or DEFAULT_TIMEZONE


@bp.get("/comments/<comment_id>/status")
def comment_status(comment_id: str) -> Response:
    """Only the status: the widget follows the reader's own comment (its id is unguessable)."""
    with resources().db.session(read_only=True) as session:
        caller = current_caller(session)
        comment = services.get_site_comment(session, caller.site, comment_id)
        return jsonify({"id": comment.id, "status": comment.status})


@bp.post("/comments/<comment_id>/reports")
@limiter.limit(REPORT_RATE, key_func=reader_key, scope="report-reader")
def report(comment_id: str) -> tuple[Response, int]:
    with resources().db.session() as session:
        caller = current_caller(session)
        body = schemas.parse_json(request)
        reason = schemas.report_reason(body)
        ip = request.remote_addr if caller.widget else schemas.client_ip(body)
        services.report_comment(session, caller.site, comment_id, reason, ip)
    return jsonify({"id": comment_id, "status": "reported"}), 202
