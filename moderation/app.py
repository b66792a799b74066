"""The Flask application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

from moderation import extensions
from moderation.api.errors import register_error_handlers
from moderation.settings import Settings


def _refuse_nul_characters() -> None:
    """PostgreSQL text cannot hold NUL: refuse it in URLs and forms before it reaches a query."""
    if "\x00" in request.path or any("\x00" in value for value in request.args.values()):
        raise BadRequest("NUL characters are not allowed in the URL")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and any(
        "\x00" in value for value in request.form.values()
    ):
        raise BadRequest("NUL characters are not allowed in the form")


def create_app(test_config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the app; ``test_config`` overrides settings fields (e.g. ``database_url``)."""
    settings = settings or Settings.from_env()
    if test_config:
        settings = settings.with_overrides(**test_config)
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_AS_ASCII=False,
        TESTING=settings.env == "test",
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Flask-Limiter logs each breach with its key, which holds a reader's address: personal data.
    logging.getLogger("flask-limiter").setLevel(logging.WARNING)
    if settings.proxy_hops:
        # Behind a reverse proxy the connection is the proxy's: take the reader's address (for
        # per-reader limits) from the trusted hops' X-Forwarded-* headers.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    extensions.init_app(app, settings)

    from moderation.api import bp as api_bp
    from moderation.dashboard.setup import init_dashboard
    from moderation.limits import init_limiter
    from moderation.ops import bp as ops_bp
    from moderation.widget import bp as widget_bp

    init_limiter(app, settings)
    app.register_blueprint(api_bp)
    app.register_blueprint(ops_bp)
    # The widget's script and stylesheet, and the demo article page (``/demo``, per settings).
    app.register_blueprint(widget_bp)
    register_error_handlers(app)
    app.before_request(_refuse_nul_characters)
    # The moderators' pages: sign-in, CSRF (the API exempt), languages, the blueprint itself.
    init_dashboard(app, settings)
    return app
