"""Use cases: sites, moderators, submitting, scoring, deciding and listing comments.

Services take a ``Database`` (or a session) and plain values; they know nothing of HTTP, Flask or
RQ. The web layer and the workers both call them, through the names re-exported here.
"""

from moderation.services.accounts import (
    ModeratorIdentity,
    authenticate_moderator_token,
    create_moderator,
    issue_moderator_token,
)
from moderation.services.comments import (
    CommentSubmission,
    Thread,
    comment_status_counts,
    find_lost_comments,
    mark_enqueued,
    prepare_comment,
    published_threads,
    report_comment,
    store_comment,
    submit_comment,
    unmark_enqueued,
)
from moderation.services.learning import site_model_version
from moderation.services.review import ACTIONS, decide, get_site_comment, moderation_queue
from moderation.services.scoring import STATUS_BY_DECISION, AnalyzerLike, ScoringReport, score_comments
from moderation.services.sites import (
    API_KEY_PREFIX,
    WIDGET_KEY_PREFIX,
    abuse_settings,
    authenticate_site,
    create_site,
    set_origins,
    site_for_widget_key,
    site_named,
    site_policy,
    update_abuse_settings,
    update_site_policy,
)

__all__ = [
    "site_model_version",
    "ACTIONS",
    "API_KEY_PREFIX",
    "WIDGET_KEY_PREFIX",
    "abuse_settings",
    "set_origins",
    "site_for_widget_key",
    "update_abuse_settings",
    "STATUS_BY_DECISION",
    "AnalyzerLike",
    "CommentSubmission",
    "ModeratorIdentity",
    "ScoringReport",
    "Thread",
    "authenticate_moderator_token",
    "authenticate_site",
    "comment_status_counts",
    "create_moderator",
    "create_site",
    "decide",
    "find_lost_comments",
    "get_site_comment",
    "issue_moderator_token",
    "mark_enqueued",
    "moderation_queue",
    "published_threads",
    "report_comment",
    "score_comments",
    "site_named",
    "site_policy",
    "prepare_comment",
    "store_comment",
    "submit_comment",
    "unmark_enqueued",
    "update_site_policy",
]
