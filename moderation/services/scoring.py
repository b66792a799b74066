"""Scoring stored comments in batches and applying each site's policy; idempotent."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from moderation.scoring.policy import CONTEXT_RULES, Policy, apply_policy
from moderation.scoring.types import ModelThresholds, ScoredText, analysis_dict, decision_scores
from moderation.services.antiabuse import AbuseSettings, near_texts
from moderation.storage import repositories as repo
from moderation.storage.db import Database
from moderation.storage.models import utcnow

log = logging.getLogger(__name__)
STATUS_BY_DECISION = {"publish": "published", "review": "review", "reject": "rejected"}
#: Context rules that make a comment a copy of others (its cluster's).
COPY_RULES = ("duplicate", "flood")
#: The reason a copy gets from an original a moderator rejected: their reason is free text that may
#: hold internal remarks, and copies' reasons reach the site's API.
REJECTED_BY_MODERATOR = "rejected_by_moderator"


class AnalyzerLike(Protocol):
    model_version: str
    thresholds: ModelThresholds

    def score(self, texts: Sequence[str]) -> list[ScoredText]: ...


class ModelSource(Protocol):
    """Analyzers by version (``scoring.registry.ModelRegistry``): a site may have its own."""

    def get(self, version: str | None) -> AnalyzerLike: ...


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
    context_rules: Sequence[str] = (),
) -> dict[str, Any]:
    if scored is None:
        status, reasons, analysis, scores = "review", ["scoring_error", *context_rules], None, {}
    else:
        decision, reasons = apply_policy(
            scored, policy, analyzer.thresholds, author_status=author_status, context_rules=context_rules
        )
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


def context_rules(row: repo.PendingComment) -> list[str]:
    """The door's hits on this comment (bans, repeats, floods), applied by the policy as rules."""
    return [str(r) for r in row.door_rules or [] if r in CONTEXT_RULES]


def _inherit_rejections(
    rows: Sequence[repo.PendingComment],
    decisions: dict[str, dict[str, Any]],
    rejected: Sequence[repo.RejectedMember],
) -> None:
    """A copy of a rejected comment is rejected too, with ``duplicate``/``flood`` and the original's reasons.

    The originals are the rejected members of the copy's cluster whose text is near the copy's
    (already stored, or rejected in this same batch); a copy of a published or held one keeps its
    own decision (held, by the rule). The reasons copied are the model's codes only: an original a
    moderator rejected gives ``REJECTED_BY_MODERATOR``, never the moderator's own words.
    """
    copies = [r for r in rows if r.cluster_id and any(rule in COPY_RULES for rule in context_rules(r))]
    if not copies:
        return
    originals: dict[str, list[tuple[str, str, list[Any]]]] = {}
    for member in rejected:
        reasons = [REJECTED_BY_MODERATOR] if member.decided_by == "moderator" else list(member.reasons or [])
        originals.setdefault(member.cluster_id or member.id, []).append((member.id, member.content, reasons))
    changed = True
    while changed:  # a copy rejected here may be the original of another copy in the batch
        changed = False
        batch = {
            r.id: (r.cluster_id, r.content, decisions[r.id]["b_reasons"])
            for r in rows
            if r.cluster_id and decisions[r.id]["b_status"] == "rejected"
        }
        for row in copies:
            decision = decisions[row.id]
            if decision["b_status"] == "rejected":
                continue
            candidates = originals.get(row.cluster_id or "", []) + [
                (i, text, reasons)
                for i, (cluster, text, reasons) in batch.items()
                if cluster == row.cluster_id
            ]
            source = next((c for c in candidates if c[0] != row.id and near_texts(c[1], row.content)), None)
            if source is None:
                continue
            copy_rules = [rule for rule in context_rules(row) if rule in COPY_RULES]
            reasons = list(dict.fromkeys([*copy_rules, *decision["b_reasons"], *map(str, source[2])]))
            decision["b_status"], decision["b_reasons"] = "rejected", reasons
            if decision["b_analysis"] is not None:
                decision["b_analysis"] = {**decision["b_analysis"], "decision": "reject", "reasons": reasons}
            changed = True


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
    models: ModelSource | None = None,
) -> ScoringReport:
    """Score pending comments and apply each site's policy and each author's standing.

    With ``models``, each site's comments are scored by the version the site names (``analyzer``
    otherwise), and a site's shadow candidate scores them too, without deciding anything.
    """
    report = ScoringReport(requested=len(comment_ids))
    # Read-only: on SQLite it takes no write lock while the web stores comments.
    with db.session(read_only=True) as session:
        rows = repo.pending_for_scoring(session, list(dict.fromkeys(comment_ids)))
        # Read in the same transaction as the batch: a policy change or a promotion applies from
        # the next batch on. One query for all the sites' settings: a batch's fixed cost is paid
        # per comment when comments trickle in one by one.
        configs = repo.site_scoring_configs(session, (row.site_id for row in rows))
        records = repo.author_records(
            session, [row.author_id for row in rows if row.author_status == "normal"]
        )
        clusters = [r.cluster_id for r in rows if r.cluster_id and set(context_rules(r)) & set(COPY_RULES)]
        rejected = repo.rejected_cluster_members(session, clusters)
    report.skipped = len(comment_ids) - len(rows)
    if not rows:
        return report
    empty = repo.SiteScoringConfig({}, {}, None, None)
    policies = {
        site_id: Policy.from_dict(configs.get(site_id, empty).policy)
        for site_id in {row.site_id for row in rows}
    }
    trust_after = {
        site_id: AbuseSettings.from_dict(configs.get(site_id, empty).abuse).auto_trust_published
        for site_id in policies
    }
    versions = (
        {site_id: (config.live_version, config.shadow_version) for site_id, config in configs.items()}
        if models is not None
        else {}
    )
    now = clock()
    decisions: list[dict[str, Any]] = []
    shadows: list[dict[str, Any]] = []
    # One analyzer per group of sites sharing a live version: a promotion takes effect on the next batch.
    groups: dict[str | None, list[repo.PendingComment]] = {}
    for row in rows:
        groups.setdefault(versions.get(row.site_id, (None, None))[0], []).append(row)
    scored_groups: list[tuple[list[repo.PendingComment], list[dict[str, Any]], list[str]]] = []
    for version, group in groups.items():
        live = _analyzer_for(models, version, analyzer)
        results = _score_with_fallback(live, [r.content for r in group], [r.id for r in group], report)
        standings = [_standing(r, records, trust_after) for r in group]
        group_decisions = [
            _decision_row(r.id, result, policies[r.site_id], standing, live, now, context_rules(r))
            for r, result, standing in zip(group, results, standings, strict=True)
        ]
        decisions += group_decisions
        scored_groups.append((group, group_decisions, standings))
    _inherit_rejections(rows, {d["b_id"]: d for d in decisions}, rejected)
    for group, group_decisions, standings in scored_groups:
        shadows += _shadow_rows(models, versions, group, group_decisions, standings, policies, now)
    for decision in decisions:
        report.by_status[decision["b_status"]] = report.by_status.get(decision["b_status"], 0) + 1
    serialized = db.dialect == "sqlite"
    rows = repo.serialize_decisions(decisions) if serialized else decisions
    with db.session() as session:
        report.scored = repo.save_model_decisions(session, rows, serialized=serialized)
        if shadows:
            repo.save_shadow_scores(session, shadows)
    return report


