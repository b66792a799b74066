"""The JSON API under /api/v1 (see ../shared/CONTRACT.md)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Route modules attach their views to ``bp``.
from moderation.api import comments, meta, moderation, widget  # noqa: E402,F401
from moderation.api.door import add_cors_headers  # noqa: E402

bp.after_request(add_cors_headers)


@bp.after_request
def _no_sniffing(response):  # type: ignore[no-untyped-def]
    """Readers' text travels as JSON: never let a browser sniff it into HTML."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
