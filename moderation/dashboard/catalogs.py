"""The dashboard's translation catalogs: extract msgids, merge them into the .po, compile the .mo.

Message ids are English; ``translations/vi/LC_MESSAGES/messages.po`` holds the Vietnamese text and
its compiled ``.mo`` is committed next to it. After changing labels::

    .venv/bin/python -m moderation.dashboard.catalogs update    # add new msgids to the .po
    # translate the new entries (msgstr), then
    .venv/bin/python -m moderation.dashboard.catalogs compile   # rebuild the .mo

``tests/test_dashboard_i18n.py`` fails when a msgid lacks a translation or the .mo is stale.
"""

from __future__ import annotations

import argparse
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from moderation.dashboard.i18n import DASHBOARD_DIR, TRANSLATIONS_DIR

#: Languages with a catalog; English is the msgids themselves.
TRANSLATED = ("vi",)
PROJECT = "moderation-dashboard"
METHOD_MAP = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "lazy_ngettext": (1, 2),
}


def po_path(locale: str) -> Path:
    return TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"


def mo_path(locale: str) -> Path:
    return po_path(locale).with_suffix(".mo")


def extract() -> Catalog:
    """Every msgid the dashboard's Python modules and templates use."""
    catalog = Catalog(project=PROJECT, fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(DASHBOARD_DIR), METHOD_MAP, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def read_catalog(locale: str) -> Catalog:
    with po_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale)


def compiled(locale: str) -> bytes:
    """The .mo bytes the current .po compiles to."""
    buffer = BytesIO()
    write_mo(buffer, read_catalog(locale), use_fuzzy=False)
    return buffer.getvalue()


def update(locale: str) -> list[str]:
    """Merge new msgids into the locale's .po, keeping translations; returns untranslated ids."""
    template = extract()
    path = po_path(locale)
    if path.exists():
        catalog = read_catalog(locale)
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
    else:
        catalog = Catalog(locale=locale, project=PROJECT)
        catalog.update(template)
    catalog.fuzzy = False
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=110, ignore_obsolete=True, include_previous=False)
    return [str(m.id) for m in catalog if m.id and not m.string]


def compile_catalog(locale: str) -> None:
    mo_path(locale).write_bytes(compiled(locale))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Update or compile the dashboard's translations.")
    parser.add_argument("command", choices=("update", "compile"))
    args = parser.parse_args(argv)
    for locale in TRANSLATED:
        if args.command == "update":
            missing = update(locale)
            print(f"{po_path(locale)}: {len(missing)} untranslated")
            for msgid in missing:
                print(f"  {msgid!r}")
        else:
            compile_catalog(locale)
            print(f"wrote {mo_path(locale)}")


if __name__ == "__main__":
    main()
