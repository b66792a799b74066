"""Scoring stored comments in batches and applying each site's policy; idempotent."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from moderation.scoring.policy import Policy, apply_policy
from moderation.scoring.types import ModelThresholds, ScoredText, analysis_dict, decision_scores
from moderation.services.antiabuse import AbuseSettings
from moderation.storage import repositories as repo
from moderation.storage.db import Database
from moderation.storage.models import utcnow

log = logging.getLogger(__name__)
STATUS_BY_DECISION = {"publish": "published", "review": "review", "reject": "rejected"}


class AnalyzerLike(Protocol):
    model_version: str
    thresholds: ModelThresholds

    def score(self, texts: Sequence[str]) -> list[ScoredText]: ...


@dataclass
class ScoringReport:
    requested: int = 0
    scored: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    by_status: dict[str, int] = field(default_factory=dict)


def _score_with_fallback(
    analyzer: AnalyzerLike, texts: list[str], ids: list[str], report: ScoringReport
) -> list[ScoredText | None]:
    """Score the batch; if it raises, score one by one so a poison comment cannot block the rest."""
    try:
        return list(analyzer.score(texts))
    except Exception:
        log.exception("batch scoring failed for %d comments; retrying one by one", len(texts))
    results: list[ScoredText | None] = []
    for text, comment_id in zip(texts, ids, strict=True):
        try:
            results.append(analyzer.score([text])[0])
        except Exception:
            log.exception("scoring failed for comment %s", comment_id)
            report.errors.append(comment_id)
            results.append(None)
    return results


def _decision_row(
    comment_id: str,
    scored: ScoredText | None,
    policy: Policy,
    author_status: str,
    analyzer: AnalyzerLike,
    at: datetime,
) -> dict[str, Any]:
    if scored is None:
        status, reasons, analysis, scores = "review", ["scoring_error"], None, {}
    else:
        decision, reasons = apply_policy(scored, policy, analyzer.thresholds, author_status=author_status)
        analysis = analysis_dict(
            scored,
            comment_id=comment_id,
            model_version=analyzer.model_version,
            thresholds=analyzer.thresholds,
            decision=decision,
            reasons=reasons,
        )
        status, scores = STATUS_BY_DECISION[decision], decision_scores(analysis)
    return {
        "b_id": comment_id,
        "b_status": status,
        "b_analysis": analysis,
        "b_model_version": analyzer.model_version,
        "b_reasons": reasons,
        "b_at": at,
        "b_toxicity": scores.get("toxicity"),
        "b_hate_speech": scores.get("hate_speech"),
        "b_spam": scores.get("spam"),
        "b_max": max(scores.values()) if scores else None,
    }


def _standing(
    row: repo.PendingComment, records: dict[int, tuple[int, int]], trust_after: dict[int, int]
) -> str:
    """An author with enough published comments and none rejected is trusted, per the site."""
    if row.author_status != "normal":
        return row.author_status
    published, rejected = records.get(row.author_id, (0, 0))
    threshold = trust_after.get(row.site_id, 0)
    return "trusted" if threshold and published >= threshold and not rejected else "normal"


def score_comments(
    db: Database,
    analyzer: AnalyzerLike,
    comment_ids: Sequence[str],
    *,
    clock: Callable[[], datetime] = utcnow,
) -> ScoringReport:
    """Score pending comments and apply each site's policy and each author's standing."""
    report = ScoringReport(requested=len(comment_ids))
    with db.session() as session:
        rows = repo.pending_for_scoring(session, list(dict.fromkeys(comment_ids)))
        stored = repo.policy_settings(session, (row.site_id for row in rows))
        abuse = repo.abuse_rows(session, (row.site_id for row in rows))
        records = repo.author_records(
            session, [row.author_id for row in rows if row.author_status == "normal"]
        )
    report.skipped = len(comment_ids) - len(rows)
    if not rows:
        return report
    policies = {site_id: Policy.from_dict(stored.get(site_id)) for site_id in {row.site_id for row in rows}}
    trust_after = {
        site_id: AbuseSettings.from_dict(abuse.get(site_id)).auto_trust_published for site_id in policies
    }
    scored = _score_with_fallback(analyzer, [row.content for row in rows], [row.id for row in rows], report)
    now = clock()
    decisions = [
        _decision_row(
            row.id, result, policies[row.site_id], _standing(row, records, trust_after), analyzer, now
        )
        for row, result in zip(rows, scored, strict=True)
    ]
    for decision in decisions:
        report.by_status[decision["b_status"]] = report.by_status.get(decision["b_status"], 0) + 1
    with db.session() as session:
        report.scored = repo.save_model_decisions(session, decisions)
    return report
