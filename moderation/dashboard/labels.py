"""Human labels (translated lazily) for the codes the services use: tabs, attributes, rules, actions.

Codes stay codes in the database; only what a person reads goes through here.
"""

from __future__ import annotations

import re

from flask import g, has_request_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

TABS = {
    "review": _l("To review"),
    "reported": _l("Reported"),
    "pending": _l("Awaiting score"),
    "published": _l("Published"),
    "rejected": _l("Rejected"),
}
ORDERS = {
    "oldest": _l("Oldest first"),
    "newest": _l("Newest first"),
    "score": _l("Highest score first"),
}
STATUSES = {
    "pending": _l("awaiting score"),
    "review": _l("held for review"),
    "published": _l("published"),
    "rejected": _l("rejected"),
}
ATTRIBUTES = {
    "toxicity": _l("Toxicity"),
    "hate_speech": _l("Hate speech"),
    "spam": _l("Spam"),
    "constructive": _l("Constructive"),
}
HATE_LABELS = {"clean": _l("clean"), "offensive": _l("offensive"), "hate": _l("hate")}
#: Why the model or the rules held a comment (the analysis' ``reasons``).
REASONS = {
    "toxicity": _l("Toxic language"),
    "hate_speech": _l("Hate or offensive speech"),
    "spam": _l("Spam or advertising"),
    "spam:betting": _l("Spam: betting and casino"),
    "spam:loan": _l("Spam: loans"),
    "spam:investment": _l("Spam: investment scam"),
    "spam:job": _l("Spam: job scam"),
    "spam:counterfeit": _l("Spam: counterfeit goods"),
    "spam:health": _l("Spam: health and beauty ads"),
    "spam:accounts": _l("Spam: accounts and followers for sale"),
    "spam:phishing": _l("Spam: phishing"),
    "spam:adult": _l("Spam: adult ads"),
    "spam:other": _l("Spam: other advertising"),
    "link": _l("Contains a link"),
    "phone": _l("Contains a phone number"),
    "chat_handle": _l("Contains a chat handle (Zalo, Telegram…)"),
    "repeated_chars": _l("Repeated characters"),
    "banned_word": _l("Banned word"),
    "suspect_word": _l("Suspect word"),
    "banned_author": _l("Banned author"),
    "duplicate": _l("Duplicate comment"),
    "flood": _l("Same text from many senders (flood)"),
    "rejected_by_moderator": _l("Copy of a comment a moderator rejected"),
    "honeypot": _l("Bot trap: the hidden field was filled"),
    "too_fast": _l("Sent too soon after opening the form"),
    "premoderation": _l("Pre-moderation of every comment"),
    "scoring_error": _l("Could not be scored"),
}
RULE_ACTIONS = {"publish": _l("Publish"), "review": _l("Hold for review"), "reject": _l("Reject")}
#: The newsroom's usual reasons to reject; stored in Vietnamese whatever the interface language.
REJECT_REASONS = {
    "insult": _l("Insult"),
    "hate": _l("Hate"),
    "spam": _l("Spam/advertising"),
    "off_topic": _l("Off topic"),
    "misinformation": _l("Misinformation"),
    "personal_info": _l("Personal information exposed"),
}
OTHER_REASON = "other"
AUTHOR_STATUSES = {"normal": _l("normal"), "trusted": _l("trusted"), "banned": _l("banned")}
ROLES = {"moderator": _l("Moderator"), "admin": _l("Administrator")}
AUDIT_ACTIONS = {
    "approve": _l("Approved"),
    "reject": _l("Rejected"),
    "undo": _l("Undid an action"),
    "ban_author": _l("Banned an author"),
    "trust_author": _l("Trusted an author"),
    "restore_author": _l("Restored an author"),
    "policy_changed": _l("Changed the policy"),
    "moderator_created": _l("Created a moderator"),
    "moderator_changed": _l("Changed a moderator"),
    "site_created": _l("Created a site"),
    "abuse_settings_changed": _l("Changed the anti-abuse settings"),
    "origins_changed": _l("Changed the registered origins"),
    "model_candidate": _l("Trained a candidate model"),
    "promote_model": _l("Promoted a model"),
    "rollback_model": _l("Rolled back a model"),
    "shadow_model": _l("Changed the shadow model"),
    "learning_settings_changed": _l("Changed the learning settings"),
    "timezone_changed": _l("Changed the time zone"),
    "note": _l("Added an internal note"),
    "newsroom_reply": _l("Replied as the newspaper"),
}
#: The queue's filters, by query key, for "filter ignored" messages.
FILTER_FIELDS = {
    "tab": _l("Queue"),
    "order": _l("Order"),
    "site": _l("Site"),
    "attribute": _l("Attribute"),
    "reason": _l("Reason"),
    "min_score": _l("Score from"),
    "max_score": _l("Score to"),
    "since": _l("Posted from"),
    "until": _l("Posted to"),
}
OUTCOMES = {
    "published": _l("Published"),
    "review": _l("Held"),
    "rejected": _l("Rejected"),
    "pending": _l("Awaiting score"),
}
#: Service field messages (English, from ``moderation.errors.ValidationError.fields``) shown translated.
FIELD_MESSAGES = {
    "1 to 80 characters": _l("1 to 80 characters"),
    "unknown time zone": _l("an IANA time zone, e.g. Asia/Ho_Chi_Minh"),
    "at least 10 characters": _l("at least 10 characters"),
    "must be a number between 0 and 1, or null": _l("a number from 0 to 100, or empty"),
    "must not be below the review threshold": _l("must not be below the review threshold"),
    "choose another admin to do this": _l("ask another administrator to do this"),
    "choose at least one of your sites": _l("choose at least one of your sites"),
    "unknown site": _l("unknown site"),
    "at most 500 characters": _l("at most 500 characters"),
    "must be approve or reject": _l("must be approve or reject"),
    "normal, trusted or banned": _l("normal, trusted or banned"),
}


