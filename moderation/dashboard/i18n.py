"""Languages of the dashboard: Vietnamese by default, English on request (a switch in the top bar).

Message ids are English; the Vietnamese catalog lives under ``translations/`` and is maintained
with ``python -m moderation.dashboard.catalogs`` (see that module).
"""

from __future__ import annotations

from pathlib import Path

from flask import session

DASHBOARD_DIR = Path(__file__).resolve().parent
TRANSLATIONS_DIR = DASHBOARD_DIR / "translations"
DEFAULT_LOCALE = "vi"
#: Language code -> its name in that language, for the switch.
LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}


def select_locale() -> str:
    """The language chosen with the switch, kept in the session; Vietnamese otherwise."""
    lang = session.get("lang")
    return lang if lang in LANGUAGES else DEFAULT_LOCALE
