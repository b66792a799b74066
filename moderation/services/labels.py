"""Moderators' decisions kept as labels, the data the learning loop retrains from.

A decision speaks only to the attributes it is about:
- approving a comment the model held (or rejected) says each attribute that held it was a false
  alarm (value 0); rules that point at spam (a link, a phone number, a chat handle) count for spam;
- rejecting with a reason labels what the reason names: "Spam/quảng cáo" spam, "Xúc phạm" (insult)
  toxicity and offensive speech, "Thù ghét" (hate) toxicity and hate speech; off-topic,
  misinformation or personal information say nothing about the attributes;
- rejecting without a reason confirms whatever the model flagged;
- a reader's report upheld (a reported comment rejected) is labelled like a rejection, from the
  moderator's reason or else the reports' reasons, with source ``report``.
Each label keeps the text as it was scored and the model version that scored it. A later decision
on the same comment replaces its labels; undoing a decision removes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from moderation.storage.models import Comment, Label, Report
from moderation.text.normalize import fold

#: What a flag of the model or a rule says about an attribute, when a moderator overturns it.
FLAG_ATTRIBUTES = {
    "toxicity": "toxicity",
    "hate_speech": "hate_speech",
    "spam": "spam",
    "link": "spam",
    "phone": "spam",
    "chat_handle": "spam",
}
#: Folded words of a rejection (or report) reason and the labels they give.
REASON_LABELS: tuple[tuple[tuple[str, ...], dict[str, int]], ...] = (
    (("spam", "quang cao", "advertis", "lua dao", "scam"), {"spam": 1}),
    (("thu ghet", "hate", "phan biet", "ky thi"), {"toxicity": 1, "hate_speech": 2}),
    (
        ("xuc pham", "insult", "tho tuc", "chui", "toxic", "offensive", "lang ma"),
        {"toxicity": 1, "hate_speech": 1},
    ),
)


def labels_from_reason(reason: str | None) -> dict[str, int]:
    """The labels a rejection reason names (none for reasons that are not about the attributes)."""
    if not reason:
        return {}
    folded = fold(reason)
    out: dict[str, int] = {}
    for words, labels in REASON_LABELS:
        if any(word in folded for word in words):
            for attribute, value in labels.items():
                out[attribute] = max(out.get(attribute, 0), value)
    return out


def _model_flags(analysis: dict[str, Any] | None) -> list[str]:
    reasons = (analysis or {}).get("reasons") or []
    return list(dict.fromkeys(FLAG_ATTRIBUTES[r] for r in reasons if r in FLAG_ATTRIBUTES))


def _confirmed(analysis: dict[str, Any] | None) -> dict[str, int]:
    """What a reasonless rejection confirms: the attributes the model flagged, at the model's class."""
    out: dict[str, int] = {}
    hate = (((analysis or {}).get("attributes") or {}).get("hate_speech") or {}).get("label")
    for attribute in _model_flags(analysis):
        out[attribute] = {"offensive": 1, "hate": 2}.get(str(hate), 2) if attribute == "hate_speech" else 1
    return out


def labels_for_decision(
    analysis: dict[str, Any] | None,
    action: str,
    reason: str | None,
    report_reasons: Sequence[str | None] = (),
) -> tuple[str, dict[str, int]]:
    """(source, {attribute: value}) for one decision; pure, so the mapping is easy to test."""
    if action == "approve":
        flags = _model_flags(analysis)
        for report_reason in report_reasons:
            flags += [a for a in labels_from_reason(report_reason) if a not in flags]
        return ("report" if report_reasons else "approve"), {attribute: 0 for attribute in flags}
    named = labels_from_reason(reason)
    source = "report" if report_reasons else "reject"
    if not named and report_reasons and not reason:
        for report_reason in report_reasons:
            for attribute, value in labels_from_reason(report_reason).items():
                named[attribute] = max(named.get(attribute, 0), value)
    if not named and not reason:
        named = _confirmed(analysis)
    return source, named


def open_report_reasons(session: Session, comment_id: str) -> list[str | None]:
    return list(
        session.scalars(
            select(Report.reason).where(Report.comment_id == comment_id, Report.resolved_at.is_(None))
        )
    )


def record(
    session: Session,
    comment: Comment,
    *,
    action: str,
    reason: str | None,
    moderator_id: int | None,
    batch: str,
    at: datetime,
    report_reasons: Sequence[str | None] = (),
) -> int:
    """Replace the comment's labels with what this decision says; returns how many were written."""
    session.execute(delete(Label).where(Label.comment_id == comment.id))
    if comment.model_version is None:
        # Never scored (decided while pending): nothing to learn about the model.
        return 0
    source, labels = labels_for_decision(comment.analysis, action, reason, report_reasons)
    for attribute, value in labels.items():
        session.add(
            Label(
                site_id=comment.site_id,
                comment_id=comment.id,
                attribute=attribute,
                value=value,
                source=source,
                reason=reason,
                text=comment.content,
                model_version=comment.model_version,
                moderator_id=moderator_id,
                batch=batch,
                created_at=at,
            )
        )
    return len(labels)


def forget(session: Session, comment_ids: Iterable[str], batch: str) -> None:
    """Undo: drop the labels that one action wrote for these comments."""
    ids = list(comment_ids)
    if ids:
        session.execute(delete(Label).where(Label.comment_id.in_(ids), Label.batch == batch))


def site_labels(session: Session, site_id: int) -> list[Label]:
    """Every label of a site, oldest first."""
    return list(
        session.scalars(select(Label).where(Label.site_id == site_id).order_by(Label.created_at, Label.id))
    )
