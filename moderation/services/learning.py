"""The learning loop's use cases: settings, labels for training, candidates, promotion, rollback, shadow.

Training itself lives in ``moderation.training`` (the retrain command and job call it); this module
only reads and writes the database, so the web layer can show and act on candidates without ever
importing training code. Every promotion, rollback and shadow change is audited, and a site's live
version is read by the workers per batch, so a change takes effect at once in every worker.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from moderation.errors import Conflict, NotFound, ValidationError
from moderation.services import labels as label_store
from moderation.storage import repositories as repo
from moderation.storage.models import (
    Comment,
    Label,
    ModelDeployment,
    ModelVersion,
    ShadowScore,
    Site,
    SitePolicy,
    utcnow,
)

SCHEDULES = {"off": None, "daily": timedelta(days=1), "weekly": timedelta(days=7)}


class VersionSource(Protocol):
    """Where model versions are found (``scoring.registry.ModelRegistry``)."""

    def version_dir(self, version: str) -> Any: ...


@dataclass(frozen=True)
class LearningSettings:
    """Per-site knobs of retraining and of the promotion guard."""

    #: Retrain on a schedule (``off``, ``daily``, ``weekly``); off by default.
    schedule: str = "off"
    #: Labels an attribute needs before the site's labels of it are used.
    min_labels: int = 50
    #: How many average public rows one site label counts for.
    weight: float = 5.0
    #: Largest macro-F1 drop (absolute) on any figure the guard accepts.
    tolerance: float = 0.02
    #: Share of the labels kept out of training to compare candidate and live model.
    holdout: float = 0.25
    #: Promote a candidate the guard passes without waiting for an admin.
    auto_promote: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> LearningSettings:
        if not data:
            return cls()
        if not isinstance(data, dict):
            raise ValidationError("invalid learning settings", fields={"learning": "must be an object"})
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        schedule = data.get("schedule", cls.schedule)
        if schedule not in SCHEDULES:
            errors["schedule"] = f"one of {', '.join(SCHEDULES)}"
        else:
            values["schedule"] = schedule
        numbers = {
            "min_labels": (10, 100_000, int),
            "weight": (0.1, 100.0, float),
            "tolerance": (0.0, 0.5, float),
            "holdout": (0.1, 0.5, float),
        }
        for key, (low, high, kind) in numbers.items():
            raw = data.get(key, getattr(cls, key))
            valid_kind = isinstance(raw, int) if kind is int else isinstance(raw, int | float)
            if isinstance(raw, bool) or not valid_kind or not low <= raw <= high:
                errors[key] = f"a{'' if kind is float else 'n integer'} number from {low:g} to {high:g}"
            else:
                values[key] = kind(raw)
        auto = data.get("auto_promote", cls.auto_promote)
        if not isinstance(auto, bool):
            errors["auto_promote"] = "must be true or false"
        else:
            values["auto_promote"] = auto
        unknown = set(data) - set(cls.__dataclass_fields__)
        for key in sorted(unknown):
            errors[str(key)] = "unknown setting"
        if errors:
            raise ValidationError("invalid learning settings", fields=errors)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def learning_settings(session: Session, site_id: int) -> LearningSettings:
    row = session.get(SitePolicy, site_id)
    return LearningSettings.from_dict(row.learning if row else None)


def update_learning_settings(
    session: Session, site_id: int, data: dict[str, Any], actor: str
) -> LearningSettings:
    settings = LearningSettings.from_dict({**learning_settings(session, site_id).to_dict(), **data})
    row = session.get(SitePolicy, site_id)
    if row is None:
        session.add(SitePolicy(site_id=site_id, settings={}, learning=settings.to_dict()))
    else:
        row.learning = settings.to_dict()
    repo.add_audit(
        session, actor=actor, action="learning_settings_changed", site_id=site_id, details=settings.to_dict()
    )
    return settings


def is_held_out(text: str, share: float) -> bool:
    """A stable split by the comment's text: the same text (a repost, a campaign's copies) is always
    on the same side, so the held-out part never tests the model on what it was trained on, and
    the split does not change as labels come in."""
    bucket = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 10_000
    return bucket < share * 10_000


@dataclass
class TrainingLabels:
    """A site's labels as (attribute, text, value), split into training and held-out parts."""

    train: list[tuple[str, str, int]]
    held_out: list[tuple[str, str, int]]


