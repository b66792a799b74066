"""Vietnamese text normalisation (pure: standard library only).

``canonical`` is the one spelling that models, word lists and rules see (see ``normalize`` for the
choices: NFKC, old-style tone placement, stretched letters, dotted or spaced letters, leetspeak);
``fold`` removes diacritics; ``tracked`` keeps an offset map so spans found on the canonical text are
reported as offsets into the original; ``prepare`` computes everything the scorer needs at once.
"""

from __future__ import annotations

from moderation.text.normalize import (
    SPACED_TARGETS,
    canonical,
    fold,
    fold_same_length,
    has_diacritics,
    tracked,
)
from moderation.text.offsets import TrackedText
from moderation.text.patterns import CHAT_HANDLE, EMAIL, PHONE, URL, find_links, mask_contacts
from moderation.text.prepare import Prepared, feature_text, folded_view, prepare
from moderation.text.teencode import TeencodeExpander, expand_teencode, load_teencode

__all__ = [
    "CHAT_HANDLE",
    "EMAIL",
    "PHONE",
    "SPACED_TARGETS",
    "URL",
    "Prepared",
    "TeencodeExpander",
    "TrackedText",
    "canonical",
    "expand_teencode",
    "feature_text",
    "find_links",
    "fold",
    "fold_same_length",
    "folded_view",
    "has_diacritics",
    "load_teencode",
    "mask_contacts",
    "prepare",
    "tracked",
]
