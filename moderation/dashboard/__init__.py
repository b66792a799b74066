"""The moderators' dashboard: server-rendered pages (Jinja + htmx) over the review and admin services.

Views only parse requests, call services and render; every rule lives in ``moderation.services``.
Wire it into an app with ``moderation.dashboard.setup.init_dashboard``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# View modules attach their routes to ``bp`` (the same pattern as the API blueprint).
from moderation.dashboard import (  # noqa: E402,F401
    auth,
    errors,
    security,
    views_admin,
    views_authors,
    views_models,
    views_queue,
    views_sites,
)
