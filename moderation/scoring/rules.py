"""Site-independent rule hits: links, phone numbers, chat handles, gibberish.

They run on the NFKC lower-case text (``Prepared.raw``): canonicalisation would join the dots of a
domain and collapse the "aaaaaaa" that the gibberish rule looks for. Each rule was checked on the
ViCTSD and ViHSD dev comments (clean news and social-media comments), where it should rarely fire;
``moderation evaluate`` prints how often.
"""

from __future__ import annotations

import re

from moderation.text.patterns import CHAT_HANDLE, PHONE, find_links

#: One letter typed over and over as a whole word ("aaaaaaaa"; not "kkkk", which is laughter), or a
#: run so long that it is padding rather than emphasis ("nhaaaaaaaaaaaaaaaaa"; "ơiiiii" is fine).
_STRETCH = re.compile(r"(?<![^\W_])([a-gi-jl-z])\1{7,}(?![^\W_])|([^\W\d_])\2{14,}")
_LONG_TOKEN = re.compile(r"[a-z]{8,}")
_CONSONANTS = re.compile(r"[bcdfghjklmnpqrstvwxz]{5,}")
_UNIT_REPEAT = re.compile(r"([a-z]{2,3})\1{3,}")
_RUNS = re.compile(r"(.)\1+")
_LAUGH_LETTERS = frozenset("hjkaeiouyw")


def _mashed(token: str) -> bool:
    """Keyboard mashing: very long, unpronounceable or a short unit repeated (not laughter).

    Stretched letters are collapsed first: "khongggg" is emphasis, not mashing.
    """
    token = _RUNS.sub(r"\1", token)
    if len(token) < 8 or _is_laugh(token):
        return False
    if len(token) >= 16 or _CONSONANTS.search(token):
        return True
    unit = _UNIT_REPEAT.search(token)
    return unit is not None and not _is_laugh(unit.group(1))


def _is_laugh(token: str) -> bool:
    """ "hahaha", "hihi", "kaka", "huhu": only laughing letters (a set test, no backtracking)."""
    return set(token) <= _LAUGH_LETTERS


def repeated_chars(raw: str, canonical: str | None = None) -> bool:
    """A letter typed over and over, or a keyboard-mashed word.

    ``canonical`` (optional) is a cheap hint: a stretch of 8 letters shortens the canonical form by
    at least 7 characters, so most comments skip the back-referencing regex.
    """
    if (canonical is None or len(raw) - len(canonical) >= 7) and _STRETCH.search(raw):
        return True
    return any(_mashed(token) for token in _LONG_TOKEN.findall(raw))


_URL_HINT = re.compile(r"\.[a-z]|http|www|w w w|ch[aấ]m|dot")
_PHONE_HINT = re.compile(r"\d(?:[\s.\-]{0,3}\d){7}")
_CHAT_HINTS = (
    "zalo",
    "zl",
    "za lo",
    "tele",
    "tlg",
    "viber",
    "skype",
    "wechat",
    "kakao",
    "whatsapp",
    "line",
    "signal",
    "fb",
    "face",
    "mess",
    "ig",
    "insta",
    "tik",
    "t.me",
)


def text_rules(raw: str, canonical: str | None = None) -> list[str]:
    """Names of the rules (in ``TEXT_RULES`` order) that ``raw`` (NFKC, lower case) triggers.

    Each full pattern runs only after a cheap test that it could match (the regexes with
    look-behinds cost several microseconds per comment; most comments need none of them).
    """
    hits: list[str] = []
    if not raw:
        return hits
    if _URL_HINT.search(raw) and find_links(raw):
        hits.append("link")
    if _PHONE_HINT.search(raw) and PHONE.search(raw):
        hits.append("phone")
    if any(hint in raw for hint in _CHAT_HINTS) and CHAT_HANDLE.search(raw):
        hits.append("chat_handle")
    if repeated_chars(raw, canonical):
        hits.append("repeated_chars")
    return hits
