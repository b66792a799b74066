"""Admin page per site for the learning loop: which model decides, its candidates and their reports,
promotion, rollback, shadow scoring and the retraining settings.

Every rule (the guard, what may be promoted or rolled back) is ``moderation.services.learning``'s;
this page checks only what it needs to say clearly in Vietnamese before asking the service, and
turns the service's refusals into flash messages.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from moderation.dashboard import bp, labels
from moderation.dashboard import models_support as support
from moderation.dashboard.web import identity
from moderation.errors import Conflict, ModelArtifactError, ValidationError
from moderation.extensions import resources
from moderation.services import admin, learning
from moderation.storage.models import ModelDeployment, Site

DISAGREEMENTS_SHOWN = 50


def _rollback_target(deployments: list[ModelDeployment], site: Site) -> tuple[bool, str | None]:
    """Whether a promotion is in force to undo, and the version it would restore (None: default)."""
    in_force = [d for d in deployments if d.rolled_back_at is None]
    if in_force and in_force[0].version == site.model_version:
        return True, in_force[0].previous
    return False, None


def _moderator_outcome(comment: Any) -> str | None:
    if comment.decided_by != "moderator":
        return None
    return labels.label(labels.STATUSES, comment.status)


def _context(site_id: int) -> dict[str, Any]:
    moderator = identity()
    registry = support.registry()
    with resources().db.session() as session:
        site = admin.admin_site(session, moderator, site_id)
        settings = learning.learning_settings(session, site.id)
        can_roll_back, rollback_to = _rollback_target(learning.deployments(session, site.id), site)
        candidates = [
            {
                "row": row,
                "status": labels.label(support.STATUS_LABELS, row.status),
                "passed": ((row.report or {}).get("guard") or {}).get("passed"),
                "rows": support.report_rows(row.report),
                "labels": (row.report or {}).get("labels") or {},
            }
            for row in learning.site_versions(session, site.id)
        ]
        shadow = summary = None
        disagreements: list[dict[str, Any]] = []
        if site.shadow_version:
            shadow = site.shadow_version
            summary = learning.shadow_summary(session, site.id, shadow)
            for score, comment in learning.shadow_disagreements(
                session, site.id, shadow, limit=DISAGREEMENTS_SHOWN
            ):
                disagreements.append(
                    {
                        "content": comment.content,
                        "at": score.created_at,
                        "live": labels.label(support.DECISION_LABELS, score.live_decision),
                        "shadow": labels.label(support.DECISION_LABELS, score.decision),
                        "outcome": _moderator_outcome(comment),
                    }
                )
        return {
            "site": {"id": site.id, "name": site.name},
            "live": site.model_version,
            "default_version": registry.installed_default_version(),
            "shadow": shadow,
            "summary": summary,
            "disagreements": disagreements,
            "label_rows": support.label_rows(learning.label_summary(session, site.id)),
            "values": support.form_values(settings),
            "auto_promote": settings.auto_promote,
            "errors": {},
            "candidates": candidates,
            "can_roll_back": can_roll_back,
            "rollback_to": rollback_to,
            "schedules": support.SCHEDULE_LABELS,
            "figure_names": support.FIGURE_NAMES,
        }


@bp.get("/admin/sites/<int:site_id>/models")
def admin_models(site_id: int) -> str:
    return render_template("dashboard/admin/models.html", **_context(site_id))


def _back(site_id: int) -> BaseResponse:
    return redirect(url_for("dashboard.admin_models", site_id=site_id), code=303)


@bp.post("/admin/sites/<int:site_id>/models/settings")
def admin_models_settings(site_id: int) -> BaseResponse | tuple[str, int]:
    moderator = identity()
    data, errors = support.learning_form(request.form)
    if not errors:
        try:
            with resources().db.session() as session:
                site = admin.admin_site(session, moderator, site_id)
                learning.update_learning_settings(session, site.id, data, actor=moderator.actor)
        except ValidationError as exc:
            errors = support.service_errors(exc.fields)
        else:
            flash(_("Learning settings saved."), "success")
            return _back(site_id)
    context = _context(site_id)
    context["values"] = {key: request.form.get(key, "") for key in context["values"]}
    context["auto_promote"] = request.form.get("auto_promote") == "on"
    context["errors"] = errors
    return render_template("dashboard/admin/models.html", **context), 422


@bp.post("/admin/sites/<int:site_id>/models/promote")
def admin_models_promote(site_id: int) -> BaseResponse:
    moderator = identity()
    version = (request.form.get("version") or "").strip()
    confirmed = request.form.get("confirm") == "on"
    with resources().db.session() as session:
        site = admin.admin_site(session, moderator, site_id)
        row = learning.model_version(session, site.id, version)
        refused = row is not None and row.status == "refused"
        if refused and not confirmed:
            message = _("The guard refused %(version)s: tick the box to confirm you read its report.")
            message = message % {"version": version}
            flash(message, "error")
            return _back(site_id)
        if site.model_version == version:
            flash(_("%(version)s is already the live model.", version=version), "info")
            return _back(site_id)
        try:
            learning.promote(
                session, site, version, actor=moderator.actor, versions=support.registry(), force=refused
            )
        except ModelArtifactError:
            session.rollback()
            flash(_("Version %(version)s is not installed on this server.", version=version), "error")
            return _back(site_id)
        except Conflict:
            session.rollback()
            flash(_("Version %(version)s cannot be promoted now.", version=version), "error")
            return _back(site_id)
    flash(_("%(version)s now decides this site's comments.", version=version), "success")
    return _back(site_id)


@bp.post("/admin/sites/<int:site_id>/models/rollback")
def admin_models_rollback(site_id: int) -> BaseResponse:
    moderator = identity()
    with resources().db.session() as session:
        site = admin.admin_site(session, moderator, site_id)
        try:
            _current, previous = learning.rollback(session, site, actor=moderator.actor)
        except Conflict:
            session.rollback()
            flash(_("Nothing to roll back: the site uses the installed default model."), "error")
            return _back(site_id)
    if previous is None:
        flash(_("Rolled back: the installed default model decides again."), "success")
    else:
        flash(_("Rolled back: %(version)s decides again.", version=previous), "success")
    return _back(site_id)


@bp.post("/admin/sites/<int:site_id>/models/shadow")
def admin_models_shadow(site_id: int) -> BaseResponse:
    moderator = identity()
    version = (request.form.get("version") or "").strip() or None
    with resources().db.session() as session:
        site = admin.admin_site(session, moderator, site_id)
        try:
            learning.set_shadow(session, site, version, actor=moderator.actor, versions=support.registry())
        except ModelArtifactError:
            session.rollback()
            flash(_("Version %(version)s is not installed on this server.", version=version), "error")
            return _back(site_id)
        except Conflict:
            session.rollback()
            flash(_("%(version)s is the live model: shadow another version.", version=version), "error")
            return _back(site_id)
    if version is None:
        flash(_("Shadow scoring stopped."), "success")
    else:
        message = _("%(version)s now scores new comments in shadow; it decides nothing.", version=version)
        flash(message, "success")
    return _back(site_id)
