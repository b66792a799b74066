"""Hate and offensive spans (ViHOS sense): a per-token linear model over the canonical text.

Each token (a word, or a single emoji / symbol) of the canonical text gets a score from a handful of
sparse features: the token, its fold, its teencode expansion, its neighbours and the two bigrams it
belongs to, and whether it is in the swear-word lexicon (alone or inside a lexicon phrase). Weights
are learnt by logistic regression on ViHOS train tokens and stored as plain dictionaries, so tagging
costs a few dictionary look-ups per token. Adjacent tagged tokens separated only by spaces are merged
into one span (ViHOS marks "tào lao" as one stretch, the space included). Offsets here are into the
canonical text; the analyzer maps them back to the original with ``moderation.text.tracked``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

_TOKEN = re.compile(r"[^\W_]+|[^\w\s]")
#: Feature families; a feature is "<family>=<key>".
FAMILIES = ("u", "f", "x", "l", "r", "lb", "rb", "bad")
#: The "f" feature of a word typed with diacritics: its fold ("lớn" -> "lon") would borrow the
#: evidence of a different word ("lồn"), so only words typed without diacritics use their fold.
ACCENTED = "<accented>"


def tokenize(canonical_text: str) -> list[tuple[int, int]]:
    """(start, end) of every token of the canonical text."""
    return [m.span() for m in _TOKEN.finditer(canonical_text)]


def lexicon_sets(words: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """Split folded lexicon entries into single tokens and multi-token phrases."""
    singles: set[str] = set()
    phrases: set[str] = set()
    for word in words:
        parts = _TOKEN.findall(word)
        if len(parts) == 1:
            singles.add(parts[0])
        elif 1 < len(parts) <= 4:
            phrases.add(" ".join(parts))
    return frozenset(singles), frozenset(phrases)


def _lexicon_marks(folded: list[str], singles: frozenset[str], phrases: frozenset[str]) -> list[str]:
    marks = ["1" if tok in singles else "" for tok in folded]
    if phrases:
        n = len(folded)
        starts = _phrase_starts(phrases)
        for i in range(n):
            if folded[i] not in starts:
                continue
            for k in (2, 3, 4):
                if i + k <= n and " ".join(folded[i : i + k]) in phrases:
                    for j in range(i, i + k):
                        marks[j] = marks[j] or "p"
    return marks


_STARTS_CACHE: dict[frozenset[str], frozenset[str]] = {}


def _phrase_starts(phrases: frozenset[str]) -> frozenset[str]:
    starts = _STARTS_CACHE.get(phrases)
    if starts is None:
        starts = _STARTS_CACHE[phrases] = frozenset(p.split(" ", 1)[0] for p in phrases)
    return starts


def token_keys(
    tokens: list[str], folded: list[str], teencode: Mapping[str, str], marks: list[str]
) -> list[list[tuple[str, str]]]:
    """The (family, key) features of every token; shared by training and tagging."""
    n = len(tokens)
    out: list[list[tuple[str, str]]] = []
    for i in range(n):
        f = folded[i]
        left = folded[i - 1] if i else "<s>"
        right = folded[i + 1] if i + 1 < n else "</s>"
        keys = [
            ("u", tokens[i]),
            ("f", f if f == tokens[i] else ACCENTED),
            ("l", left),
            ("r", right),
            ("lb", left + " " + f),
            ("rb", f + " " + right),
        ]
        expansion = teencode.get(tokens[i])
        if expansion is not None:
            keys.append(("x", expansion))
        if marks[i]:
            keys.append(("bad", marks[i]))
        out.append(keys)
    return out


@dataclass
class SpanTagger:
    """Token scores = bias + sum of feature weights; tokens at or above ``threshold`` are tagged."""

    weights: dict[str, dict[str, float]]
    bias: float
    threshold: float = 0.5
    lexicon: tuple[str, ...] = ()
    teencode: dict[str, str] = field(default_factory=dict)
    #: Spans are looked for only when the comment as a whole looks offensive: max(1 - P(clean),
    #: toxicity) at or above ``gate``. Cuts false spans in ordinary news comments.
    gate: float = 0.0

    def __post_init__(self) -> None:
        self._singles, self._phrases = lexicon_sets(self.lexicon)
        self._logit = math.log(self.threshold / (1 - self.threshold)) - self.bias

    def features(self, canonical_text: str, folded_text: str) -> tuple[list[tuple[int, int]], list]:
        spans = tokenize(canonical_text)
        tokens = [canonical_text[a:b] for a, b in spans]
        folded = [folded_text[a:b] for a, b in spans]
        marks = _lexicon_marks(folded, self._singles, self._phrases)
        return spans, token_keys(tokens, folded, self.teencode, marks)

    def token_scores(
        self, canonical_text: str, folded_text: str
    ) -> tuple[list[tuple[int, int]], list[float]]:
        """Token offsets and their raw scores (logit minus bias).

        The same sum as over ``token_keys`` features, computed family by family over whole lists
        (no per-token tuples): this is the hot loop of span tagging.
        """
        spans = tokenize(canonical_text)
        if not spans:
            return spans, []
        tokens = [canonical_text[a:b] for a, b in spans]
        folded = [folded_text[a:b] for a, b in spans]
        w = self.weights
        wu, wf, wx, wl, wr, wlb, wrb, wbad = (w[f].get for f in FAMILIES)
        teencode = self.teencode
        left = ["<s>", *folded[:-1]]
        right = [*folded[1:], "</s>"]
        scores = [
            wu(t, 0.0)
            + wf(f if f == t else ACCENTED, 0.0)
            + wl(lt, 0.0)
            + wr(rt, 0.0)
            + wlb(lt + " " + f, 0.0)
            + wrb(f + " " + rt, 0.0)
            for t, f, lt, rt in zip(tokens, folded, left, right, strict=True)
        ]
        for i, t in enumerate(tokens):
            expansion = teencode.get(t)
            if expansion is not None:
                scores[i] += wx(expansion, 0.0)
        for i, mark in enumerate(_lexicon_marks(folded, self._singles, self._phrases)):
            if mark:
                scores[i] += wbad(mark, 0.0)
        return spans, scores

    def tag(self, canonical_text: str, folded_text: str) -> list[tuple[int, int]]:
        """Merged (start, end) spans in canonical offsets, end exclusive."""
        if not canonical_text:
            return []
        spans, scores = self.token_scores(canonical_text, folded_text)
        return merge(
            [s for s, score in zip(spans, scores, strict=True) if score >= self._logit], canonical_text
        )


def merge(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Join consecutive spans separated only by whitespace."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and (merged[-1][1] == start or not text[merged[-1][1] : start].strip()):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