def training_labels(session: Session, site_id: int, holdout: float) -> TrainingLabels:
    out = TrainingLabels(train=[], held_out=[])
    for label in label_store.site_labels(session, site_id):
        row = (label.attribute, label.text, label.value)
        (out.held_out if is_held_out(label.text, holdout) else out.train).append(row)
    return out


def candidate_version_name(base_version: str, site_id: int, at: datetime) -> str:
    """``<base>-s<site>-<UTC time>``, at most 40 characters."""
    suffix = f"-s{site_id}-{at:%Y%m%d%H%M%S}"
    return base_version[: 40 - len(suffix)] + suffix


def register_candidate(
    session: Session, site: Site, version: str, base_version: str, report: dict[str, Any], passed: bool
) -> ModelVersion:
    row = ModelVersion(
        version=version,
        site_id=site.id,
        base_version=base_version,
        status="candidate" if passed else "refused",
        report=report,
        created_at=utcnow(),
    )
    session.add(row)
    repo.add_audit(
        session,
        actor="retrain",
        action="model_candidate",
        site_id=site.id,
        details={"version": version, "base_version": base_version, "guard_passed": passed},
    )
    session.flush()
    return row


def site_versions(session: Session, site_id: int) -> list[ModelVersion]:
    return list(
        session.scalars(
            select(ModelVersion)
            .where(ModelVersion.site_id == site_id)
            .order_by(ModelVersion.created_at.desc())
        )
    )


def model_version(session: Session, site_id: int, version: str) -> ModelVersion | None:
    row = session.get(ModelVersion, version)
    return row if row is not None and row.site_id in (None, site_id) else None


def deployments(session: Session, site_id: int) -> list[ModelDeployment]:
    return list(
        session.scalars(
            select(ModelDeployment)
            .where(ModelDeployment.site_id == site_id)
            .order_by(ModelDeployment.id.desc())
        )
    )


def _set_status(session: Session, site_id: int, version: str | None, status: str) -> None:
    if version is None:
        return
    row = model_version(session, site_id, version)
    if row is not None:
        row.status = status


def promote(
    session: Session,
    site: Site,
    version: str,
    *,
    actor: str,
    versions: VersionSource,
    force: bool = False,
    reason: str | None = None,
) -> ModelDeployment:
    """Make ``version`` decide the site's comments from the next batch on.

    A candidate the guard refused goes live only with ``force`` (an admin who read the report).
    """
    versions.version_dir(version)  # raises ModelArtifactError when it is not installed
    row = model_version(session, site.id, version)
    if row is not None and row.status == "refused" and not force:
        raise Conflict(f"the guard refused {version}; read its report and promote it explicitly to override")
    if site.model_version == version:
        raise Conflict(f"{version} is already live for {site.name}")
    previous = site.model_version
    deployment = ModelDeployment(
        site_id=site.id,
        version=version,
        previous=previous,
        actor=actor,
        reason=reason or ("forced by an admin" if force else None),
        deployed_at=utcnow(),
    )
    session.add(deployment)
    _set_status(session, site.id, previous, "retired")
    _set_status(session, site.id, version, "live")
    site.model_version = version
    if site.shadow_version == version:
        site.shadow_version = None
    repo.add_audit(
        session,
        actor=actor,
        action="promote_model",
        site_id=site.id,
        reason=deployment.reason,
        details={"from": previous, "to": version, "forced": force},
    )
    session.flush()
    return deployment


def rollback(session: Session, site: Site, *, actor: str) -> tuple[str | None, str | None]:
    """Undo the latest promotion still in force: the version before it decides again."""
    latest = session.scalars(
        select(ModelDeployment)
        .where(ModelDeployment.site_id == site.id, ModelDeployment.rolled_back_at.is_(None))
        .order_by(ModelDeployment.id.desc())
        .limit(1)
    ).first()
    if latest is None or latest.version != site.model_version:
        raise Conflict("nothing to roll back: the site uses the installed default model")
    latest.rolled_back_at = utcnow()
    current, previous = site.model_version, latest.previous
    _set_status(session, site.id, current, "retired")
    _set_status(session, site.id, previous, "live")
    site.model_version = previous
    repo.add_audit(
        session,
        actor=actor,
        action="rollback_model",
        site_id=site.id,
        details={"from": current, "to": previous},
    )
    session.flush()
    return current, previous


