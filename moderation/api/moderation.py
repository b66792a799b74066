"""Moderator endpoints: sign in for a bearer token, read the queue, decide."""

from __future__ import annotations

from flask import Response, jsonify, request

from moderation import services
from moderation.api import bp, schemas
from moderation.api.auth import current_moderator
from moderation.api.serializers import comment_for_moderator, iso
from moderation.errors import ValidationError
from moderation.extensions import resources
from moderation.limits import SIGN_IN_RATE, limiter, remote_address
from moderation.storage.models import COMMENT_STATUSES


@bp.post("/moderation/token")
@limiter.limit(SIGN_IN_RATE, key_func=remote_address, scope="sign-in")
def issue_token() -> Response:
    res = resources()
    username, password = schemas.login_request(schemas.parse_json(request))
    with res.db.session() as session:
        token, expires_at = services.issue_moderator_token(
            session, username, password, res.settings.secret_key, res.settings.token_ttl_seconds
        )
    return jsonify({"token": token, "token_type": "Bearer", "expires_at": iso(expires_at)})


@bp.get("/moderation/queue")
def queue() -> Response:
    status = request.args.get("status", "review")
    if status not in COMMENT_STATUSES:
        raise ValidationError(
            "invalid query parameters", fields={"status": f"one of {', '.join(COMMENT_STATUSES)}"}
        )
    order = request.args.get("order", "oldest")
    if order not in ("oldest", "newest"):
        raise ValidationError("invalid query parameters", fields={"order": "oldest or newest"})
    page, per_page = schemas.page_args(request.args, default_per_page=50, max_per_page=200)
    with resources().db.session() as session:
        moderator = current_moderator(session)
        total, items = services.moderation_queue(
            session, moderator, status=status, page=page, per_page=per_page, newest_first=order == "newest"
        )
        return jsonify(
            {
                "items": [comment_for_moderator(comment) for comment in items],
                "total": total,
                "page": page,
                "per_page": per_page,
                "status": status,
            }
        )


@bp.post("/moderation/comments/<comment_id>/decision")
def decide(comment_id: str) -> Response:
    with resources().db.session() as session:
        moderator = current_moderator(session)
        action, reason = schemas.decision_request(schemas.parse_json(request))
        comment = services.decide(session, moderator, comment_id, action, reason)
        return jsonify(comment_for_moderator(comment))
