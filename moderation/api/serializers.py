"""Public shapes of stored objects; emails and IPs never leave through these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moderation.services import Thread
from moderation.storage.models import Comment


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def comment_for_site(comment: Comment) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": comment.id,
        "status": comment.status,
        "article_id": comment.article.external_id,
        "parent_id": comment.parent_id,
        "content": comment.content,
        "author": {"name": comment.author.name},
        "created_at": iso(comment.created_at),
    }
    if comment.analysis is not None:
        body["analysis"] = comment.analysis
    if comment.decided_by is not None:
        body["decision"] = {
            "by": comment.decided_by,
            "reasons": list(comment.decision_reasons or []),
            "at": iso(comment.decided_at),
        }
    return body


def public_thread(thread: Thread) -> dict[str, Any]:
    comment = thread.comment
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "author": {"name": thread.author_name},
        "content": comment.content,
        "created_at": iso(comment.created_at),
        "replies": [public_thread(reply) for reply in thread.replies],
    }


def comment_for_moderator(comment: Comment) -> dict[str, Any]:
    body = comment_for_site(comment)
    body["site_id"] = comment.site_id
    body["article"] = {
        "id": comment.article.external_id,
        "title": comment.article.title,
        "url": comment.article.url,
    }
    body["model_version"] = comment.model_version
    body["scored_at"] = iso(comment.scored_at)
    return body
