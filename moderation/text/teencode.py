"""Teencode expansion ("ko" -> "không", "đc" -> "được") for model features.

The table is derived from ViLexNorm by ``moderation.training.teencode_table`` and shipped as
``moderation/data/teencode.tsv``. ``canonical`` keeps teencode as typed (word lists match it); only
the feature text expands it, so "ko" and "không" share evidence. Abusive abbreviations (dm, vl,
vcl...) are deliberately not expanded: they are strong signals on their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

TEENCODE_PATH = Path(__file__).resolve().parent.parent / "data" / "teencode.tsv"


@lru_cache(maxsize=1)
def load_teencode(path: Path = TEENCODE_PATH) -> dict[str, str]:
    """Read the shipped table (spelling -> word); empty if the file is absent."""
    table: dict[str, str] = {}
    if not path.exists():
        return table
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        spelling, word = line.split("\t")[:2]
        table[spelling] = word
    return table


class TeencodeExpander:
    """Whole-word replacement with one compiled regex (fast: the regex engine skips other words)."""

    __slots__ = ("table", "_pattern")

    def __init__(self, table: Mapping[str, str]) -> None:
        self.table = dict(table)
        if self.table:
            words = "|".join(re.escape(w) for w in sorted(self.table, key=len, reverse=True))
            self._pattern: re.Pattern[str] | None = re.compile(rf"(?<![^\W_])(?:{words})(?![^\W_])")
        else:
            self._pattern = None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        table = self.table
        return self._pattern.sub(lambda m: table[m.group(0)], text)

    def __reduce__(self) -> tuple[type, tuple[dict[str, str]]]:
        return (TeencodeExpander, (self.table,))


def expand_teencode(text: str) -> str:
    """Expand teencode in canonical text with the shipped table."""
    return _default_expander()(text)


@lru_cache(maxsize=1)
def _default_expander() -> TeencodeExpander:
    return TeencodeExpander(load_teencode())
