"""Patterns for the things spammers drop into comments: links, e-mails, phone numbers, chat handles.

They run on ``unicodedata.normalize("NFKC", text).lower()`` (not on ``canonical``, which joins dotted
letters and collapses repeats and would damage addresses and numbers). ``feature_text`` replaces
them by placeholder words so the models learn "a phone number is here" rather than the digits.
Each pattern was checked against the ViCTSD and ViHSD dev comments, where it should rarely fire.

A bare domain ("xoso.win") is a link when its last label is a real top-level domain of the Public
Suffix List (the ``publicsuffixlist`` package's bundled snapshot: offline, no hand-written list).
Many top-level domains are also Vietnamese syllables typed without accents or common abbreviations
("co", "la", "me", "vn"), and readers often forget the space after a full stop ("xong.roi",
"khong.co"); for those, the name before the dot must not itself be one Vietnamese syllable.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: Link shorteners and chat-link hosts: a link even without a path.
SHORTENERS = (
    "bit.ly|tinyurl.com|shorturl.at|goo.gl|cutt.ly|rb.gy|is.gd|t.ly|tiny.cc|ow.ly|s.id|v.gd|"
    "shorte.st|t.co|t.me|zalo.me|m.me|wa.me|fb.me|linktr.ee|bio.link|beacons.ai"
)
_SHORTENER_HOSTS = SHORTENERS.replace(".", r"\.")
_DOMAIN = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,4}[a-z]{2,24}"
URL = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\bw\s+w\s+w\s*\.\s*[a-z0-9-]+(?:\s*\.\s*[a-z]{2,})+"
    rf"|\b(?:{_SHORTENER_HOSTS})(?:/\S*)?"
    rf"|(?<![\w@.])(?P<domain>{_DOMAIN})\b(?P<path>/\S*)?"
    r"|\b(?:chấm|cham|dot|chầm)\s*(?:com|net|vn|org|info|xyz|top|vip|win|club)\b"
)
EMAIL = re.compile(r"[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
#: Vietnamese mobile / landline numbers (0 or +84 then 9-10 digits, any separators) and hotlines.
PHONE = re.compile(
    r"(?<![\d,.])(?:\+?84|0)(?:[\s.\-]{0,3}\d){8,10}(?![\d])"
    r"|(?<![\d,.])1[89]00[\s.\-]?\d{2}[\s.\-]?\d{2}(?:[\s.\-]?\d{2})?(?![\d])"
)
_PLATFORMS = r"(?:zalo|zl|za lo|telegram|tele|tlg|viber|skype|wechat|kakao|whatsapp|line|signal)"
_SOCIAL = (
    r"(?:zalo|zl|telegram|tele|tlg|viber|skype|wechat|kakao|whatsapp|fb|facebook|face|messenger|mess|ig|"
    r"insta|instagram|tiktok|tik tok)"
)
CHAT_HANDLE = re.compile(
    rf"\b{_PLATFORMS}\s*[:\-.]?\s*(?:\+?\d|@\w)"
    r"|\b(?:ib|inbox|ibx|nt|nhắn tin|nhắn|liên hệ|lh|kb|kết bạn|add|kết nối)\s+"
    rf"(?:qua\s+|mình\s+|em\s+|e\s+|với\s+|vào\s+|tôi\s+)?{_SOCIAL}\b"
    rf"|\b{_SOCIAL}\s*[:\-]\s*@?\w"
    r"|\bt\.me/\w+"
)

#: One Vietnamese syllable written without diacritics: onset, vowels, coda.
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?"
    r"[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?"
)
#: Common abbreviations and English words of comments that are also top-level domains.
_COMMON_WORDS = frozenset(
    [
        "vn",
        "com",
        "net",
        "tv",
        "cc",
        "id",
        "ad",
        "am",
        "at",
        "in",
        "it",
        "is",
        "me",
        "my",
        "no",
        "so",
        "to",
        "be",
        "do",
        "go",
        "us",
        "uk",
        "tr",
        "ng",
        "mn",
        "bn",
        "vc",
        "dm",
        "ae",
        "hn",
        "hk",
        "live",
        "like",
        "page",
        "link",
        "game",
        "love",
        "hot",
        "team",
        "men",
        "you",
        "show",
        "vote",
        "free",
        "sale",
        "shop",
        "top",
        "pro",
        "bar",
        "map",
        "diet",
        "video",
        "stream",
        "camera",
        "online",
        "google",
        "youtube",
        "bot",
        "lol",
        "fan",
        "gay",
    ]
)


@lru_cache(maxsize=1)
def _suffixes():  # noqa: ANN202 - the library has no type hints
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(accept_unknown=False, only_icann=True)


@lru_cache(maxsize=4096)
def top_level_domain(domain: str) -> str | None:
    """The public suffix of ``domain`` if its last label is a real top-level domain, else None."""
    return _suffixes().publicsuffix(domain)


def _syllable(word: str) -> bool:
    return _SYLLABLE.fullmatch(word) is not None


def _ambiguous(label: str) -> bool:
    """A label that ordinary comments write as a word: a syllable, or a common short word."""
    return label in _COMMON_WORDS or _syllable(label)


def is_link(match: re.Match[str]) -> bool:
    """Reject matches that only look like domains because a sentence lacks a space after a dot."""
    domain = match.group("domain")
    if domain is None:
        return True  # a scheme, www., a shortener or "chấm com"
    suffix = top_level_domain(domain)
    if suffix is None:
        return False
    if match.group("path") and len(match.group("path")) > 1:
        return True
    labels = domain.split(".")
    name = labels[-len(suffix.split(".")) - 1] if len(labels) > len(suffix.split(".")) else ""
    if not name or name.isdigit():
        return False
    tld = suffix.split(".")[-1]
    if _ambiguous(tld) or "." in suffix:
        return len(name) >= 3 and not _ambiguous(name)
    return not (_syllable(name) and len(labels) == 2 and len(name) <= 2)


def find_links(text: str) -> list[re.Match[str]]:
    """Links in NFKC lower-case text, look-alikes removed."""
    return [m for m in URL.finditer(text) if is_link(m)]


_GROUPS = (
    (EMAIL, " xemail "),
    (URL, " xurl "),
    (PHONE, " xphone "),
)


def _mask_link(match: re.Match[str]) -> str:
    return " xurl " if is_link(match) else match.group(0)


def mask_contacts(text: str) -> str:
    """Replace e-mails, links and phone numbers by placeholder words (``xemail``, ``xurl``, ``xphone``)."""
    for pattern, token in _GROUPS:
        text = URL.sub(_mask_link, text) if pattern is URL else pattern.sub(token, text)
    return text
