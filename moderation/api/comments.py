"""Site endpoints: submit, read and analyze comments; list an article's published thread."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace

from flask import Response, jsonify, request, url_for

from moderation import services
from moderation.api import bp, door, schemas
from moderation.api.auth import cached_caller, current_caller, current_site
from moderation.api.serializers import comment_for_site, public_thread
from moderation.api.widget import bot_trap
from moderation.errors import AuthenticationError, QueueUnavailable, StorageUnavailable
from moderation.extensions import resources
from moderation.limits import limiter
from moderation.scoring.policy import Policy

log = logging.getLogger(__name__)


@bp.post("/comments")
@limiter.exempt  # its limits are the site's own, counted by the door in one call (door.enforce_post_limits)
def submit_comment() -> tuple[Response, int, dict[str, str]]:
    """Store the comment, then queue it; answer 202 only once it is stored.

    The answer is the same for every stored comment, even one the door decided at once (a bot
    trap): the site or widget follows its status like any other.
    """
    door.enforce_post_limits()
    res = resources()
    caller = cached_caller()
    if caller is None:
        with res.db.session(read_only=True) as session:
            caller = current_caller(session)
    data = schemas.parse_json(request)
    submission = schemas.comment_submission(
        data, max_content=res.settings.max_content_chars, max_name=res.settings.max_name_chars
    )
    trap = None
    if caller.widget:
        # In a browser the reader is the connection; what the page claims about itself is not trusted.
        submission = replace(
            submission,
            client_ip=request.remote_addr,
            user_agent=(request.user_agent.string or None) and request.user_agent.string[:500],
            referrer=request.referrer[:2000] if request.referrer else None,
        )
        trap = bot_trap(data, caller.site.id, caller.site.abuse)
    # The checks and the door's Redis call come before the write transaction, so that on SQLite
    # the one write lock is held only for the few statements that need it and the commit.
    draft = services.prepare_comment(
        caller.site, submission, bot_trap=trap, will_enqueue=res.queue is not None, recent=res.recent
    )
    with res.db.session() as session:
        comment_id, status = services.store_comment(session, draft)
    # Committed: from here on the comment cannot be lost. If Redis refuses it, the enqueue recorded
    # with it is taken back so the sweep enqueues it soon; the site still gets its 202.
    if status == "pending" and res.queue is not None:
        try:
            res.queue.push([comment_id])
        except QueueUnavailable:
            log.warning(
                "comment %s stored but not enqueued: Redis unavailable; the sweep will retry", comment_id
            )
            # If even that fails, it stays recorded as enqueued: the sweep's stale rule finds it later.
            with contextlib.suppress(StorageUnavailable):
                services.unmark_enqueued(res.db, [comment_id])
    location = url_for("api.get_comment", comment_id=comment_id)
    return jsonify({"id": comment_id, "status": "pending"}), 202, {"Location": location}


@bp.get("/comments/<comment_id>")
def get_comment(comment_id: str) -> Response:
    with resources().db.session(read_only=True) as session:
        site = current_site(session)
        comment = services.get_site_comment(session, site, comment_id)
        return jsonify(comment_for_site(comment))


@bp.get("/articles/<path:article_id>/comments")
def article_comments(article_id: str) -> Response:
    """Public: the site is named by ``?site=`` (the widget) or by its API key (the site's server)."""
    page, per_page = schemas.page_args(request.args)
    with resources().db.session(read_only=True) as session:
        site_name = request.args.get("site")
        if request.args.get("key"):
            site = current_caller(session).site
        elif site_name:
            site = services.site_named(session, site_name)
        elif request.headers.get("Authorization"):
            site = current_site(session)
        else:
            raise AuthenticationError("name the site with ?site=<name>, its widget ?key= or its API key")
        total, threads = services.published_threads(session, site, article_id, page=page, per_page=per_page)
        return jsonify(
            {
                "items": [public_thread(thread) for thread in threads],
                "total": total,
                "page": page,
                "per_page": per_page,
            }
        )


@bp.post("/analyze")
def analyze() -> Response:
    res = resources()
    # A batch of 1,000 comments is far larger than one comment: this route has its own body limit.
    request.max_content_length = res.settings.max_analyze_bytes
    with res.db.session() as session:
        site = current_site(session)
        policy: Policy = site.policy
        version = services.site_model_version(session, site.id)
    ids, texts = schemas.analyze_request(
        schemas.parse_json(request), max_content=res.settings.max_content_chars
    )
    # The site's own model when one was promoted for it, so /analyze agrees with what workers decide.
    results = res.models().get(version).analyze(texts, ids, policy)
    return jsonify({"results": results})
