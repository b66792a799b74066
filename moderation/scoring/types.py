"""What scoring produces, before and after a site's policy is applied.

``ScoredText`` is the site-independent result of the models and rules for one text;
``analysis_dict`` turns it, with a policy decision, into the contract's JSON shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ATTRIBUTES = ("toxicity", "hate_speech", "spam", "constructive")
#: Attributes that can hold or reject a comment (constructive only helps editors pick comments).
DECISION_ATTRIBUTES = ("toxicity", "hate_speech", "spam")
HATE_LABELS = ("clean", "offensive", "hate")
DECISIONS = ("publish", "review", "reject")
#: Rules whose hits do not depend on the site.
TEXT_RULES = ("link", "phone", "chat_handle", "repeated_chars")


@dataclass(slots=True)
class ScoredText:
    """Scores, spans and rule hits of one text; nothing here depends on a site."""

    text: str
    toxicity: float
    spam: float
    constructive: float
    hate_scores: dict[str, float]
    hate_label: str
    #: (start, end) offsets into ``text``, end exclusive.
    spans: list[tuple[int, int]] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    #: Which kind of spam the vocabulary points to (``betting``, ``loan``... or ``other``).
    spam_kind: str = "other"
    #: Lower-case, NFC, one tone placement, obfuscation undone; keeps diacritics.
    canonical: str = ""
    #: ``canonical`` without diacritics (đ -> d): how readers type without accents.
    folded: str = ""

    def decision_score(self, attribute: str) -> float:
        """The probability that the policy compares with its thresholds."""
        if attribute == "hate_speech":
            return 1.0 - self.hate_scores["clean"]
        return float(getattr(self, attribute))


@dataclass(frozen=True, slots=True)
class ModelThresholds:
    """The model's own thresholds (tuned on dev splits): they set ``flagged``."""

    toxicity: float = 0.5
    hate_speech: float = 0.5
    spam: float = 0.5
    constructive: float = 0.5

    def for_attribute(self, attribute: str) -> float:
        return float(getattr(self, attribute))


def decision_scores(analysis: dict[str, Any]) -> dict[str, float]:
    """The scores a policy compares with its thresholds, read back from a stored analysis."""
    attributes = analysis["attributes"]
    return {
        "toxicity": float(attributes["toxicity"]["score"]),
        "hate_speech": 1.0 - float(attributes["hate_speech"]["scores"]["clean"]),
        "spam": float(attributes["spam"]["score"]),
    }


def _round(value: float) -> float:
    return round(float(value), 4)


def analysis_dict(
    scored: ScoredText,
    *,
    comment_id: Any,
    model_version: str,
    thresholds: ModelThresholds,
    decision: str,
    reasons: list[str],
) -> dict[str, Any]:
    """The analysis of one comment in the shape of the contract."""
    attributes = {
        "toxicity": {
            "score": _round(scored.toxicity),
            "flagged": scored.toxicity >= thresholds.toxicity,
        },
        "hate_speech": {
            "label": scored.hate_label,
            "scores": {label: _round(scored.hate_scores[label]) for label in HATE_LABELS},
        },
        "spam": {
            "score": _round(scored.spam),
            "flagged": scored.spam >= thresholds.spam,
            "kind": scored.spam_kind if scored.spam >= thresholds.spam else None,
        },
        "constructive": {
            "score": _round(scored.constructive),
            "flagged": scored.constructive >= thresholds.constructive,
        },
    }
    return {
        "id": comment_id,
        "model_version": model_version,
        "attributes": attributes,
        "spans": [{"start": s, "end": e, "text": scored.text[s:e]} for s, e in scored.spans],
        "rules": list(scored.rules),
        "decision": decision,
        "reasons": list(reasons),
    }
