"""Signing in and out of the dashboard, the session's lifetime, and the language switch.

The session cookie holds the moderator id and a digest of their password hash: changing the
password or deactivating the account ends every open session at the next request. A sign-in
lasts ``settings.session_hours`` however active the moderator is.
"""

from __future__ import annotations

import logging
import time

from flask import Response, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from moderation.dashboard import bp
from moderation.dashboard.forms import LoginForm
from moderation.dashboard.i18n import LANGUAGES
from moderation.dashboard.web import is_htmx, safe_next
from moderation.errors import AccountLocked, AuthenticationError, PermissionDenied
from moderation.extensions import resources
from moderation.limits import SIGN_IN_RATE, limiter, remote_address
from moderation.services import dashboard_support as support
from moderation.services.accounts import ModeratorIdentity

log = logging.getLogger(__name__)
#: Endpoints reachable without signing in.
PUBLIC_ENDPOINTS = {"dashboard.login", "dashboard.static", "dashboard.set_language"}


class DashboardUser(UserMixin):
    """What Flask-Login keeps for a request: the service identity and the session fingerprint."""

    def __init__(self, identity: ModeratorIdentity, fingerprint: str) -> None:
        self.identity = identity
        self.fingerprint = fingerprint

    def get_id(self) -> str:
        return f"{self.identity.id}.{self.fingerprint}"

    @property
    def username(self) -> str:
        return self.identity.username

    @property
    def is_admin(self) -> bool:
        return self.identity.role == "admin"


def load_user(user_id: str) -> DashboardUser | None:
    raw_id, _sep, fingerprint = user_id.partition(".")
    if not raw_id.isdigit() or not fingerprint:
        return None
    with resources().db.session() as db_session:
        identity = support.load_identity(db_session, int(raw_id), fingerprint)
    return DashboardUser(identity, fingerprint) if identity is not None else None


def _to_login() -> BaseResponse:
    target = url_for("dashboard.login", next=request.full_path if request.method == "GET" else None)
    if is_htmx():
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _clear_session() -> None:
    """Forget everything but the language: a new sign-in never inherits an old session's state."""
    lang = session.get("lang")
    session.clear()
    if lang in LANGUAGES:
        session["lang"] = lang


@bp.before_request
def require_sign_in() -> BaseResponse | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return _to_login()
    hours = resources().settings.session_hours
    signed_in_at = session.get("signed_in_at")
    if not isinstance(signed_in_at, int | float) or time.time() - signed_in_at > hours * 3600:
        logout_user()
        _clear_session()
        flash(_("Your session has expired. Please sign in again."), "info")
        return _to_login()
    return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(SIGN_IN_RATE, methods=["POST"], key_func=remote_address, scope="sign-in")
def login() -> BaseResponse | str | tuple[str, int]:
    target = safe_next(request.args.get("next")) or url_for("dashboard.queue")
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            with resources().db.session() as db_session:
                identity, fingerprint = support.authenticate(
                    db_session, form.username.data or "", form.password.data or ""
                )
        except AccountLocked as exc:
            form.form_errors.append(
                _(
                    "Too many failed sign-ins: this account is locked for %(minutes)s more minutes.",
                    minutes=exc.minutes,
                )
            )
            status = 401
        except AuthenticationError:
            # The username only: readers' and moderators' addresses stay out of the logs.
            log.info("dashboard sign-in refused for %r", form.username.data)
            form.form_errors.append(_("Wrong username or password."))
            status = 401
        except PermissionDenied:
            form.form_errors.append(_("This account has been deactivated. Ask an administrator."))
            status = 403
        else:
            _clear_session()
            login_user(DashboardUser(identity, fingerprint))
            session.permanent = True
            session["signed_in_at"] = time.time()
            return redirect(target)
    elif request.method == "POST":
        status = 400
    return render_template("dashboard/login.html", form=form), status


@bp.post("/logout")
def logout() -> BaseResponse:
    logout_user()
    _clear_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("dashboard.login"))


@bp.post("/language")
def set_language() -> BaseResponse:
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("dashboard.queue"))
