"""Wiring the dashboard into an app: sessions, sign-in, CSRF, languages, security headers.

Called once by ``create_app``; everything here is per-app, nothing happens at import.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, redirect, url_for
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from moderation.api import bp as api_bp
from moderation.dashboard import bp, i18n, presenters
from moderation.dashboard.auth import load_user
from moderation.settings import Settings


def init_dashboard(app: Flask, settings: Settings) -> None:
    """Register the blueprint with Flask-Login, CSRF protection (the JSON API exempt) and Babel."""
    hours = settings.session_hours
    app.config.update(
        SESSION_COOKIE_NAME="moderation_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=hours),
        # The CSRF token lives as long as the sign-in, so a queue left open stays usable.
        WTF_CSRF_TIME_LIMIT=max(60, int(hours * 3600)),
        BABEL_DEFAULT_LOCALE=i18n.DEFAULT_LOCALE,
        BABEL_DEFAULT_TIMEZONE=presenters.NEWSROOM_TZ_NAME,
        BABEL_TRANSLATION_DIRECTORIES=str(i18n.TRANSLATIONS_DIR),
    )
    login_manager = LoginManager()
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.login_view = "dashboard.login"
    login_manager.user_loader(load_user)
    # Flask-Login's remember-me refresh reads the session on every response of the whole app, which
    # adds "Vary: Cookie" to the public JSON API. Sign-ins never set a remember-me cookie: drop it.
    app.after_request_funcs[None].remove(login_manager._update_remember_cookie)

    csrf = CSRFProtect(app)
    # Sites and moderators' scripts call the JSON API with bearer credentials, not cookies.
    csrf.exempt(api_bp)

    Babel(app, locale_selector=i18n.select_locale)
    presenters.register_template_helpers(app)

    app.register_blueprint(bp)
    app.add_url_rule("/", endpoint="dashboard_root", view_func=lambda: redirect(url_for("dashboard.index")))
