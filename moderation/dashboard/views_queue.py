"""The queue: tabs, filters, cards, and the actions on them (approve, reject, bulk, undo, ban, trust).

Actions answer htmx with the re-rendered queue region (the decided card gone, the counts
updated, a message on top) and plain form posts with a redirect, so the page works without
JavaScript too. The current filters travel in each action's query string.
"""

from __future__ import annotations

from typing import Any

from flask import flash, get_flashed_messages, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from moderation.dashboard import bp, labels, presenters
from moderation.dashboard.forms import PER_PAGE_CHOICES, filter_zone, parse_queue_args, reject_reason
from moderation.dashboard.web import Message, identity, is_htmx
from moderation.errors import Conflict, ValidationError
from moderation.extensions import resources
from moderation.services import admin, newsroom, review
from moderation.services import dashboard_support as support
from moderation.storage.models import Author, Site

#: Query-string keys that describe the queue's state (kept across actions and tab changes).
STATE_KEYS = (
    "tab",
    "order",
    "site",
    "article",
    "reason",
    "attribute",
    "min_score",
    "max_score",
    "since",
    "until",
    "author",
    "q",
    "cluster",
    "page",
    "per_page",
)


def queue_args(**overrides: Any) -> dict[str, str]:
    """The current queue state as query arguments, with overrides (``None`` drops a key)."""
    state = {key: request.args[key] for key in STATE_KEYS if request.args.get(key)}
    for key, value in overrides.items():
        if value is None or value == "":
            state.pop(key, None)
        else:
            state[key] = str(value)
    return state


