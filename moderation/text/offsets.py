"""Regex rewriting that remembers where every output character came from.

Normalisation changes lengths (NFD -> NFC, "đ.m" -> "đm", "aaaa" -> "a"), but spans must be reported
as offsets into the text the reader wrote. Each rewriting step is a pattern plus a callback; the fast
path (``apply``) only builds the string, the tracked path (``apply_tracked``) also carries, for every
output character, the [start, end) range of original characters it stands for. Both paths share the
same callback so they cannot drift apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

#: A callback returns the replacement and, optionally, for each replacement character the index
#: (relative to the match start) of the matched character it comes from; ``None`` means "the whole
#: match" (or one-to-one when the lengths are equal).
Replacement = tuple[str, list[int] | None]


@dataclass(frozen=True, slots=True)
class Step:
    """One rewriting step: every match of ``pattern`` is replaced by ``callback(match)``."""

    pattern: re.Pattern[str]
    callback: Callable[[re.Match[str]], Replacement]
    #: A cheaper pattern that must match somewhere for ``pattern`` to have anything to do.
    hint: re.Pattern[str] | None = None

    def apply(self, text: str) -> str:
        if self.hint is not None and self.hint.search(text) is None:
            return text
        return self.pattern.sub(lambda m: self.callback(m)[0], text)

    def apply_tracked(
        self, text: str, starts: list[int], ends: list[int]
    ) -> tuple[str, list[int], list[int]]:
        if self.hint is not None and self.hint.search(text) is None:
            return text, starts, ends
        out: list[str] = []
        new_starts: list[int] = []
        new_ends: list[int] = []
        pos = 0
        for match in self.pattern.finditer(text):
            a, b = match.span()
            out.append(text[pos:a])
            new_starts.extend(starts[pos:a])
            new_ends.extend(ends[pos:a])
            repl, sources = self.callback(match)
            out.append(repl)
            if sources is None:
                if len(repl) == b - a:
                    new_starts.extend(starts[a:b])
                    new_ends.extend(ends[a:b])
                elif repl:
                    new_starts.extend([starts[a]] * len(repl))
                    new_ends.extend([ends[b - 1]] * len(repl))
            else:
                for rel in sources:
                    new_starts.append(starts[a + rel])
                    new_ends.append(ends[a + rel])
            pos = b
        out.append(text[pos:])
        new_starts.extend(starts[pos:])
        new_ends.extend(ends[pos:])
        return "".join(out), new_starts, new_ends


def unicode_tracked(text: str, form: str) -> tuple[str, list[int], list[int]]:
    """``unicodedata.normalize(form, text).lower()`` with an offset map.

    Normalisation is applied per cluster (a base character and the combining marks after it), which
    is exact for Vietnamese; if the per-cluster result ever differs from normalising the whole text,
    offsets fall back to a proportional mapping so the text itself is always the same as the fast path.
    """
    target = unicodedata.normalize(form, text).lower()
    n = len(text)
    if len(target) == n and unicodedata.is_normalized(form, text):
        return target, list(range(n)), list(range(1, n + 1))  # lower() kept every character in place
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    cluster_start = 0
    for i in range(1, n + 1):
        if i < n and unicodedata.combining(text[i]):
            continue
        piece = unicodedata.normalize(form, text[cluster_start:i]).lower()
        pieces.append(piece)
        starts.extend([cluster_start] * len(piece))
        ends.extend([i] * len(piece))
        cluster_start = i
    if "".join(pieces) == target:
        return target, starts, ends
    m = len(target)
    starts = [min(n - 1, (k * n) // max(m, 1)) for k in range(m)]
    ends = [max(s + 1, min(n, ((k + 1) * n + m - 1) // max(m, 1))) for k, s in enumerate(starts)]
    return target, starts, ends


def collapse_spaces_tracked(
    text: str, starts: list[int], ends: list[int]
) -> tuple[str, list[int], list[int]]:
    """``" ".join(text.split())`` with the offset map (one slice per word, not one step per space)."""
    words: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    for match in _NON_SPACE.finditer(text):
        a, b = match.span()
        if words:
            new_starts.append(starts[a - 1])
            new_ends.append(ends[a - 1])
        words.append(match.group())
        new_starts.extend(starts[a:b])
        new_ends.extend(ends[a:b])
    return " ".join(words), new_starts, new_ends


_NON_SPACE = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class TrackedText:
    """A normalised text plus, for each of its characters, where it came from in the original."""

    original: str
    text: str
    starts: list[int]
    ends: list[int]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised range [start, end) to a range of the original text."""
        if not self.text or end <= start:
            return (0, 0)
        start = max(0, min(start, len(self.text) - 1))
        end = max(start + 1, min(end, len(self.text)))
        return self.starts[start], self.ends[end - 1]
