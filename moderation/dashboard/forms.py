"""Forms and request parsing: from what a browser sends to the plain values the services take.

Parsing is lenient where a person typed (filters): a bad value is reported next to its field
and ignored, never a 500. Validation of meaning (policy ranges, roles) stays in the services.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from moderation import timezones
from moderation.dashboard import labels
from moderation.errors import ValidationError
from moderation.scoring.policy import RULES, Policy
from moderation.scoring.types import DECISION_ATTRIBUTES
from moderation.storage.queue_queries import ORDERS, TABS, QueueFilter

DEFAULT_PER_PAGE = 100
PER_PAGE_CHOICES = (25, 50, 100, 200)
MAX_REASON_CHARS = 500


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ModeratorForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password (at least 10 characters)"), validators=[DataRequired()])
    role = SelectField(_l("Role"), choices=[SelectChoice(code, text) for code, text in labels.ROLES.items()])
    sites = SelectMultipleField(_l("Sites (none: every site)"), coerce=int, choices=[])


@dataclass
class QueueRequest:
    filter: QueueFilter
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    errors: dict[str, str] = field(default_factory=dict)


def _float(value: str) -> float:
    return float(value.replace(",", ".").strip())


#: A date as Vietnamese readers write it: day/month/year (also with "-" or "."), e.g. 25/11/2026.
DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(value: str) -> date:
    """dd/mm/yyyy (the dashboard's format), or yyyy-mm-dd from older links; ValueError otherwise."""
    value = value.strip()
    if ISO_DATE.fullmatch(value):
        return date.fromisoformat(value)
    match = DAY_MONTH_YEAR.fullmatch(value)
    if not match:
        raise ValueError(f"not a dd/mm/yyyy date: {value!r}")
    day, month, year = (int(part) for part in match.groups())
    return date(year, month, day)


def _day_start(value: str, zone_name: str) -> datetime:
    """A date typed in the site's calendar, as the instant its day begins there."""
    return datetime.combine(parse_day(value), time.min, tzinfo=timezones.zone(zone_name))


def filter_zone(zones: Mapping[int, str], site_id: int | None) -> str:
    """The zone dates are typed in: the filtered site's, or the one all the moderator's sites share."""
    if site_id is not None and site_id in zones:
        return zones[site_id]
    distinct = set(zones.values())
    return distinct.pop() if len(distinct) == 1 else timezones.DEFAULT_TIMEZONE


def parse_queue_args(
    args: Mapping[str, str], site_ids: set[int], zones: Mapping[int, str] | None = None
) -> QueueRequest:
    """Tab, order, filters and paging from the query string; scores are typed in percent and dates
    as dd/mm/yyyy in the site's zone (``zones``: site id to zone name)."""
    errors: dict[str, str] = {}

    def text(name: str, limit: int = 200) -> str | None:
        value = (args.get(name) or "").strip()
        return value[:limit] or None

    tab = args.get("tab") or "review"
    if tab not in TABS:
        errors["tab"], tab = str(_l("not one of the choices")), "review"
    order = args.get("order") or "oldest"
    if order not in ORDERS:
        errors["order"], order = str(_l("not one of the choices")), "oldest"
    site_id: int | None = None
    if text("site"):
        try:
            site_id = int(args["site"])
        except ValueError:
            site_id = None
        if site_id not in site_ids:
            errors["site"], site_id = str(_l("not one of your sites")), None
    score_attribute = text("attribute")
    if score_attribute and score_attribute not in DECISION_ATTRIBUTES:
        errors["attribute"], score_attribute = str(_l("not one of the choices")), None
    reason = text("reason", 40)
    if reason and reason not in labels.REASONS:
        errors["reason"], reason = str(_l("not one of the choices")), None
    bounds: dict[str, float | None] = {}
    for name in ("min_score", "max_score"):
        raw = text(name, 20)
        bounds[name] = None
        if raw:
            try:
                bounds[name] = _float(raw) / 100
            except ValueError:
                errors[name] = str(_l("a number from 0 to 100"))
                continue
            if not 0.0 <= bounds[name] <= 1.0:  # type: ignore[operator]
                errors[name], bounds[name] = str(_l("a number from 0 to 100")), None
    days: dict[str, datetime | None] = {}
    zone_name = filter_zone(zones or {}, site_id)
    for name in ("since", "until"):
        raw = text(name, 20)
        days[name] = None
        if raw:
            try:
                days[name] = _day_start(raw, zone_name)
            except ValueError:
                errors[name] = str(_l("a date as dd/mm/yyyy, e.g. 25/11/2026"))
    until = days["until"] + timedelta(days=1) if days["until"] else None  # the whole last day
    page = _int(args.get("page"), 1, minimum=1)
    per_page = _int(args.get("per_page"), DEFAULT_PER_PAGE, minimum=1)
    if per_page not in PER_PAGE_CHOICES:
        per_page = DEFAULT_PER_PAGE
    queue_filter = QueueFilter(
        tab=tab,
        order=order,
        site_id=site_id,
        article=text("article"),
        reason=reason,
        score_attribute=score_attribute,
        min_score=bounds["min_score"],
        max_score=bounds["max_score"],
        since=days["since"],
        until=until,
        author=text("author", 80),
        text=text("q"),
        cluster=text("cluster", 64),
    )
    return QueueRequest(filter=queue_filter, page=page, per_page=per_page, errors=errors)


def _int(raw: str | None, default: int, minimum: int) -> int:
    try:
        value = int(raw or default)
    except ValueError:
        return default
    return max(minimum, min(value, 100_000))


def reject_reason(form: Mapping[str, str], prefix: str = "") -> str:
    """The reason of a rejection: one from the list (stored in Vietnamese) or the typed text."""
    code = form.get(f"{prefix}reason_code") or ""
    typed = (form.get(f"{prefix}reason_text") or "").strip()
    if code and code != labels.OTHER_REASON:
        listed = labels.stored_reject_reason(code)
        if listed is None:
            raise ValidationError("invalid reason", fields={"reason": str(_l("not one of the choices"))})
        return listed
    if not typed:
        raise ValidationError("reason required", fields={"reason": str(_l("choose or type a reason"))})
    if len(typed) > MAX_REASON_CHARS:
        raise ValidationError("reason too long", fields={"reason": str(_l("at most 500 characters"))})
    return typed


def _threshold(raw: str | None, name: str, errors: dict[str, str]) -> float | None:
    value = (raw or "").strip()
    if not value:
        return None
    try:
        return round(_float(value) / 100, 4)
    except ValueError:
        errors[name] = str(_l("a number from 0 to 100, or empty"))
        return None


def _words(raw: str | None) -> list[str]:
    lines = (raw or "").replace("\r", "").split("\n")
    return [line.strip() for line in lines if line.strip()]


def policy_settings(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The policy JSON of the policy form (thresholds in percent, one word per line)."""
    errors: dict[str, str] = {}
    attributes = {
        attribute: {
            key: _threshold(
                form.get(f"attributes.{attribute}.{key}"), f"attributes.{attribute}.{key}", errors
            )
            for key in ("review", "reject")
        }
        for attribute in DECISION_ATTRIBUTES
    }
    settings = {
        "attributes": attributes,
        "premoderate": form.get("premoderate") == "on",
        "trusted_lighter_review": form.get("trusted_lighter_review") == "on",
        "banned_words": _words(form.get("banned_words")),
        "suspect_words": _words(form.get("suspect_words")),
        "rule_actions": {rule: form.get(f"rule_actions.{rule}", "review") for rule in RULES},
    }
    return settings, errors


def policy_form_values(policy: Policy) -> dict[str, str]:
    """The form's fields for a stored policy (the inverse of ``policy_settings``)."""
    values: dict[str, str] = {}
    for attribute, rule in policy.attributes.items():
        for key in ("review", "reject"):
            threshold = getattr(rule, key)
            values[f"attributes.{attribute}.{key}"] = "" if threshold is None else f"{threshold * 100:g}"
    values["banned_words"] = "\n".join(policy.banned_words)
    values["suspect_words"] = "\n".join(policy.suspect_words)
    for rule, action in policy.rule_actions.items():
        values[f"rule_actions.{rule}"] = action
    return values


#: The anti-abuse form's number fields and how each is typed (the service checks their ranges).
ABUSE_NUMBERS: dict[str, type] = {
    "min_seconds": float,
    "duplicate_window_minutes": int,
    "flood_window_minutes": int,
    "flood_senders": int,
    "auto_trust_published": int,
}


def abuse_settings_form(form: Mapping[str, str]) -> tuple[dict[str, Any], list[str], dict[str, str]]:
    """The anti-abuse settings and the origins (one per line) of the widget form, and typing errors."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        "ip_rate": (form.get("ip_rate") or "").strip(),
        "author_rate": (form.get("author_rate") or "").strip(),
        "honeypot": form.get("honeypot") == "on",
    }
    for name, kind in ABUSE_NUMBERS.items():
        raw = (form.get(name) or "").strip()
        try:
            data[name] = kind(_float(raw)) if kind is float else int(raw)
        except ValueError:
            errors[name] = str(_l("a whole number") if kind is int else _l("a number"))
    return data, _words(form.get("origins")), errors


def abuse_form_values(settings: Any, origins: list[str]) -> dict[str, str]:
    """The widget form's fields for stored settings (the inverse of ``abuse_settings_form``)."""
    values = {name: f"{getattr(settings, name):g}" for name in ABUSE_NUMBERS}
    values.update(ip_rate=settings.ip_rate, author_rate=settings.author_rate, origins="\n".join(origins))
    return values
