"""Admin pages: per-site policy, moderator accounts, the audit log, statistics.

Each page asks the admin services, which refuse non-admins (PermissionDenied, shown as a 403
page) and keep an admin limited to some sites within them.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice

from moderation import timezones
from moderation.dashboard import bp, charts, forms, labels, models_support
from moderation.dashboard.web import identity
from moderation.errors import AlreadyExists, ValidationError
from moderation.extensions import resources
from moderation.scoring.policy import RULE_ACTIONS, RULES
from moderation.scoring.types import DECISION_ATTRIBUTES
from moderation.services import admin, review, stats
from moderation.services import dashboard_support as support
from moderation.services.sites import set_timezone
from moderation.storage.models import AuditEntry

AUDIT_PER_PAGE = 50
STATS_DAYS = (7, 30, 90)


@bp.get("/admin")
def admin_home() -> BaseResponse:
    return redirect(url_for("dashboard.admin_sites"))


@bp.get("/admin/sites")
def admin_sites() -> str:
    moderator = identity()
    review.require_admin(moderator)
    with resources().db.session() as session:
        sites = admin.visible_sites(session, moderator)
        return render_template("dashboard/admin/sites.html", sites=sites)


@bp.route("/admin/sites/<int:site_id>/policy", methods=["GET", "POST"])
def admin_policy(site_id: int) -> BaseResponse | tuple[str, int]:
    moderator = identity()
    with resources().db.session() as session:
        site = admin.admin_site(session, moderator, site_id)
        policy = admin.read_policy(session, moderator, site_id)
    model = models_support.model_thresholds(site.model_version)
    values: dict[str, Any] = forms.policy_form_values(policy)
    checks = {"premoderate": policy.premoderate, "trusted_lighter_review": policy.trusted_lighter_review}
    errors: dict[str, str] = {}
    if request.method == "POST":
        settings, errors = forms.policy_settings(request.form)
        values = {key: request.form.get(key, "") for key in values}
        checks = {key: request.form.get(key) == "on" for key in checks}
        if not errors:
            try:
                with resources().db.session() as session:
                    admin.change_policy(session, moderator, site_id, settings)
            except ValidationError as exc:
                errors = {key: labels.field_message(message) for key, message in exc.fields.items()}
            else:
                flash(_("Policy saved. It applies from the next comment scored."), "success")
                return redirect(url_for("dashboard.admin_policy", site_id=site_id), code=303)
    context = {
        "site": site,
        "values": values,
        "checks": checks,
        "errors": errors,
        "attributes": DECISION_ATTRIBUTES,
        "policy": policy,
        "model_version": model[0] if model else None,
        "model_thresholds": model[1] if model else {},
        "rules": RULES,
        "rule_actions": RULE_ACTIONS,
    }
    return render_template("dashboard/admin/policy.html", **context), 422 if errors else 200


@bp.post("/admin/sites/<int:site_id>/timezone")
def admin_timezone(site_id: int) -> BaseResponse:
    """The zone every time of the site is shown in, on the dashboard and in the widget."""
    moderator = identity()
    try:
        with resources().db.session() as session:
            site = admin.admin_site(session, moderator, site_id)
            value = set_timezone(session, site, request.form.get("timezone") or "", actor=moderator.actor)
    except ValidationError as exc:
        details = "; ".join(labels.field_message(m) for m in exc.fields.values())
        flash(_("Not done: %(details)s", details=details), "error")
    else:
        flash(_("Time zone saved: %(zone)s.", zone=value), "success")
    return redirect(url_for("dashboard.admin_policy", site_id=site_id), code=303)


@bp.route("/admin/moderators", methods=["GET", "POST"])
def admin_moderators() -> BaseResponse | tuple[str, int]:
    moderator = identity()
    review.require_admin(moderator)
    with resources().db.session() as session:
        sites = admin.visible_sites(session, moderator)
    form = forms.ModeratorForm()
    form.sites.choices = [SelectChoice(site.id, site.name) for site in sites]
    status = 200
    if form.validate_on_submit():
        try:
            with resources().db.session() as session:
                support.create_moderator_as(
                    session,
                    moderator,
                    form.username.data or "",
                    form.password.data or "",
                    form.role.data or "moderator",
                    form.sites.data or [],
                )
        except AlreadyExists:
            form.username.errors = [*form.username.errors, _("This username is taken.")]
        except ValidationError as exc:
            for name, message in exc.fields.items():
                target = getattr(form, name, None) or form.username
                target.errors = [*target.errors, labels.field_message(message)]
        else:
            flash(_("Account %(name)s created.", name=form.username.data), "success")
            return redirect(url_for("dashboard.admin_moderators"), code=303)
        status = 422
    elif request.method == "POST":
        status = 422
    with resources().db.session() as session:
        accounts = support.moderators_with_sites(session, moderator)
        return render_template("dashboard/admin/moderators.html", form=form, accounts=accounts), status


@bp.post("/admin/moderators/<int:moderator_id>")
def admin_update_moderator(moderator_id: int) -> BaseResponse:
    role = request.form.get("role") or None
    active_raw = request.form.get("active")
    active = None if active_raw is None else active_raw == "1"
    try:
        with resources().db.session() as session:
            target = admin.update_moderator(session, identity(), moderator_id, role=role, active=active)
            name = target.username
    except ValidationError as exc:
        details = "; ".join(labels.field_message(m) for m in exc.fields.values())
        flash(_("Not done: %(details)s", details=details), "error")
    else:
        flash(_("Account %(name)s updated.", name=name), "success")
    return redirect(url_for("dashboard.admin_moderators"), code=303)


def _actor(actor: str) -> str:
    kind, _sep, name = actor.partition(":")
    if kind == "moderator":
        return name
    if kind == "model":
        return _("model %(version)s", version=name)
    return _("system")


def _threshold_text(value: Any) -> str:
    return _("empty") if value is None else f"{round(float(value) * 100, 2):g}%"


def _policy_changes(details: dict[str, Any]) -> list[str]:
    """Each field a policy change touched, as "field: before → after" (entries made before the
    previous policy was recorded only say what the policy became)."""
    previous = details.get("previous")
    if not isinstance(previous, dict):
        return [_("the whole policy (its previous state was not recorded)")]
    changes: list[str] = []
    for attribute in DECISION_ATTRIBUTES:
        before = (previous.get("attributes") or {}).get(attribute) or {}
        after = (details.get("attributes") or {}).get(attribute) or {}
        for key, name in (("review", _("hold from")), ("reject", _("reject from"))):
            if before.get(key) != after.get(key):
                label = labels.label(labels.ATTRIBUTES, attribute)
                was, now = _threshold_text(before.get(key)), _threshold_text(after.get(key))
                changes.append(f"{label} – {name}: {was} → {now}")
    for key, name in (
        ("premoderate", _("pre-moderate everything")),
        ("trusted_lighter_review", _("trusted authors skip holds")),
    ):
        if bool(previous.get(key)) != bool(details.get(key)):
            yes_no = {True: _("yes"), False: _("no")}
            changes.append(f"{name}: {yes_no[bool(previous.get(key))]} → {yes_no[bool(details.get(key))]}")
    for key, name in (("banned_words", _("Banned words")), ("suspect_words", _("Suspect words"))):
        before_words, after_words = list(previous.get(key) or []), list(details.get(key) or [])
        added = [w for w in after_words if w not in before_words]
        removed = [w for w in before_words if w not in after_words]
        if added or removed:
            parts = [f"+{w}" for w in added] + [f"−{w}" for w in removed]
            changes.append(f"{name}: {', '.join(parts)}")
    before_rules, after_rules = previous.get("rule_actions") or {}, details.get("rule_actions") or {}
    for rule in RULES:
        if before_rules.get(rule) != after_rules.get(rule):
            was = labels.label(labels.RULE_ACTIONS, before_rules.get(rule))
            now = labels.label(labels.RULE_ACTIONS, after_rules.get(rule))
            changes.append(f"{labels.label(labels.REASONS, rule)}: {was} → {now}")
    return changes or [_("nothing changed")]


def _audit_details(entry: AuditEntry) -> str:
    details = entry.details or {}
    if entry.action == "policy_changed":
        return "; ".join(_policy_changes(details))
    if entry.action == "site_created":
        return str(details.get("name", ""))
    if entry.action == "timezone_changed":
        return "{} → {}".format(details.get("from") or "–", details.get("to") or "–")
    if entry.action in ("approve", "reject") and "from" in details:
        return "{} → {}".format(
            labels.label(labels.STATUSES, details.get("from")),
            labels.label(labels.STATUSES, details.get("to")),
        )
    if entry.action in ("ban_author", "trust_author", "restore_author"):
        return str(details.get("author", ""))
    if entry.action == "undo":
        return _("%(num)d restored", num=len(details.get("restored") or []))
    if entry.action == "origins_changed":
        return ", ".join(str(origin) for origin in details.get("to") or [])
    if entry.action in ("promote_model", "rollback_model", "shadow_model"):
        return "{} → {}".format(details.get("from") or "–", details.get("to") or "–")
    if entry.action in ("moderator_created", "moderator_changed"):
        return str(details.get("moderator") or details.get("username") or "")
    return ""


def _restored(entry: AuditEntry) -> list[str]:
    """The comments an undo put back (links on the audit page)."""
    if entry.action != "undo":
        return []
    return [str(i) for i in (entry.details or {}).get("restored") or [] if i]


@bp.get("/admin/audit")
def admin_audit() -> str:
    moderator = identity()
    review.require_admin(moderator)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    action = request.args.get("action") or None
    if action not in labels.AUDIT_ACTIONS:
        action = None
    actor = (request.args.get("actor") or "").strip() or None
    site_id = request.args.get("site", type=int)
    with resources().db.session() as session:
        sites = admin.visible_sites(session, moderator)
        if site_id not in {site.id for site in sites}:
            site_id = None
        result = admin.audit_page(
            session,
            moderator,
            page=page,
            per_page=AUDIT_PER_PAGE,
            action=action,
            actor=f"moderator:{actor}" if actor and ":" not in actor and actor != "system" else actor,
            site_ids=[site_id] if site_id else None,
        )
        excerpts = support.comment_excerpts(session, moderator, [e.comment_id for e in result.entries])
        restored = [comment_id for e in result.entries if e.action == "undo" for comment_id in _restored(e)]
        restored_excerpts = support.comment_excerpts(session, moderator, restored, limit=60)
        accounts = support.moderators_with_sites(session, moderator)
    site_names = {site.id: site.name for site in sites}
    zones = {site.id: site.timezone for site in sites}
    rows = [
        {
            "entry": entry,
            "who": _actor(entry.actor),
            "what": labels.label(labels.AUDIT_ACTIONS, entry.action),
            "details": _audit_details(entry),
            "comment": excerpts.get(entry.comment_id or ""),
            "site": site_names.get(entry.site_id),
            "zone": zones.get(entry.site_id),
            "links": [
                (comment_id, restored_excerpts[comment_id])
                for comment_id in _restored(entry)
                if comment_id in restored_excerpts
            ],
        }
        for entry in result.entries
    ]
    filters = {"action": action or "", "actor": actor or "", "site": site_id or ""}
    return render_template(
        "dashboard/admin/audit.html",
        rows=rows,
        total=result.total,
        page=page,
        last_page=max(1, -(-result.total // AUDIT_PER_PAGE)),
        filters=filters,
        sites=sites,
        accounts=accounts,
    )


@bp.get("/admin/stats")
def admin_stats() -> str:
    moderator = identity()
    review.require_admin(moderator)
    days = request.args.get("days", 30, type=int)
    if days not in STATS_DAYS:
        days = 30
    site_id = request.args.get("site", type=int)
    with resources().db.session() as session:
        sites = admin.visible_sites(session, moderator)
        site_ids = support.stats_site_ids(moderator, site_id)
        zones = {site.timezone for site in sites if site_ids is None or site.id in site_ids}
        zone = timezones.zone(zones.pop() if len(zones) == 1 else None)  # the sites' own, if they share one
        result = stats.compute(session, site_ids, days=days, zone=zone)
        drift = stats.drift(session, support.stats_site_ids(moderator, site_id))
    return render_template(
        "dashboard/admin/stats.html",
        stats=result,
        drift=drift,
        drift_attributes=DECISION_ATTRIBUTES,
        chart=charts.daily_chart(result),
        median_wait=charts.duration(result.median_wait_seconds),
        sites=sites,
        site_id=site_id,
        days=days,
        days_choices=STATS_DAYS,
    )