def set_shadow(
    session: Session, site: Site, version: str | None, *, actor: str, versions: VersionSource
) -> None:
    """Score live traffic with ``version`` beside the live model (None stops it)."""
    if version is not None:
        versions.version_dir(version)
        if version == site.model_version:
            raise Conflict(f"{version} is the live model; shadow a different version")
    previous = site.shadow_version
    site.shadow_version = version
    repo.add_audit(
        session,
        actor=actor,
        action="shadow_model",
        site_id=site.id,
        details={"from": previous, "to": version},
    )
    session.flush()


@dataclass
class ShadowSummary:
    version: str
    scored: int = 0
    disagreements: int = 0
    judged: int = 0
    #: Disagreements a moderator decided the way the shadow would have.
    shadow_right: int = 0
    live_right: int = 0


def _moderator_says_publish(comment: Comment) -> bool | None:
    if comment.decided_by != "moderator":
        return None
    return comment.status == "published"


def _right(decision: str | None, publish: bool) -> bool:
    return (decision == "publish") == publish


def shadow_summary(session: Session, site_id: int, version: str) -> ShadowSummary:
    summary = ShadowSummary(version=version)
    summary.scored = (
        session.scalar(
            select(func.count())
            .select_from(ShadowScore)
            .where(ShadowScore.site_id == site_id, ShadowScore.version == version)
        )
        or 0
    )
    for score, comment in shadow_disagreements(session, site_id, version, limit=None):
        summary.disagreements += 1
        publish = _moderator_says_publish(comment)
        if publish is None:
            continue
        summary.judged += 1
        summary.shadow_right += _right(score.decision, publish)
        summary.live_right += _right(score.live_decision, publish)
    return summary


def shadow_disagreements(
    session: Session, site_id: int, version: str, *, limit: int | None = 50
) -> Sequence[tuple[ShadowScore, Comment]]:
    """Comments where the shadow candidate and the live model decided differently, newest first."""
    query = (
        select(ShadowScore, Comment)
        .join(Comment, Comment.id == ShadowScore.comment_id)
        .where(
            ShadowScore.site_id == site_id,
            ShadowScore.version == version,
            ShadowScore.decision != ShadowScore.live_decision,
        )
        .order_by(ShadowScore.created_at.desc(), ShadowScore.comment_id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [(score, comment) for score, comment in session.execute(query)]


def due_for_retraining(session: Session, now: datetime | None = None) -> list[int]:
    """Sites whose schedule says a retrain is due (none by default: schedules are off)."""
    now = now or utcnow()
    due = []
    for site_id, data in session.execute(select(SitePolicy.site_id, SitePolicy.learning)):
        settings = LearningSettings.from_dict(data) if data else LearningSettings()
        interval = SCHEDULES[settings.schedule]
        if interval is None:
            continue
        last = session.scalar(
            select(func.max(ModelVersion.created_at)).where(ModelVersion.site_id == site_id)
        )
        if last is None or now - last >= interval:
            due.append(site_id)
    return due


def label_summary(session: Session, site_id: int) -> dict[str, dict[str, int]]:
    """Labels per attribute and value (for the dashboard and ``moderation labels``)."""
    out: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(Label.attribute, Label.value, func.count())
        .where(Label.site_id == site_id)
        .group_by(Label.attribute, Label.value)
    )
    for attribute, value, count in rows:
        out.setdefault(attribute, {})[str(value)] = count
    return out


def site_by_id(session: Session, site_id: int) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("no such site")
    return site


def site_model_version(session: Session, site_id: int) -> str | None:
    """The version a site's comments are scored with (None: the installed default)."""
    return session.scalar(select(Site.model_version).where(Site.id == site_id))
