"""Errors on dashboard pages answer HTML (a page, or an htmx fragment), never the API's JSON.

Registered on the blueprint, so they take precedence over the app-wide JSON handlers for
dashboard URLs only; the API keeps its contract.
"""

from __future__ import annotations

import logging

from flask import Response, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from moderation import errors
from moderation.dashboard import bp
from moderation.dashboard.web import is_htmx
from moderation.limits import retry_after_seconds

log = logging.getLogger(__name__)


def _page(status: int, title: str, message: str) -> Response:
    """A whole error page, or for htmx a message swapped into the page's alert area."""
    if is_htmx():
        response = make_response(
            render_template("dashboard/_error_fragment.html", title=title, message=message)
        )
        response.headers["HX-Retarget"] = "#global-messages"
        response.headers["HX-Reswap"] = "innerHTML"
    else:
        response = make_response(
            render_template("dashboard/error.html", status=status, title=title, message=message)
        )
    response.status_code = status
    return response


@bp.errorhandler(CSRFError)
def csrf_error(exc: CSRFError) -> Response:
    log.info("dashboard CSRF refusal on %s %s: %s", request.method, request.path, exc.description)
    return _page(
        400,
        _("The form has expired"),
        _("This page was open too long or the form was not sent from the dashboard. Reload and try again."),
    )


@bp.errorhandler(errors.PermissionDenied)
def forbidden(exc: errors.PermissionDenied) -> Response:
    return _page(403, _("Not allowed"), _("Your account cannot see or do this."))


@bp.errorhandler(errors.NotFound)
def not_found(exc: errors.NotFound) -> Response:
    return _page(
        404, _("Not found"), _("It may have been deleted, or it belongs to a site you do not cover.")
    )


@bp.errorhandler(errors.ValidationError)
def invalid(exc: errors.ValidationError) -> Response:
    from moderation.dashboard.labels import field_message

    details = "; ".join(field_message(message) for message in exc.fields.values())
    return _page(422, _("Please check the form"), details or _("Some values are not valid."))


@bp.errorhandler(errors.Conflict)
def conflict(exc: errors.Conflict) -> Response:
    return _page(409, _("Already changed"), _("Someone changed this in the meantime. Reload to see it."))


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    titles = {
        400: _("Bad request"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Not allowed"),
        413: _("Too large"),
        429: _("Too many attempts"),
    }
    response = _page(status, titles.get(status, _("Error")), _("Go back to the queue and try again."))
    if status == 429:
        response.headers["Retry-After"] = str(retry_after_seconds())
    return response


@bp.errorhandler(Exception)
def unexpected(exc: Exception) -> Response:
    if isinstance(exc, OperationalError | RedisError | errors.StorageUnavailable | errors.QueueUnavailable):
        log.warning("dashboard: storage unavailable on %s %s: %s", request.method, request.path, exc)
        return _page(503, _("Temporarily unavailable"), _("The database cannot be reached. Try again soon."))
    log.exception("dashboard: unhandled error on %s %s", request.method, request.path)
    return _page(500, _("Something went wrong"), _("The error was logged. Try again, or reload the page."))
