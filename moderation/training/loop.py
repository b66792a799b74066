"""One turn of the learning loop for a site: its labels in, a compared candidate out, maybe promoted.

Shared by ``moderation retrain`` and the scheduled ``workers.jobs.retrain_site`` job. Training runs
outside any database transaction (it takes minutes); the candidate is registered, and promoted when
the guard passes and the site (or the caller) asks for it, in one short transaction at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moderation.scoring.registry import ModelRegistry
from moderation.services import learning
from moderation.storage.db import Database
from moderation.storage.models import utcnow
from moderation.training.config import FULL, SiteRows, TrainConfig
from moderation.training.retrain import build_candidate


@dataclass
class RetrainResult:
    version: str
    path: Path
    report: dict[str, Any]
    passed: bool
    promoted: bool


def _rows(rows: list[tuple[str, str, int]], weight: float) -> SiteRows:
    out = SiteRows(weight=weight)
    for attribute, text, value in rows:
        out.add(attribute, text, value)
    return out


def retrain_site(
    db: Database,
    registry: ModelRegistry,
    site_id: int,
    *,
    datasets: Path,
    store: Path,
    config: TrainConfig = FULL,
    promote: bool | None = None,
    echo: Callable[[str], None] = print,
) -> RetrainResult:
    """Train and compare a candidate for a site; promote it if the guard passes and ``promote``
    (default: the site's ``auto_promote`` setting) says so."""
    with db.session() as session:
        site = learning.site_by_id(session, site_id)
        settings = learning.learning_settings(session, site_id)
        labels = learning.training_labels(session, site_id, settings.holdout)
        live_version, site_name = site.model_version, site.name
    current = registry.get(live_version)
    version = learning.candidate_version_name(current.model_version, site_id, utcnow())
    echo(f"{site_name}: {len(labels.train)} labels to learn from, {len(labels.held_out)} held out")
    candidate = build_candidate(
        datasets,
        store,
        version,
        current=current,
        train=_rows(labels.train, settings.weight),
        held=_rows(labels.held_out, settings.weight),
        min_labels=settings.min_labels,
        tolerance=settings.tolerance,
        config=config,
        echo=echo,
        extra={"site": site_name},
    )
    passed = candidate.verdict.passed
    wanted = settings.auto_promote if promote is None else promote
    with db.session() as session:
        site = learning.site_by_id(session, site_id)
        learning.register_candidate(session, site, version, current.model_version, candidate.report, passed)
        promoted = False
        if passed and wanted:
            learning.promote(session, site, version, actor="guard", versions=registry, reason="guard passed")
            promoted = True
    return RetrainResult(version, candidate.path, candidate.report, passed, promoted)
