"""Admin page per site for what faces readers: the widget (its key, the snippet to paste, the
registered origins) and the anti-abuse settings at the door.

Validation is the services' (``AbuseSettings``, ``normalize_origins``); the page only types the
numbers and shows each message next to its field.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from moderation import services
from moderation.dashboard import bp, forms, labels
from moderation.dashboard.web import identity
from moderation.errors import ValidationError
from moderation.extensions import resources
from moderation.services import admin, widget_support
from moderation.widget.assets import snippet


@bp.route("/admin/sites/<int:site_id>/widget", methods=["GET", "POST"])
def admin_widget(site_id: int) -> BaseResponse | tuple[str, int]:
    moderator = identity()
    with resources().db.session() as session:
        site = admin.admin_site(session, moderator, site_id)
        stored = services.abuse_settings(session, site.id)
        name, widget_key, origins = site.name, site.widget_key, list(site.origins or [])
    values: dict[str, Any] = forms.abuse_form_values(stored, origins)
    honeypot = stored.honeypot
    errors: dict[str, str] = {}
    if request.method == "POST":
        data, typed_origins, errors = forms.abuse_settings_form(request.form)
        values = {key: request.form.get(key, "") for key in values}
        honeypot = data["honeypot"]
        if not errors:
            try:
                with resources().db.session() as session:
                    widget_support.update_widget_settings(session, moderator, site_id, data, typed_origins)
            except ValidationError as exc:
                errors = {key: labels.abuse_field_message(message) for key, message in exc.fields.items()}
            else:
                flash(_("Settings saved. They apply to the next comment posted."), "success")
                return redirect(url_for("dashboard.admin_widget", site_id=site_id), code=303)
    context = {
        "site_id": site_id,
        "site_name": name,
        "widget_key": widget_key,
        "snippet": snippet(request.url_root, widget_key),
        "values": values,
        "honeypot": honeypot,
        "errors": errors,
    }
    return render_template("dashboard/admin/widget.html", **context), 422 if errors else 200
