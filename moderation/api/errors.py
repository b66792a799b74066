"""The contract's JSON errors: ``{"error": {"code", "message", "fields"?}}`` with the fitting status."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from moderation import errors
from moderation.limits import retry_after_seconds

log = logging.getLogger(__name__)

STATUS_BY_ERROR: list[tuple[type[errors.ModerationError], int]] = [
    (errors.ValidationError, 422),
    (errors.NotFound, 404),
    (errors.AuthenticationError, 401),
    (errors.PermissionDenied, 403),
    (errors.Conflict, 409),
    (errors.StorageUnavailable, 503),
    (errors.QueueUnavailable, 503),
    (errors.ModelArtifactError, 503),
]


class BadRequest(errors.ModerationError):
    """The request body is not valid JSON."""

    code = "malformed_json"


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="moderation"'
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


def _status_for(exc: errors.ModerationError) -> int:
    if isinstance(exc, BadRequest):
        return 400
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 500


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(errors.ModerationError)
    def domain_error(exc: errors.ModerationError) -> Response:
        status = _status_for(exc)
        if status >= 500:
            log.warning("%s on %s %s: %s", exc.code, request.method, request.path, exc.message)
        return error_response(status, exc.code, exc.message, exc.fields or None)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = HTTP_CODES.get(status, "error")
        message = exc.description or code
        if status == 413:
            message = "request body too large"
        response = error_response(status, code, message)
        if status == 429:
            retry_after = getattr(exc, "retry_after", None) or retry_after_seconds()
            response.headers["Retry-After"] = str(retry_after)
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        if isinstance(exc, OperationalError):
            log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
            return error_response(503, errors.StorageUnavailable.code, "database unavailable")
        if isinstance(exc, RedisError):
            log.warning("Redis unavailable on %s %s: %s", request.method, request.path, exc)
            return error_response(503, errors.QueueUnavailable.code, "queue unavailable")
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "internal error")
