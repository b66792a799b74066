"""Sites' time zones: one place for the default and for checking a name (the dashboard and the
widget both show times in the site's zone; ``sites.timezone`` stores it)."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from moderation.errors import ValidationError

#: Vietnam's zone: the default for every site (a newsroom in Hà Nội or TP.HCM).
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
MAX_NAME_CHARS = 64


def validate(name: str | None) -> str:
    """An IANA zone name that ``zoneinfo`` knows (``Asia/Ho_Chi_Minh``), or ValidationError."""
    value = (name or "").strip()
    if not value or len(value) > MAX_NAME_CHARS:
        raise ValidationError("invalid time zone", fields={"timezone": "unknown time zone"})
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("invalid time zone", fields={"timezone": "unknown time zone"}) from None
    return value


@lru_cache(maxsize=64)
def zone(name: str | None) -> ZoneInfo:
    """The zone of a stored name; the default when it is missing (names are validated on write)."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)
