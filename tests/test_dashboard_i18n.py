"""The dashboard's Vietnamese catalog covers every label, keeps placeholders, and its .mo is current."""

from __future__ import annotations

import re

from babel.messages.mofile import read_mo

from moderation.dashboard import catalogs

PLACEHOLDER = re.compile(r"%\([a-z_]+\)[0-9]*[sd]|%%")


def _key(message_id) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def test_every_msgid_used_has_a_vietnamese_translation():
    used = catalogs.extract()
    translated = catalogs.read_catalog("vi")
    assert len(used) > 100, "the extraction found the dashboard's labels"
    missing, fuzzy = [], []
    for message in used:
        if not message.id:
            continue
        entry = translated.get(message.id)
        strings = entry.string if entry is not None else None
        if isinstance(strings, tuple | list):
            strings = strings[0] if strings else ""
        if not strings:
            missing.append(_key(message.id))
        elif entry.fuzzy:
            fuzzy.append(_key(message.id))
    assert missing == [], f"untranslated (run python -m moderation.dashboard.catalogs update): {missing}"
    assert fuzzy == [], f"fuzzy translations to review: {fuzzy}"


def test_translations_keep_the_placeholders_of_their_msgid():
    for message in catalogs.read_catalog("vi"):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, f"{ids[0]!r} -> {text!r}"


def _entries(catalog) -> dict:
    """msgid -> msgstr with plural forms as tuples, comparable across .po and .mo readers."""

    def frozen(value):
        return value if isinstance(value, str) else tuple(value)

    return {frozen(m.id): frozen(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def test_the_compiled_catalog_matches_the_po_file():
    with catalogs.mo_path("vi").open("rb") as handle:
        compiled = _entries(read_mo(handle))
    assert compiled == _entries(catalogs.read_catalog("vi")), (
        "run: python -m moderation.dashboard.catalogs compile"
    )


def test_the_interface_is_vietnamese_by_default(client):
    html = client.get("/dashboard/login").get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Đăng nhập" in html and "Tên đăng nhập" in html and "Mật khẩu" in html
    assert "Sign in" not in html
