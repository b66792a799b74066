"""Names readers cannot post under: the newsroom's own, which its replies are signed with.

A moderator's reply is shown as "Ban biên tập <site>" (``services.newsroom``); a reader posting
under that name, or "Ban bien tap", "BBT", "Tòa soạn" or the site's own name, would pose as the
newspaper. Names stored before that rule (or, before it, a reader's post that joined the newsroom's
own author record) are shown to readers as "Bạn đọc" (``public_names``); the stored name is kept for
moderators. Names are compared as the models see text (``moderation.text.fold``: any case, accents,
teencode-style dots and spacing) with everything but letters and digits removed, and a few
Cyrillic and Greek letters that look Latin read as the Latin ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.orm import Session

from moderation.errors import ValidationError
from moderation.storage import repositories as repo
from moderation.storage.models import Comment
from moderation.text import fold

#: The name a newsroom's replies are signed with, followed by the site's name.
NEWSROOM_NAME = "Ban biên tập"
#: What readers see in place of a stored name that poses as the newsroom.
READER_NAME = "Bạn đọc"
#: Reserved anywhere in a name, once folded and squeezed ("Ban.Biên-Tập báo X", "toa soan").
RESERVED_PHRASES = ("banbientap", "toasoan")
#: Reserved as a word of their own ("BBT Báo X"); as part of a longer word they are a name's letters.
RESERVED_WORDS = ("bbt",)
#: Lower-case letters of other scripts drawn like Latin ones (fold has lower-cased the name).
_LOOKALIKES = str.maketrans("аеорсухіјѕԁԛԝοαιντ", "aeopcyxijsdqwoaivt")
_WORD = re.compile(r"[0-9a-z]+")
MESSAGE = "reserved for the newsroom: a reader cannot post as Ban biên tập or as the site"


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text).translate(_LOOKALIKES))


def name_key(text: str) -> str:
    """The name as compared: folded, lookalikes read as Latin, only letters and digits kept."""
    return "".join(_words(text))


def poses_as_newsroom(name: str, site_name: str) -> bool:
    """Whether a reader's display name reads as the newsroom's or the site's own."""
    words = _words(name)
    key = "".join(words)
    if not key:
        return False
    if any(phrase in key for phrase in RESERVED_PHRASES) or any(w in RESERVED_WORDS for w in words):
        return True
    site = name_key(site_name)
    return bool(site) and key in (site, "bao" + site)


def check_author_name(name: str, site_name: str) -> None:
    """Refuse a reader's post under the newsroom's name (422 on the API, next to the name field)."""
    if poses_as_newsroom(name, site_name):
        raise ValidationError("author.name is reserved for the newsroom", fields={"author.name": MESSAGE})


def public_names(session: Session, site_name: str, comments: Sequence[Comment]) -> dict[str, str]:
    """The author name readers see on each comment: the stored one, unless it poses as the newsroom.

    Only the newsroom's own replies (their ``newsroom_reply`` audit entry says so) keep such a name;
    a reader's comment stored under one before names were checked is shown as ``READER_NAME``.
    """
    posing = {c.id for c in comments if poses_as_newsroom(c.author.name, site_name)}
    replies = repo.newsroom_reply_ids(session, posing) if posing else set()
    return {c.id: READER_NAME if c.id in posing and c.id not in replies else c.author.name for c in comments}