def _render_queue(messages: list[Message], *, fragment: bool, status: int = 200) -> tuple[str, int]:
    moderator = identity()
    with resources().db.session() as session:
        sites = admin.visible_sites(session, moderator)
        zones = {site.id: site.timezone for site in sites}
        parsed = parse_queue_args(request.args, set(zones), zones)
        page = review.queue_page(
            session, moderator, parsed.filter, page=parsed.page, per_page=parsed.per_page
        )
        last_page = max(1, -(-page.total // parsed.per_page))
        if not page.items and parsed.page > last_page:
            parsed.page = last_page
            page = review.queue_page(
                session, moderator, parsed.filter, page=last_page, per_page=parsed.per_page
            )
        context = {
            "q": parsed,
            "f": parsed.filter,
            "page": page,
            "cards": presenters.cards_for(page, support.card_extras(session, page.items)),
            "notes": newsroom.notes_for(session, [c.id for c in page.items]),
            "sites": sites,
            "zones": zones,
            "filter_zone": filter_zone(zones, parsed.filter.site_id),
            "last_page": last_page,
            "messages": messages,
            "queue_args": queue_args,
            "per_page_choices": PER_PAGE_CHOICES,
        }
        template = "dashboard/_queue_region.html" if fragment else "dashboard/queue.html"
        return render_template(template, **context), status


@bp.get("/")
def index() -> BaseResponse:
    return redirect(url_for("dashboard.queue"))


@bp.get("/queue")
def queue() -> tuple[str, int]:
    flashed = [Message(level, text) for level, text in get_flashed_messages(with_categories=True)]
    return _render_queue(flashed, fragment=is_htmx())


def _respond(messages: list[Message], status: int = 200) -> BaseResponse | tuple[str, int]:
    """htmx gets the region with the messages; a plain post gets a redirect and flashed messages."""
    if is_htmx():
        return _render_queue(messages, fragment=True, status=status)
    for message in messages:
        flash(message.text, message.level)
    return redirect(url_for("dashboard.queue", **queue_args()), code=303)


def _conflict_message(comment_id: str) -> Message:
    """Say who decided the comment first, and when; nothing was overwritten."""
    with resources().db.session() as session:
        decided = support.last_decision(session, comment_id)
        comment = review.visible_comment(session, identity(), comment_id)
        site = session.get(Site, comment.site_id)
        zone = site.timezone if site is not None else None
    status = labels.label(labels.STATUSES, comment.status)
    if decided is None:
        text = _(
            "This comment was already decided (now %(status)s). Your action was not applied.", status=status
        )
    else:
        text = _(
            "%(who)s already decided this comment at %(time)s (now %(status)s). Your action was not applied.",
            who=decided.who,
            time=presenters.local_time(decided.at, zone),
            status=status,
        )
    return Message("error", text)


@bp.post("/comments/<comment_id>/decision")
def decide(comment_id: str) -> BaseResponse | tuple[str, int]:
    action = request.form.get("action", "")
    try:
        reason = reject_reason(request.form) if action == "reject" else None
        with resources().db.session() as session:
            review.decide(session, identity(), comment_id, action, reason)
    except Conflict:
        return _respond([_conflict_message(comment_id)], status=409)
    except ValidationError as exc:
        return _respond([Message("error", _invalid_text(exc))], status=422)
    text = _("Comment approved.") if action == "approve" else _("Comment rejected: %(reason)s", reason=reason)
    return _respond([Message("success", text, undo=True)])


def _invalid_text(exc: ValidationError) -> str:
    details = "; ".join(labels.field_message(m) for m in exc.fields.values())
    return _("Not done: %(details)s", details=details or exc.message)


@bp.post("/comments/bulk")
def decide_bulk() -> BaseResponse | tuple[str, int]:
    action = request.form.get("action", "")
    ids = [i for i in request.form.getlist("ids") if i][:500]
    if not ids:
        return _respond([Message("error", _("Select at least one comment first."))], status=422)
    try:
        reason = reject_reason(request.form, prefix="bulk_") if action == "reject" else None
        with resources().db.session() as session:
            result = review.decide_many(session, identity(), ids, action, reason)
    except ValidationError as exc:
        return _respond([Message("error", _invalid_text(exc))], status=422)
    messages = []
    done = len(result.decided)
    if done:
        text = (
            ngettext("%(num)d comment approved.", "%(num)d comments approved.", done)
            if action == "approve"
            else ngettext("%(num)d comment rejected.", "%(num)d comments rejected.", done)
        )
        messages.append(Message("success", text, undo=True))
    if result.conflicts:
        messages.append(
            Message(
                "error",
                ngettext(
                    "%(num)d comment had already been decided by someone else and was left as it was.",
                    "%(num)d comments had already been decided by someone else and were left as they were.",
                    len(result.conflicts),
                ),
            )
        )
    return _respond(messages, status=200 if done else 409)


@bp.post("/comments/<comment_id>/cluster")
def reject_cluster(comment_id: str) -> BaseResponse | tuple[str, int]:
    """Reject a comment's whole cluster of repeats or flood copies: one action, one undo."""
    try:
        reason = reject_reason(request.form, prefix="cluster_")
        with resources().db.session() as session:
            result = review.decide_cluster(session, identity(), comment_id, "reject", reason)
    except ValidationError as exc:
        return _respond([Message("error", _invalid_text(exc))], status=422)
    done = len(result.decided)
    messages = []
    if done:
        text = ngettext(
            "%(num)d comment of the cluster rejected.", "%(num)d comments of the cluster rejected.", done
        )
        messages.append(Message("success", text, undo=True))
    else:
        messages.append(Message("info", _("Every comment of this cluster was already decided.")))
    return _respond(messages)


@bp.post("/undo")
def undo() -> BaseResponse | tuple[str, int]:
    with resources().db.session() as session:
        result = review.undo_last(session, identity())
    if result.action is None:
        return _respond([Message("info", _("Nothing to undo."))])
    what = labels.label(labels.AUDIT_ACTIONS, result.action)
    messages = [
        Message(
            "success",
            ngettext(
                "Undone (%(what)s): %(num)d comment restored.",
                "Undone (%(what)s): %(num)d comments restored.",
                len(result.restored),
                what=what,
            ),
        )
    ]
    if result.conflicts:
        messages.append(
            Message(
                "error",
                ngettext(
                    "%(num)d comment was changed by someone else since, so it was left as it is.",
                    "%(num)d comments were changed by someone else since, so they were left as they are.",
                    len(result.conflicts),
                ),
            )
        )
    return _respond(messages)


@bp.post("/authors/<int:author_id>/status")
def author_status(author_id: int) -> BaseResponse | tuple[str, int]:
    status = request.form.get("status", "")
    reason = (request.form.get("reason") or "").strip()[:500] or None
    if status == "banned" and reason is None:
        reason = labels.stored_reject_reason_for_ban()
    try:
        with resources().db.session() as session:
            outcome = review.set_author_status(session, identity(), author_id, status, reason)
            name = session.get(Author, author_id).name  # type: ignore[union-attr]
    except ValidationError as exc:
        return _respond([Message("error", _invalid_text(exc))], status=422)
    if status == "banned":
        text = ngettext(
            "%(name)s is banned; %(num)d waiting comment rejected. Their next comments will be held.",
            "%(name)s is banned; %(num)d waiting comments rejected. Their next comments will be held.",
            len(outcome["rejected"]),
            name=name,
        )
    elif status == "trusted":
        text = _("%(name)s is now trusted.", name=name)
    else:
        text = _("%(name)s is back to normal.", name=name)
    target = request.form.get("next") or ""
    if not is_htmx() and target.startswith("/dashboard/") and "//" not in target and "\\" not in target:
        flash(text, "success")  # from the author's page: back to it
        return redirect(target, code=303)
    # review.undo_last covers bans and trust, not a return to normal: offer Undo only where it applies.
    return _respond([Message("success", text, undo=status != "normal")])
