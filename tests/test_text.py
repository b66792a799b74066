"""Vietnamese normalisation: one canonical spelling, diacritic folding, offsets back to the original."""

from __future__ import annotations

import unicodedata

import pytest

from moderation.text import (
    TeencodeExpander,
    canonical,
    expand_teencode,
    feature_text,
    fold,
    fold_same_length,
    has_diacritics,
    load_teencode,
    mask_contacts,
    prepare,
    tracked,
)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize(
    "text",
    ["Hòa bình", "Khỏe không, thủy thủ?", "Đồng chí Nguyễn Văn Quý", "Tiếng Việt có dấu: ầ ẩ ẫ ậ ự ữ ỹ"],
)
def test_nfc_and_nfd_give_the_same_canonical_form(text: str) -> None:
    assert nfd(text) != unicodedata.normalize("NFC", text)
    assert canonical(nfd(text)) == canonical(text)


@pytest.mark.parametrize(
    ("new_style", "old_style"),
    [("hoà", "hòa"), ("khoẻ", "khỏe"), ("thuỷ", "thủy"), ("Hoá đơn", "hóa đơn"), ("uỷ ban", "ủy ban")],
)
def test_old_and_new_tone_placement_map_to_the_old_style(new_style: str, old_style: str) -> None:
    assert canonical(new_style) == canonical(old_style) == old_style.lower()


def test_tone_stays_on_the_second_vowel_in_closed_syllables_and_after_qu() -> None:
    assert canonical("hoàng toàn") == "hoàng toàn"
    assert canonical("tòan") == "toàn"  # misplaced tone in a closed syllable is corrected
    assert canonical("quý") == canonical("qúy") == "quý"


def test_case_whitespace_and_compatibility_forms() -> None:
    assert canonical("  XIN\tCHÀO \n  bạn  ") == "xin chào bạn"
    assert canonical("ｄｍ") == "dm"  # fullwidth letters
    assert canonical("a\u200bb") == "ab"  # zero-width space used to split words
    assert canonical("ĐÀ NẴNG") == "đà nẵng"


def test_fold_removes_every_diacritic() -> None:
    assert fold("Đường phố Hà Nội rất đẹp") == "duong pho ha noi rat dep"
    assert fold(nfd("Thủy")) == "thuy"
    assert fold_same_length("đường") == "duong"


def test_has_diacritics() -> None:
    assert has_diacritics("đi")
    assert has_diacritics(nfd("chào"))
    assert not has_diacritics("khong co dau")
    assert not has_diacritics("")


def test_repeated_letters_collapse_but_digits_do_not() -> None:
    assert canonical("ngooooo quáaaaa") == "ngo quá"
    assert canonical("đẹppppp") == "đẹp"
    assert canonical("xoong") == "xoong"  # two letters are kept
    assert canonical("0988888888") == "0988888888"
    assert canonical("!!!!!!!") == "!!!"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("đ.m mày", "đm mày"),
        ("Đ.M", "đm"),
        ("d m thằng", "dm thằng"),
        ("v.c.l", "vcl"),
        ("n g u", "ngu"),
        ("đ. m", "đm"),
    ],
)
def test_letter_by_letter_obfuscation_is_undone(text: str, expected: str) -> None:
    assert canonical(text) == expected


def test_spaced_single_letters_that_are_teencode_stay_apart() -> None:
    assert canonical("t k biết") == "t k biết"  # tôi không biết, not an obfuscated word


def test_leetspeak_between_letters() -> None:
    assert canonical("c0n ch0 ngu") == "con ch0 ngu"
    assert canonical("covid19 u23 4g") == "covid19 u23 4g"


def test_canonical_is_idempotent() -> None:
    for text in ["Hoà bình đ.m", "quáaaaa ｄｍ", "  X  ", nfd("Khoẻ"), "d m", ""]:
        assert canonical(canonical(text)) == canonical(text)


def test_teencode_expansion() -> None:
    table = load_teencode()
    assert table["ko"] == "không"
    assert table["đc"] == "được"
    assert expand_teencode("mình ko đc đi") == "mình không được đi"
    expander = TeencodeExpander(table)
    assert feature_text("ko biết, đc không?", expander) == "không biết , được không ?"
    assert "dm" not in table  # abusive abbreviations are kept as typed


def test_contacts_become_placeholder_words() -> None:
    masked = mask_contacts("ib zalo 0912.345.678 hoặc xem abc.com, mail a.b@gmail.com")
    assert "xphone" in masked and "xurl" in masked and "xemail" in masked
    assert "0912" not in masked
    assert mask_contacts("đi chơi.co ai không") == "đi chơi.co ai không"  # not a domain


def test_prepare_shares_every_form() -> None:
    expander = TeencodeExpander(load_teencode())
    prepared = prepare("Hoà ko thích ZALO 0912345678", expander)
    assert prepared.raw == "hoà ko thích zalo 0912345678"
    assert prepared.canonical == "hòa ko thích zalo 0912345678"
    assert prepared.folded == "hoa ko thich zalo 0912345678"
    assert prepared.features == "hòa không thích zalo xphone"


