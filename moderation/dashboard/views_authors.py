"""One comment, one author's whole history, and what a newsroom adds to a comment: an internal
note, a reply published as the paper. Notes and replies answer htmx with the queue region, like
every other action; the author's and the comment's pages work as plain pages (forms post and
come back)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from moderation.dashboard import bp, presenters
from moderation.dashboard.views_queue import _invalid_text, _respond
from moderation.dashboard.web import Message, identity, is_htmx
from moderation.errors import ValidationError
from moderation.extensions import resources
from moderation.services import admin, author_names, newsroom, review
from moderation.services import dashboard_support as support
from moderation.storage import queue_queries as queries
from moderation.storage.models import Site


def _back(default: str) -> BaseResponse:
    """After a plain post from a comment's or an author's page, back to it (dashboard paths only)."""
    target = request.form.get("next") or ""
    if not target.startswith("/dashboard/") or "//" in target or "\\" in target:
        target = default
    return redirect(target, code=303)


@bp.get("/comments/<comment_id>")
def comment_page(comment_id: str) -> str:
    moderator = identity()
    with resources().db.session() as session:
        comment = review.visible_comment(session, moderator, comment_id)
        page = review.QueuePage(
            total=1,
            items=[comment],
            histories=queries.author_histories(session, [comment.author_id]),
            reports=queries.open_report_counts(session, [comment.id]),
            counts={},
        )
        cards = presenters.cards_for(page, support.card_extras(session, page.items))
        site = session.get(Site, comment.site_id)
        replies = newsroom.replies_to(session, comment.id)
        return render_template(
            "dashboard/comment.html",
            card=cards[0],
            zones={comment.site_id: site.timezone if site else None},
            notes=newsroom.notes_for(session, [comment.id]),
            replies=replies,
            site=site,
        )


@bp.get("/authors/<int:author_id>")
def author_page(author_id: int) -> str:
    moderator = identity()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    with resources().db.session() as session:
        author, comments, total = newsroom.author_history(session, moderator, author_id, page)
        history = queries.author_histories(session, [author.id]).get(author.id)
        sites = {site.id: site for site in admin.visible_sites(session, moderator)}
        site = sites.get(author.site_id)
        posing = (
            site is not None
            and author_names.poses_as_newsroom(author.name, site.name)
            and not newsroom.is_newsroom_author(author, site)
        )
        return render_template(
            "dashboard/author.html",
            public_name=author_names.READER_NAME if posing else None,
            public_names=support.posing_names(session, comments),
            author=author,
            comments=comments,
            total=total,
            page=page,
            last_page=max(1, -(-total // newsroom.HISTORY_PAGE)),
            history=history,
            site=site,
            zone=site.timezone if site else None,
        )


@bp.post("/comments/<comment_id>/note")
def add_note(comment_id: str) -> BaseResponse | tuple[str, int]:
    try:
        with resources().db.session() as session:
            newsroom.add_note(session, identity(), comment_id, request.form.get("note"))
    except ValidationError as exc:
        if not is_htmx() and request.form.get("next"):
            flash(_invalid_text(exc), "error")
            return _back(url_for("dashboard.comment_page", comment_id=comment_id))
        return _respond([Message("error", _invalid_text(exc))], status=422)
    if not is_htmx() and request.form.get("next"):
        flash(_("Note added (moderators only)."), "success")
        return _back(url_for("dashboard.comment_page", comment_id=comment_id))
    return _respond([Message("success", _("Note added (moderators only)."))])


@bp.post("/comments/<comment_id>/reply")
def reply(comment_id: str) -> BaseResponse | tuple[str, int]:
    try:
        with resources().db.session() as session:
            newsroom.reply_as_newsroom(session, identity(), comment_id, request.form.get("reply"))
    except ValidationError as exc:
        if not is_htmx() and request.form.get("next"):
            flash(_invalid_text(exc), "error")
            return _back(url_for("dashboard.comment_page", comment_id=comment_id))
        return _respond([Message("error", _invalid_text(exc))], status=422)
    text = _("Reply published as the newspaper.")
    if not is_htmx() and request.form.get("next"):
        flash(text, "success")
        return _back(url_for("dashboard.comment_page", comment_id=comment_id))
    return _respond([Message("success", text)])
