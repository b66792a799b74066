"""Everything the scorer derives from one raw comment, computed once and shared by all models.

``prepare`` returns the NFKC lower-case text (for rules), the canonical and folded forms (for word
lists and the policy) and the feature text: canonical, with links / e-mails / phone numbers replaced
by placeholder words, teencode expanded and punctuation split from words, so that the hashed n-gram
features of every attribute come from the same string.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from moderation.text.normalize import canonical, fold_same_length
from moderation.text.patterns import mask_contacts
from moderation.text.teencode import TeencodeExpander

_CONTACT_HINT = re.compile(r"\d[\s.\-]{0,2}\d[\s.\-]{0,2}\d|[@/]|\.[a-z]{2}|\b(?:chấm|cham|dot)\b")
_PUNCT = re.compile(r"([^\w\s])")


@dataclass(frozen=True, slots=True)
class Prepared:
    """The forms of one comment that scoring needs."""

    #: NFKC, lower case; nothing else changed (rules look for links, numbers, stretched letters).
    raw: str
    canonical: str
    #: ``canonical`` without diacritics, character for character (same length, same offsets).
    folded: str
    #: Canonical, contacts masked, teencode expanded, punctuation split: what the models read.
    features: str


#: Words next to "lũ" that make it the flood, not the contemptuous "lũ" of "lũ chó" / "cả lũ".
_FLOOD_BEFORE = frozenset(
    [
        "bão",
        "mưa",
        "nước",
        "vùng",
        "mùa",
        "cơn",
        "trận",
        "đợt",
        "đỉnh",
        "xả",
        "thoát",
        "chống",
        "phòng",
        "ngập",
        "sau",
        "tránh",
        "tâm",
        "cứu",
    ]
)
_FLOOD_AFTER = frozenset(["lụt", "quét", "ống", "dâng", "rút", "bùn", "lịch"])
#: The same typed without accents: "lu" is also many other words, so only the surest neighbours.
_FLOOD_BEFORE_PLAIN = frozenset(["bao", "mua", "nuoc", "vung", "dinh", "xa", "thoat", "chong", "ngap"])
_FLOOD_AFTER_PLAIN = frozenset(["lut", "quet", "ong"])
#: The token a flood's "lũ" becomes in the feature text (a word of its own for the models).
FLOOD = "lulut"


def _floods(words: list[str]) -> list[str]:
    """Read the "lũ" of floods ("bão lũ", "lũ quét") as ``FLOOD``: models learnt "lũ" as an insult."""
    out = list(words)
    last = len(words) - 1
    for i, w in enumerate(words):
        if w == "lũ":
            before, after = _FLOOD_BEFORE, _FLOOD_AFTER
        elif w == "lu":
            before, after = _FLOOD_BEFORE_PLAIN, _FLOOD_AFTER_PLAIN
        else:
            continue
        if (i and words[i - 1] in before) or (i < last and words[i + 1] in after):
            out[i] = FLOOD
    return out


def feature_text(canonical_text: str, expander: TeencodeExpander) -> str:
    """Teencode expanded, punctuation split off, the flood's "lũ" told apart, single spaces."""
    table = expander.table
    words = [table.get(w, w) for w in _PUNCT.sub(r" \1 ", canonical_text).split()]
    if "lũ" in words or "lu" in words:
        words = _floods(words)
    return " ".join(words)


#: Stands in the folded view for a word that was typed with diacritics.
ACCENTED = "□"


def folded_view(features: str) -> str:
    """The feature text as the diacritic-free view sees it: only words typed without diacritics.

    A word typed with diacritics is unambiguous ("lớn" is big, whatever its fold "lon" may mean),
    so it is replaced by a placeholder; words typed without them ("lon", "ko", "dm") keep their
    folded spelling. A text typed entirely without accents has the same folded and canonical views.
    """
    folded = fold_same_length(features)
    if folded == features:
        return folded
    return " ".join(
        [f if f == t else ACCENTED for t, f in zip(features.split(" "), folded.split(" "), strict=True)]
    )


def prepare(text: str, expander: TeencodeExpander) -> Prepared:
    """Compute all forms of ``text`` once (the scorer's per-comment text work)."""
    raw = unicodedata.normalize("NFKC", text).lower() if text else ""
    normal = canonical(text)
    if _CONTACT_HINT.search(raw):
        features = feature_text(canonical(mask_contacts(raw)), expander)
    else:
        features = feature_text(normal, expander)
    return Prepared(raw=raw, canonical=normal, folded=fold_same_length(normal), features=features)