@pytest.mark.parametrize(
    ("text", "floods"),
    [
        ("Thương bà con vùng lũ quá", 1),
        ("Mong sớm khắc phục hậu quả bão lũ", 1),
        ("lũ quét cuốn trôi nhà, nước lũ dâng cao", 2),
        ("Lũ lụt miền Trung năm nay", 1),
        ("mua lu nam nay lon qua", 1),
        ("bao lu lien mien", 1),
        ("cả lũ chó này", 0),
        ("lũ người vô ơn", 0),
        ("lu nay ngu that", 0),
    ],
)
def test_the_lu_of_floods_is_a_word_of_its_own(text: str, floods: int) -> None:
    """ "lũ" is the flood next to flood words, and stays the contemptuous "lũ" elsewhere."""
    features = prepare(text, TeencodeExpander(load_teencode())).features
    assert features.split().count("lulut") == floods
    assert (
        features.split().count("lũ") + features.split().count("lu")
        == text.lower().split().count("lũ") + text.lower().split().count("lu") - floods
    )


def _original(text: str, span: tuple[int, int]) -> str:
    mapping = tracked(text)
    start, end = mapping.to_original(*span)
    return text[start:end]


def test_offsets_map_back_to_the_original_with_nfd_input_and_emoji() -> None:
    text = "😡😡 " + nfd("Thằng") + "   NGUUUUU  quá 🤬"
    mapping = tracked(text)
    assert mapping.text == canonical(text) == "😡😡 thằng ngu quá 🤬"
    start = mapping.text.index("thằng ngu")
    original = _original(text, (start, start + len("thằng ngu")))
    assert original == nfd("Thằng") + "   NGUUUUU"
    emoji = mapping.text.index("🤬")
    assert _original(text, (emoji, emoji + 1)) == "🤬"


def test_offsets_of_joined_obfuscation() -> None:
    text = "Ê Đ.M mày"
    mapping = tracked(text)
    assert mapping.text == "ê đm mày"
    assert _original(text, (2, 4)) == "Đ.M"
    assert _original(text, (5, 8)) == "mày"


def test_tracked_equals_canonical_on_awkward_input() -> None:
    samples = [
        "",
        "   ",
        "🙂",
        "a\u0301\u0301",
        "\u0301abc",
        "ǅ İstanbul ﬁ",
        "x" * 5000,
        "a\ud800b",
        "đ. m . m",
    ]
    for text in samples:
        mapping = tracked(text)
        assert mapping.text == canonical(text)
        assert len(mapping.starts) == len(mapping.text) == len(mapping.ends)
        assert all(0 <= s < e <= len(text) for s, e in zip(mapping.starts, mapping.ends, strict=True))


def test_fingerprint_words_are_the_runs_of_alphanumeric_characters_for_every_code_point():
    """The word pattern must split exactly where ``str.isalnum`` does, or fingerprints would change."""
    import sys

    from moderation.text import fingerprint

    mismatches = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if (fingerprint._WORD.fullmatch(chr(code)) is not None) != chr(code).isalnum()
    ]
    assert mismatches == []
    text = "Đ.m  bọn_nó x2 ½ ²３ (ok) 👍 khong-dau"
    folded = fingerprint.fold(text)
    assert fingerprint._words(text) == "".join(c if c.isalnum() else " " for c in folded).split()


def _simhash_by_loops(text: str) -> int:
    """SimHash as defined, one bit at a time: what the vectorised ``simhash64`` must equal."""
    import hashlib

    from moderation.text import fingerprint

    words = fingerprint._words(text)
    features = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    votes = [0] * 64
    for feature in features:
        value = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "big")
        for bit in range(64):
            votes[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if votes[bit] > 0)


def test_simhash_is_bit_identical_to_the_loop_definition_on_many_texts():
    """Vietnamese with and without accents, emoji, digits, punctuation, empty and one-word texts,
    long texts, and the corpora's comments when present."""
    import os
    import random
    from pathlib import Path

    from moderation.text import fingerprint

    rng = random.Random(15)
    pieces = [
        "Đường",
        "lên",
        "bản",
        "Sìn",
        "Hồ",
        "đẹp",
        "quá",
        "ngươì",
        "việt",
        "NAM",
        "duong",
        "len",
        "😀",
        "🇻🇳",
        "👍🏽",
        "2026",
        "100%",
        "...",
        "!!!",
        "—",
        "k",
        "đc",
        "ko",
        "ạ",
        "Ơ",
        "ư",
        "ỹ",
        "e\u0301",
        "Ａ",
        "ß",
        "İ",
        "٣",
        "_",
        "a_b",
        "https://vnexpress.net/x-1.html",
        "\u200b",
    ]
    texts = ["", " ", "😀😀", "một", "một hai", "Một hai ba bốn", "một một một một"]
    texts += [" ".join(rng.choice(pieces) for _ in range(rng.randint(1, 60))) for _ in range(3000)]
    datasets = Path(os.environ.get("MODERATION_DATASETS_DIR", "/nonexistent"))
    for path in sorted(datasets.glob("*/dev.csv"))[:2]:
        texts += path.read_text(encoding="utf-8").splitlines()[:1500]
    values = {}
    for text in texts:
        expected = _simhash_by_loops(text)
        assert fingerprint.simhash64(text) == expected, text
        values[text] = expected
    assert len(set(values.values())) > len(values) * 0.9, "the texts should give mostly distinct hashes"
    assert any(v >= 1 << 63 for v in values.values()), "the top bit must be exercised too"
