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


def feature_text(canonical_text: str, expander: TeencodeExpander) -> str:
    """Teencode expanded, punctuation split off, single spaces."""
    table = expander.table
    return " ".join([table.get(w, w) for w in _PUNCT.sub(r" \1 ", canonical_text).split()])


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
