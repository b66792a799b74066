"""The site side: the comment widget's script and stylesheet, and the demo article page at ``/demo``.

A newspaper adds the widget with one snippet (see ``moderation.widget.assets.snippet``); the
widget then talks to the JSON API under ``/api/v1`` with the site's public widget key.
Register with ``app.register_blueprint(moderation.widget.bp)``; nothing happens at import.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("widget", __name__, template_folder="templates")

# View modules attach their routes to ``bp``.
from moderation.widget import views  # noqa: E402,F401
