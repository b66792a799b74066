"""Scoring stored comments in batches and applying each site's policy; idempotent."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from moderation.scoring.policy import Policy
from moderation.storage import repositories as repo
from moderation.storage.db import Database
from moderation.storage.models import utcnow

log = logging.getLogger(__name__)
STATUS_BY_DECISION = {"publish": "published", "review": "review", "reject": "rejected"}


class AnalyzerLike(Protocol):
    model_version: str

    def analyze(
        self, texts: Sequence[str], ids: Sequence[Any] | None = None, policies: Any = None
    ) -> list[dict[str, Any]]: ...


@dataclass
class ScoringReport:
    requested: int = 0
    scored: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    by_status: dict[str, int] = field(default_factory=dict)


def _analyze_with_fallback(
    analyzer: AnalyzerLike, texts: list[str], ids: list[str], policies: list[Policy], report: ScoringReport
) -> list[dict[str, Any] | None]:
    """Score the batch; if it raises, score one by one so a poison comment cannot block the rest."""
    try:
        return list(analyzer.analyze(texts, ids, policies))
    except Exception:
        log.exception("batch scoring failed for %d comments; retrying one by one", len(texts))
    results: list[dict[str, Any] | None] = []
    for text, comment_id, policy in zip(texts, ids, policies, strict=True):
        try:
            results.append(analyzer.analyze([text], [comment_id], [policy])[0])
        except Exception:
            log.exception("scoring failed for comment %s", comment_id)
            report.errors.append(comment_id)
            results.append(None)
    return results


def score_comments(
    db: Database,
    analyzer: AnalyzerLike,
    comment_ids: Sequence[str],
    *,
    clock: Callable[[], datetime] = utcnow,
) -> ScoringReport:
    """Score pending comments and apply each site's policy; idempotent."""
    report = ScoringReport(requested=len(comment_ids))
    with db.session() as session:
        rows = repo.pending_for_scoring(session, list(dict.fromkeys(comment_ids)))
        stored = repo.policy_settings(session, (site_id for _, site_id, _ in rows))
    report.skipped = len(comment_ids) - len(rows)
    if not rows:
        return report
    policies_by_site = {site_id: Policy.from_dict(stored.get(site_id)) for _, site_id, _ in rows}
    ids = [comment_id for comment_id, _, _ in rows]
    texts = [content for _, _, content in rows]
    policies = [policies_by_site[site_id] for _, site_id, _ in rows]
    analyses = _analyze_with_fallback(analyzer, texts, ids, policies, report)
    now = clock()
    decisions = []
    for comment_id, analysis in zip(ids, analyses, strict=True):
        if analysis is None:
            status, reasons, version = "review", ["scoring_error"], analyzer.model_version
        else:
            status, reasons, version = (
                STATUS_BY_DECISION[analysis["decision"]],
                analysis["reasons"],
                (analysis["model_version"]),
            )
        report.by_status[status] = report.by_status.get(status, 0) + 1
        decisions.append(
            {
                "b_id": comment_id,
                "b_status": status,
                "b_analysis": analysis,
                "b_model_version": version,
                "b_reasons": reasons,
                "b_at": now,
            }
        )
    with db.session() as session:
        report.scored = repo.save_model_decisions(session, decisions)
    return report
