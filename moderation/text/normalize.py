"""The canonical form of a Vietnamese comment, and its diacritic-free fold.

Readers type the same word many ways: NFC or NFD, old or new tone placement, upper case, letters
stretched ("ngooooo"), split to dodge filters ("đ.m", "d m"), digits for letters ("c0n"), fullwidth or
"math bold" letters. ``canonical`` maps them to one form so that models, word lists and rules see one
spelling; ``tracked`` does the same and keeps an offset map back to the original text.

Choices (documented because word lists and models depend on them):

* Compatibility forms are folded (NFKC), which undoes fullwidth and styled-letter obfuscation; the
  result is NFC.
* Tone placement is the "old" style used by most Vietnamese keyboards and the press: in open
  syllables oa/oe/uy carry the tone on the first vowel ("hòa", "khỏe", "thủy"); in closed syllables,
  and after "qu", on the second ("hoàng", "quý"). Both placements map to this one.
* Runs of 3 or more of the same letter collapse to one letter ("ngooo" -> "ngo"); two are kept
  ("xoong"). Runs of 4 or more of the same symbol or emoji collapse to three. Digits never collapse
  (phone numbers).
* Letters separated by ".", "-", "_", "*" etc. are joined ("đ.m" -> "đm", "n-g-u" -> "ngu"); letters
  separated by single spaces are joined only when the result is a known abusive token ("d m" -> "dm",
  "n g u" -> "ngu"), because "t k biết" (tôi không biết) is ordinary teencode.
* A digit or symbol between two letters is read as the letter it imitates ("c0n" -> "con").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from moderation.text.offsets import Replacement, Step, TrackedText, collapse_spaces_tracked, unicode_tracked

_FORM = "NFKC"
_TONE_MARKS = {"\u0300": 0, "\u0301": 1, "\u0309": 2, "\u0303": 3, "\u0323": 4}
_LETTER = r"[^\W\d_]"


def _with_tone(vowel: str, tone: str) -> str:
    return unicodedata.normalize("NFC", vowel + tone)


def _build_tone_table() -> tuple[re.Pattern[str], dict[str, tuple[str, str]]]:
    """Map each toned oa/oe/uy pair to (tone on first, tone on second)."""
    table: dict[str, tuple[str, str]] = {}
    for first, second in (("o", "a"), ("o", "e"), ("u", "y")):
        for tone in _TONE_MARKS:
            on_first = _with_tone(first, tone) + second
            on_second = first + _with_tone(second, tone)
            table[on_first] = (on_first, on_second)
            table[on_second] = (on_first, on_second)
    toned_o = "".join(_with_tone("o", t) for t in _TONE_MARKS)
    toned_u = "".join(_with_tone("u", t) for t in _TONE_MARKS)
    toned_ae = "".join(_with_tone(v, t) for v in "ae" for t in _TONE_MARKS)
    toned_y = "".join(_with_tone("y", t) for t in _TONE_MARKS)
    pairs = rf"[{toned_o}][ae]|o[{toned_ae}]|[{toned_u}]y|u[{toned_y}]"
    pattern = re.compile(rf"(q?)({pairs})(?=({_LETTER}?))")
    return pattern, table


_TONE_PATTERN, _TONE_TABLE = _build_tone_table()


def _place_tone(match: re.Match[str]) -> Replacement:
    after_q, pair, following = match.group(1), match.group(2), match.group(3)
    on_first, on_second = _TONE_TABLE[pair]
    closed = bool(following) or (bool(after_q) and pair[-1] in "yỳýỷỹỵ")
    return after_q + (on_second if closed else on_first), None


_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u034f]+")

_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "$": "s"}
_LEET_PATTERN = re.compile(rf"[0134@$](?<={_LETTER}[0134@$])(?={_LETTER})")

#: Abusive tokens that readers spell letter by letter with spaces ("d m", "v l", "n g u").
SPACED_TARGETS = frozenset(
    [
        "dm",
        "dmm",
        "dcm",
        "dkm",
        "dcmm",
        "cmm",
        "vl",
        "vcl",
        "vkl",
        "vcc",
        "cc",
        "cl",
        "clgt",
        "dit",
        "lon",
        "loz",
        "cac",
        "cak",
        "buoi",
        "cut",
        "deo",
        "ngu",
        "dmcs",
        "occho",
        "cho",
        "fuck",
        "dume",
        "dis",
        "djt",
        "dmvl",
    ]
)
_JOIN_PATTERN = re.compile(
    rf"(?<![^\W_]){_LETTER}(?:(?: ?[.\-_*·'`~^+|]{{1,3}} ?| ){_LETTER}(?![^\W_])){{1,}}"
)


def _join_letters(match: re.Match[str]) -> Replacement:
    """Join the letters of a letter-by-letter chunk.

    The whole chunk is joined when it spells a known abusive token. Otherwise single spaces are
    word boundaries: only groups linked by symbols are joined ("ê đ.m" -> "ê đm"), and a group whose
    symbols come with spaces ("t. k") is joined only if it spells a known token.
    """
    chunk = match.group(0)
    letters = [i for i, ch in enumerate(chunk) if ch.isalpha()]
    if fold_same_length("".join(chunk[i] for i in letters)) in SPACED_TARGETS:
        return "".join(chunk[i] for i in letters), letters
    out: list[str] = []
    sources: list[int] = []
    group = [letters[0]]
    for prev, cur in zip(letters, letters[1:], strict=False):
        if chunk[prev + 1 : cur] == " ":
            _emit_group(chunk, group, out, sources)
            out.append(" ")
            sources.append(prev + 1)
            group = [cur]
        else:
            group.append(cur)
    _emit_group(chunk, group, out, sources)
    return "".join(out), sources


def _emit_group(chunk: str, group: list[int], out: list[str], sources: list[int]) -> None:
    span = chunk[group[0] : group[-1] + 1]
    joined = "".join(chunk[i] for i in group)
    if len(group) > 1 and " " in span and fold_same_length(joined) not in SPACED_TARGETS:
        out.append(span)
        sources.extend(range(group[0], group[-1] + 1))
    else:
        out.append(joined)
        sources.extend(group)


def _leet(match: re.Match[str]) -> Replacement:
    return _LEET[match.group(0)], None


#: A vowel and its toned forms count as one letter when stretched ("quáaaa", "quáa" -> "quá").
_VOWEL_GROUPS = tuple(v + "".join(_with_tone(v, t) for t in _TONE_MARKS) for v in "aăâeêioôơuưy")
_REPEAT_LETTER = re.compile(
    "|".join(f"[{group}]{{2,}}" for group in _VOWEL_GROUPS) + rf"|({_LETTER})\1{{2,}}"
)
#: Stretching almost always leaves a doubled letter somewhere: test for it cheaply first.
_REPEAT_HINT = re.compile(rf"({_LETTER})\1")
_REPEAT_SYMBOL = re.compile(r"([^\w\s])\1{3,}")


def _one_of_run(match: re.Match[str]) -> Replacement:
    run = match.group(0)
    if len(run) == 2 and run[0] == run[1]:
        return run, None
    keep = next((i for i, ch in enumerate(run) if ch != run[0]), 0)
    if keep and not _is_plain(run[0]):
        keep = 0
    return run[keep], None  # the kept letter stands for the whole run


def _is_plain(ch: str) -> bool:
    return ch in "aăâeêioôơuưy"


def _three_of_run(match: re.Match[str]) -> Replacement:
    return match.group(1) * 3, None


def _drop(match: re.Match[str]) -> Replacement:
    return "", []


_STEPS_BEFORE_SPACES = (Step(_INVISIBLE, _drop),)
_STEPS_AFTER_SPACES = (
    Step(_TONE_PATTERN, _place_tone),
    Step(_LEET_PATTERN, _leet),
    Step(_JOIN_PATTERN, _join_letters),
    Step(_REPEAT_LETTER, _one_of_run, _REPEAT_HINT),
    Step(_REPEAT_SYMBOL, _three_of_run),
)


def canonical(text: str) -> str:
    """Lower-case NFC text with one tone placement, obfuscation undone, whitespace collapsed."""
    if not text:
        return ""
    s = unicodedata.normalize(_FORM, text).lower()
    if "ð" in s:
        s = s.replace("ð", "đ")
    for step in _STEPS_BEFORE_SPACES:
        s = step.apply(s)
    s = " ".join(s.split())
    for step in _STEPS_AFTER_SPACES:
        s = step.apply(s)
    return s


def tracked(text: str) -> TrackedText:
    """``canonical(text)`` with, for every character, its range in ``text`` (slower; for spans)."""
    s, starts, ends = unicode_tracked(text, _FORM)
    s = s.replace("ð", "đ")
    for step in _STEPS_BEFORE_SPACES:
        s, starts, ends = step.apply_tracked(s, starts, ends)
    s, starts, ends = collapse_spaces_tracked(s, starts, ends)
    for step in _STEPS_AFTER_SPACES:
        s, starts, ends = step.apply_tracked(s, starts, ends)
    return TrackedText(original=text, text=s, starts=starts, ends=ends)


@lru_cache(maxsize=1)
def _fold_tables() -> tuple[dict[int, int | None], dict[int, int]]:
    """Two translation tables: one that deletes stray combining marks, one that keeps lengths."""
    same_length: dict[int, int] = {ord("đ"): ord("d"), ord("Đ"): ord("D"), ord("ð"): ord("d")}
    ranges = ((0x00C0, 0x0250), (0x1E00, 0x1F00))
    for lo, hi in ranges:
        for code in range(lo, hi):
            decomposed = unicodedata.normalize("NFD", chr(code))
            base = decomposed[0]
            if (
                len(decomposed) > 1
                and base.isascii()
                and all(unicodedata.combining(c) for c in decomposed[1:])
            ):
                same_length[code] = ord(base)
    deleting: dict[int, int | None] = dict(same_length)
    for code in range(0x0300, 0x0370):
        deleting[code] = None
    return deleting, same_length


def fold_same_length(text: str) -> str:
    """Remove Vietnamese diacritics from already-canonical text, one output char per input char."""
    return text.translate(_fold_tables()[1])


@lru_cache(maxsize=256)
def fold(text: str) -> str:
    """``canonical`` without diacritics (đ -> d): how readers type without accents.

    Cached: posting folds the same comment four times (its search text and three fingerprints).
    """
    return canonical(text).translate(_fold_tables()[0])


def has_diacritics(text: str) -> bool:
    """Whether the canonical form of ``text`` carries any Vietnamese diacritic (or đ)."""
    normal = canonical(text)
    return normal.translate(_fold_tables()[0]) != normal
