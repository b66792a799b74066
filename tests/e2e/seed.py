"""Realistic data for dashboard tests and screenshots: sites, moderators, scored comments.

Comments are stored through the real ``submit_comment`` service, then given a model decision and
an analysis in the contract's shape (scores, spans, reasons), as a worker would leave them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from moderation import services
from moderation.storage.db import Database
from moderation.storage.models import Site, utcnow

PASSWORD = "correct horse battery"
DEFAULT_SCORES = {"toxicity": 0.82, "hate_speech": 0.31, "spam": 0.04}


def make_site(db: Database, name: str = "demo") -> tuple[Site, str]:
    with db.session() as session:
        return services.create_site(session, name)


def make_moderator(db: Database, username: str, role: str = "moderator", sites: Sequence[str] = ()) -> int:
    with db.session() as session:
        return services.create_moderator(session, username, PASSWORD, role, sites).id


def spans_of(content: str, words: Sequence[str]) -> list[dict[str, Any]]:
    """Offsets of each word's first occurrence, as the contract's ``spans``."""
    spans = []
    for word in words:
        start = content.find(word)
        if start >= 0:
            spans.append({"start": start, "end": start + len(word), "text": word})
    return spans


def analysis(
    comment_id: str,
    content: str,
    scores: dict[str, float],
    highlight: Sequence[str],
    reasons: Sequence[str],
    decision: str,
) -> dict[str, Any]:
    hate = scores["hate_speech"]
    return {
        "id": comment_id,
        "model_version": "test",
        "attributes": {
            "toxicity": {"score": scores["toxicity"], "flagged": scores["toxicity"] >= 0.5},
            "hate_speech": {
                "label": "hate" if hate >= 0.7 else "offensive" if hate >= 0.4 else "clean",
                "scores": {
                    "clean": round(1 - hate, 4),
                    "offensive": round(hate * 0.6, 4),
                    "hate": round(hate * 0.4, 4),
                },
            },
            "spam": {"score": scores["spam"], "flagged": scores["spam"] >= 0.5},
            "constructive": {"score": 0.2, "flagged": False},
        },
        "spans": spans_of(content, highlight),
        "rules": [r for r in reasons if r not in ("toxicity", "hate_speech", "spam")],
        "decision": decision,
        "reasons": list(reasons),
    }


def add_comment(
    db: Database,
    site: Site,
    content: str,
    *,
    status: str = "review",
    author: str = "Lan",
    email: str | None = None,
    article: str = "a-1",
    title: str | None = "Giá xăng tăng lần thứ ba trong tháng",
    url: str | None = "https://example.vn/a-1",
    scores: dict[str, float] | None = None,
    highlight: Sequence[str] = (),
    reasons: Sequence[str] = ("toxicity",),
    created: datetime | None = None,
    parent_id: str | None = None,
) -> str:
    """Store a comment as the model left it: ``status`` review, published or rejected (or pending)."""
    scores = scores or dict(DEFAULT_SCORES)
    with db.session() as session:
        comment = services.submit_comment(
            session,
            site,
            services.CommentSubmission(
                article_id=article,
                content=content,
                author_name=author,
                author_email=email,
                article_title=title,
                article_url=url,
                parent_id=parent_id,
            ),
        )
        if status != "pending":
            decision = {"review": "review", "published": "publish", "rejected": "reject"}[status]
            comment.status = status
            comment.decided_by = "model"
            comment.decision_reasons = list(reasons) if status != "published" else []
            comment.analysis = analysis(comment.id, content, scores, highlight, reasons, decision)
            comment.model_version = "test"
            comment.scored_at = comment.decided_at = created or utcnow()
            comment.score_toxicity = scores["toxicity"]
            comment.score_hate_speech = scores["hate_speech"]
            comment.score_spam = scores["spam"]
            comment.score_max = max(scores.values())
        if created is not None:
            comment.created_at = created
        return comment.id


DEMO_ARTICLE = "tao-dong-luc-thi-dua-sin-ho"


def demo_site(db: Database, base_url: str, **abuse: Any) -> Site:
    """The demo article's site, registered for the server at ``base_url`` as ``moderation up`` does;
    ``abuse`` overrides its anti-abuse settings (e.g. a shorter ``min_seconds`` for quick tests)."""
    from urllib.parse import urlsplit

    from moderation.services.widget_support import ensure_demo_site, loopback_origins

    with db.session() as session:
        ensure_demo_site(session, loopback_origins(urlsplit(base_url).port or 80))
        site = services.site_named(session, "demo-article")
        if abuse:
            current = services.abuse_settings(session, site.id).to_dict()
            services.update_abuse_settings(session, site.id, {**current, **abuse}, actor="test")
        return site
