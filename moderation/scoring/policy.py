"""A site's moderation policy and how it turns scores into publish / review / reject.

Pure: the policy is data (stored as JSON per site by the storage layer); applying it needs only
the scored text. Thresholds left as ``None`` follow the model's own tuned thresholds, so a model
update keeps the defaults sensible without touching any site's settings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from moderation.errors import ValidationError
from moderation.scoring.types import DECISION_ATTRIBUTES, DECISIONS, TEXT_RULES, ModelThresholds, ScoredText
from moderation.text import canonical, fold, has_diacritics

WORD_RULES = ("banned_word", "suspect_word")
#: Rules that come from outside the text: who wrote it, and how it relates to other comments.
CONTEXT_RULES = ("banned_author", "duplicate", "flood")
RULES = TEXT_RULES + WORD_RULES + CONTEXT_RULES
AUTHOR_STATUSES = ("normal", "trusted", "banned")
RULE_ACTIONS = ("publish", "review", "reject")
DEFAULT_RULE_ACTIONS: dict[str, str] = {
    "link": "review",
    "phone": "review",
    "chat_handle": "review",
    "repeated_chars": "review",
    "banned_word": "reject",
    "suspect_word": "review",
    "banned_author": "review",
    "duplicate": "review",
    "flood": "review",
}
_SEVERITY = {decision: rank for rank, decision in enumerate(DECISIONS)}
MAX_WORDS = 5000
MAX_WORD_CHARS = 100


@dataclass(frozen=True, slots=True)
class AttributePolicy:
    #: Score at or above which a comment is held; ``None`` uses the model's threshold.
    review: float | None = None
    #: Score at or above which a comment is rejected outright; ``None`` never rejects.
    reject: float | None = None


def _default_attributes() -> dict[str, AttributePolicy]:
    return {
        "toxicity": AttributePolicy(review=None, reject=None),
        "hate_speech": AttributePolicy(review=None, reject=0.97),
        "spam": AttributePolicy(review=None, reject=0.98),
    }


@dataclass(frozen=True)
class Policy:
    attributes: dict[str, AttributePolicy] = field(default_factory=_default_attributes)
    #: Hold every comment for a moderator, whatever the scores.
    premoderate: bool = False
    banned_words: tuple[str, ...] = ()
    suspect_words: tuple[str, ...] = ()
    rule_actions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_RULE_ACTIONS))
    #: Trusted authors are held only by rules and reject thresholds, not by review thresholds.
    trusted_lighter_review: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "attributes": {
                name: {"review": ap.review, "reject": ap.reject} for name, ap in self.attributes.items()
            },
            "premoderate": self.premoderate,
            "banned_words": list(self.banned_words),
            "suspect_words": list(self.suspect_words),
            "rule_actions": dict(self.rule_actions),
            "trusted_lighter_review": self.trusted_lighter_review,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Policy:
        """Build a policy from stored or submitted JSON, validating every field."""
        if not data:
            return cls()
        if not isinstance(data, dict):
            raise ValidationError("policy must be an object", fields={"policy": "must be an object"})
        errors: dict[str, str] = {}
        attributes = _default_attributes()
        raw_attributes = data.get("attributes", {})
        if not isinstance(raw_attributes, dict):
            errors["attributes"] = "must be an object"
            raw_attributes = {}
        for name, raw in raw_attributes.items():
            if name not in DECISION_ATTRIBUTES:
                errors[f"attributes.{name}"] = (
                    f"unknown attribute; expected one of {', '.join(DECISION_ATTRIBUTES)}"
                )
                continue
            if not isinstance(raw, dict):
                errors[f"attributes.{name}"] = "must be an object with review and reject"
                continue
            values: dict[str, float | None] = {}
            for key in ("review", "reject"):
                value = raw.get(key)
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0
                ):
                    errors[f"attributes.{name}.{key}"] = "must be a number between 0 and 1, or null"
                    value = None
                values[key] = None if value is None else float(value)
            review, reject = values["review"], values["reject"]
            if review is not None and reject is not None and reject < review:
                errors[f"attributes.{name}.reject"] = "must not be below the review threshold"
            attributes[name] = AttributePolicy(review=review, reject=reject)
        premoderate = data.get("premoderate", False)
        if not isinstance(premoderate, bool):
            errors["premoderate"] = "must be true or false"
        trusted_lighter_review = data.get("trusted_lighter_review", True)
        if not isinstance(trusted_lighter_review, bool):
            errors["trusted_lighter_review"] = "must be true or false"
        words: dict[str, tuple[str, ...]] = {}
        for key in ("banned_words", "suspect_words"):
            raw_words = data.get(key, [])
            if not isinstance(raw_words, list) or not all(isinstance(w, str) for w in raw_words):
                errors[key] = "must be a list of strings"
                raw_words = []
            elif len(raw_words) > MAX_WORDS:
                errors[key] = f"at most {MAX_WORDS} entries"
            elif any(len(w) > MAX_WORD_CHARS for w in raw_words):
                errors[key] = f"each entry at most {MAX_WORD_CHARS} characters"
            words[key] = tuple(w.strip() for w in raw_words if isinstance(w, str) and w.strip())
        rule_actions = dict(DEFAULT_RULE_ACTIONS)
        raw_actions = data.get("rule_actions", {})
        if not isinstance(raw_actions, dict):
            errors["rule_actions"] = "must be an object"
            raw_actions = {}
        for rule, action in raw_actions.items():
            if rule not in RULES:
                errors[f"rule_actions.{rule}"] = f"unknown rule; expected one of {', '.join(RULES)}"
            elif action not in RULE_ACTIONS:
                errors[f"rule_actions.{rule}"] = f"must be one of {', '.join(RULE_ACTIONS)}"
            else:
                rule_actions[rule] = action
        if errors:
            raise ValidationError("invalid policy", fields=errors)
        return cls(
            attributes=attributes,
            premoderate=bool(premoderate),
            banned_words=words["banned_words"],
            suspect_words=words["suspect_words"],
            rule_actions=rule_actions,
            trusted_lighter_review=bool(trusted_lighter_review),
        )


@dataclass(frozen=True, slots=True)
class WordMatcher:
    """Word-boundary matching of a word list on both the accented and the folded forms.

    An entry typed with diacritics matches only text with the same diacritics (so "đéo" does not
    fire on "đeo"); an entry typed without them matches the folded text, as readers type it.
    """

    accented: re.Pattern[str] | None
    folded: re.Pattern[str] | None

    def matches(self, scored: ScoredText) -> bool:
        if self.accented is not None and self.accented.search(scored.canonical):
            return True
        return self.folded is not None and bool(self.folded.search(scored.folded))


def _pattern(words: list[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


@lru_cache(maxsize=256)
def word_matcher(words: tuple[str, ...]) -> WordMatcher:
    accented: list[str] = []
    folded: list[str] = []
    for word in words:
        normal = canonical(word).strip()
        if not normal:
            continue
        if has_diacritics(normal):
            accented.append(normal)
        else:
            folded.append(fold(normal))
    return WordMatcher(accented=_pattern(accented), folded=_pattern(folded))


def apply_policy(
    scored: ScoredText,
    policy: Policy,
    thresholds: ModelThresholds,
    *,
    author_status: str = "normal",
    context_rules: Sequence[str] = (),
) -> tuple[str, list[str]]:
    """Decide publish / review / reject and name every attribute or rule that drove it.

    ``context_rules`` are hits found outside the text (``duplicate``, ``flood``); a banned
    author adds ``banned_author``; a trusted author skips the review thresholds when the site's
    policy says so (reject thresholds and rules still apply).
    """
    decision = "publish"
    reasons: list[str] = []

    def escalate(to: str, reason: str) -> None:
        nonlocal decision
        if _SEVERITY[to] > _SEVERITY[decision]:
            decision = to
        if reason not in reasons:
            reasons.append(reason)

    lighter = author_status == "trusted" and policy.trusted_lighter_review
    for attribute in DECISION_ATTRIBUTES:
        rule = policy.attributes.get(attribute, AttributePolicy())
        score = scored.decision_score(attribute)
        review_at = thresholds.for_attribute(attribute) if rule.review is None else rule.review
        if rule.reject is not None and score >= rule.reject:
            escalate("reject", attribute)
        elif score >= review_at and not lighter:
            escalate("review", attribute)
        else:
            continue
        if attribute == "spam":
            # Moderators see which kind of spam it is ("spam:loan"); "spam" stays for the attribute.
            escalate(decision, f"spam:{scored.spam_kind}")
    hits = [*scored.rules, *context_rules]
    if author_status == "banned":
        hits.append("banned_author")
    if policy.banned_words and word_matcher(policy.banned_words).matches(scored):
        hits.append("banned_word")
    if policy.suspect_words and word_matcher(policy.suspect_words).matches(scored):
        hits.append("suspect_word")
    for hit in hits:
        action = policy.rule_actions.get(hit, "review")
        if action != "publish":
            escalate(action, hit)
    if policy.premoderate and decision == "publish":
        escalate("review", "premoderation")
    return decision, reasons
