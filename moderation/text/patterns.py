"""Patterns for the things spammers drop into comments: links, e-mails, phone numbers, chat handles.

They run on ``unicodedata.normalize("NFKC", text).lower()`` (not on ``canonical``, which joins dotted
letters and collapses repeats and would damage addresses and numbers). ``feature_text`` replaces
them by placeholder words so the models learn "a phone number is here" rather than the digits.
Each pattern was checked against the ViCTSD and ViHSD dev comments, where it should rarely fire.
"""

from __future__ import annotations

import re

#: Top-level domains that are not also common Vietnamese syllables typed without accents.
_TLDS = (
    "com|net|org|info|biz|xyz|io|ly|tk|ml|ga|cf|gq|ru|cn|online|site|club|asia|bet|casino|shop|store|"
    "top|vip|live|link|click|fun|app|tv|me|cc|co|us|uk|jp|kr|de|fr"
)
_AMBIGUOUS_TLDS = frozenset(
    {"me", "co", "cc", "us", "top", "vip", "live", "link", "fun", "app", "tv", "shop"}
)

URL = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|(?<![\w@.])(?:[a-z0-9](?:[a-z0-9-]{0,40}[a-z0-9])?\.){1,3}"
    rf"(?:(?P<tld>{_TLDS})(?:\.vn)?|vn)\b(?:/\S*)?"
    r"|\b(?:t\.me|bit\.ly|tinyurl\.com|shorturl\.at|goo\.gl)/\S*"
    r"|\b(?:chấm|cham|dot)\s*(?:com|net|vn|org)\b"
)
EMAIL = re.compile(r"[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
#: Vietnamese mobile / landline numbers (0 or +84 then 9-10 digits, any separators) and hotlines.
PHONE = re.compile(
    r"(?<![\d,.])(?:\+?84|0)(?:[\s.\-]{0,2}\d){8,10}(?![\d])"
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


def is_link(match: re.Match[str]) -> bool:
    """Reject matches that only look like domains because a sentence lacks a space after a dot.

    A top-level domain that is also a Vietnamese syllable typed without accents ("co", "me") counts
    only with a path ("/"); a bare ".vn" needs a name of three letters or more before it.
    """
    text = match.group(0)
    if text.startswith(("http", "www.")) or "/" in text:
        return True
    tld = match.group("tld")
    if tld is None and not text.startswith(("chấm", "cham", "dot")):
        return len(text.split(".")[-2]) >= 3
    return tld not in _AMBIGUOUS_TLDS


def find_links(text: str) -> list[re.Match[str]]:
    """Links in NFKC lower-case text, ambiguous look-alikes removed."""
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
