"""The API's own description."""

from __future__ import annotations

from flask import Response, jsonify

from moderation.api import bp
from moderation.api.openapi import spec
from moderation.extensions import resources


@bp.get("/openapi.json")
def openapi() -> Response:
    settings = resources().settings
    return jsonify(spec(settings.max_content_chars, settings.max_name_chars))