def _analyzer_for(models: ModelSource | None, version: str | None, fallback: AnalyzerLike) -> AnalyzerLike:
    """The site's version; a version that cannot be loaded must not stop scoring: the default decides."""
    if models is None or version is None:
        return fallback
    try:
        return models.get(version)
    except Exception:
        log.exception("model version %s cannot be loaded; scoring with %s", version, fallback.model_version)
        return fallback


def _shadow_rows(
    models: ModelSource | None,
    versions: dict[int, tuple[str | None, str | None]],
    group: list[repo.PendingComment],
    decisions: list[dict[str, Any]],
    standings: list[str],
    policies: dict[int, Policy],
    now: datetime,
) -> list[dict[str, Any]]:
    """What each site's shadow candidate would have decided; it never changes a comment."""
    if models is None:
        return []
    out: list[dict[str, Any]] = []
    by_shadow: dict[str, list[int]] = {}
    for i, row in enumerate(group):
        shadow = versions.get(row.site_id, (None, None))[1]
        if shadow is not None:
            by_shadow.setdefault(shadow, []).append(i)
    for version, indices in by_shadow.items():
        try:
            shadow = models.get(version)
            results = shadow.score([group[i].content for i in indices])
        except Exception:
            log.exception("shadow model %s failed; its scores are skipped for this batch", version)
            continue
        for i, scored in zip(indices, results, strict=True):
            row = group[i]
            decision, reasons = apply_policy(
                scored,
                policies[row.site_id],
                shadow.thresholds,
                author_status=standings[i],
                context_rules=context_rules(row),
            )
            live = decisions[i]["b_analysis"]
            out.append(
                {
                    "comment_id": row.id,
                    "version": version,
                    "site_id": row.site_id,
                    "decision": decision,
                    "live_decision": live["decision"] if live else None,
                    "reasons": reasons,
                    "scores": {
                        "toxicity": round(scored.toxicity, 4),
                        "hate_speech": scored.hate_label,
                        "spam": round(scored.spam, 4),
                        "constructive": round(scored.constructive, 4),
                    },
                    "created_at": now,
                }
            )
    return out