def label(table: dict[str, object], code: str | None) -> str:
    """The translated label of a code, or the code itself when it is unknown (never blank).

    Memoised per request: a queue page asks for the same few labels hundreds of times.
    """
    if code is None:
        return ""
    value = table.get(code)
    if value is None:
        return code
    if not has_request_context():
        return str(value)
    cache: dict[tuple[int, str], str] = g.setdefault("_dashboard_labels", {})
    key = (id(table), code)
    if key not in cache:
        cache[key] = str(value)
    return cache[key]


def choices(table: dict[str, object]) -> list[tuple[str, str]]:
    """(code, translated label) pairs, translated once: for lists repeated on every card."""
    return [(code, label(table, code)) for code in table]


def field_message(message: str) -> str:
    if message.startswith("at most ") and message.endswith(" entries"):
        return str(_l("too many entries"))
    if message.startswith("each entry at most"):
        return str(_l("an entry is too long"))
    if message in FIELD_MESSAGES:
        return label(FIELD_MESSAGES, message)
    if message.startswith(("one of", "must be one of", "unknown")):
        return str(_l("not one of the choices"))
    return label(FIELD_MESSAGES, message)


_NUMBER_RANGE = re.compile(r"^a number from (\S+) to (\S+)$")
_BAD_ORIGIN = re.compile(r"^(.*) is not like https://example\.vn$")
_MAX_ORIGINS = re.compile(r"^at most (\d+)$")


def abuse_field_message(message: str) -> str:
    """The anti-abuse and origin validation messages of the services, translated."""
    if match := _NUMBER_RANGE.match(message):
        return str(_l("a number from %(low)s to %(high)s", low=match.group(1), high=match.group(2)))
    if match := _BAD_ORIGIN.match(message):
        return str(_l("%(value)s is not an origin like https://example.vn", value=match.group(1)))
    if match := _MAX_ORIGINS.match(message):
        return str(_l("at most %(num)s origins", num=match.group(1)))
    if message == 'a limit like "5/minute;30/hour"':
        return str(_l('a limit like "5/minute;30/hour"'))
    if message == "must be true or false":
        return str(_l("must be true or false"))
    return field_message(message)


def stored_reject_reason(code: str) -> str | None:
    """The Vietnamese text of a listed reason: the audit log reads the same in every interface language."""
    text = REJECT_REASONS.get(code)
    if text is None:
        return None
    with force_locale("vi"):
        return str(text)


BAN_REASON = _l("Author banned")


def stored_reject_reason_for_ban() -> str:
    """The reason recorded on the comments a ban rejects, in Vietnamese like listed reasons."""
    with force_locale("vi"):
        return str(BAN_REASON)
