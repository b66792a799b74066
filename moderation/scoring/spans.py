"""Hate and offensive spans (ViHOS sense): a per-token linear model over the canonical text.

Each token (a word, or a single emoji / symbol) of the canonical text gets a score from a handful of
sparse features: the token, its fold, its teencode expansion, its neighbours and the two bigrams it
belongs to, whether it is in the swear-word lexicon (alone or inside a lexicon phrase), and how
offensive the hate-speech model finds the whole comment (binned P(not clean) and P(hate): ViHOS
marks whole phrases in comments that are offensive as a whole, and nothing in clean ones). Weights
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

from moderation.text.normalize import fold_same_length

_TOKEN = re.compile(r"[^\W_]+|[^\w\s]")
#: Feature families; a feature is "<family>=<key>".
FAMILIES = ("u", "f", "x", "l", "r", "lb", "rb", "bad", "docb", "hateb")
#: Families whose key is the same for every token of a comment (the comment-level evidence).
DOC_FAMILIES = ("docb", "hateb")
#: The "f" feature of a word typed with diacritics: its fold ("lớn" -> "lon") would borrow the
#: evidence of a different word ("lồn"), so only words typed without diacritics use their fold.
ACCENTED = "<accented>"
_ZERO2 = (0.0, 0.0)


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


def doc_keys(not_clean: float, hate: float) -> list[tuple[str, str]]:
    """The comment-level features: P(not clean) in tenths, P(hate) in fifths."""
    return [("docb", str(min(max(int(not_clean * 10), 0), 9))), ("hateb", str(min(max(int(hate * 5), 0), 4)))]


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
    #: Spans are looked for only when the comment as a whole looks offensive: P(not clean) from the
    #: hate-speech model at or above ``gate``. Cuts false spans in ordinary news comments (and time).
    gate: float = 0.0

    def __post_init__(self) -> None:
        for family in FAMILIES:
            self.weights.setdefault(family, {})
        self._singles, self._phrases = lexicon_sets(self.lexicon)
        self._merge_families()
        self._logit = math.log(self.threshold / (1 - self.threshold)) - self.bias

    def _merge_families(self) -> None:
        """Merge the per-family dictionaries into three, so a token costs three look-ups, not six.

        ``_own``: token -> its "u" weight plus its "f" weight (the fold's for a token typed without
        diacritics, the placeholder's otherwise); ``_neighbour``: folded token -> (weight as the left
        neighbour "l", weight as the right neighbour "r"); ``_pairs``: folded bigram -> ("lb" weight
        for its second token, "rb" weight for its first).
        """
        w = self.weights
        wu, wf, wl, wr, wlb, wrb = (w[f] for f in ("u", "f", "l", "r", "lb", "rb"))
        self._accented = wf.get(ACCENTED, 0.0)
        own: dict[str, float] = {key: value for key, value in wf.items() if key != ACCENTED}
        for token, value in wu.items():
            unaccented = fold_same_length(token) == token
            own[token] = value + (wf.get(token, 0.0) if unaccented else self._accented)
        self._own = own
        self._neighbour = {key: (wl.get(key, 0.0), wr.get(key, 0.0)) for key in wl.keys() | wr.keys()}
        self._pairs = {key: (wlb.get(key, 0.0), wrb.get(key, 0.0)) for key in wlb.keys() | wrb.keys()}

    def doc_score(self, doc: tuple[float, float] | None) -> float:
        """The comment-level part of every token's score (0 without comment scores)."""
        if doc is None:
            return 0.0
        return sum(self.weights[fam].get(key, 0.0) for fam, key in doc_keys(*doc))

    def features(
        self, canonical_text: str, folded_text: str, doc: tuple[float, float] | None = None
    ) -> tuple[list[tuple[int, int]], list]:
        """Token offsets and each token's (family, key) features (the definition; slow)."""
        spans = tokenize(canonical_text)
        tokens = [canonical_text[a:b] for a, b in spans]
        folded = [folded_text[a:b] for a, b in spans]
        marks = _lexicon_marks(folded, self._singles, self._phrases)
        keys = token_keys(tokens, folded, self.teencode, marks)
        if doc is not None:
            shared = doc_keys(*doc)
            keys = [k + shared for k in keys]
        return spans, keys

    def token_scores(
        self, canonical_text: str, folded_text: str, doc: tuple[float, float] | None = None
    ) -> tuple[list[tuple[int, int]], list[float]]:
        """Token offsets and their raw scores (logit minus bias).

        The same sum as over ``features``, with the merged dictionaries of ``_merge_families`` and each
        bigram built once for the two tokens that share it: this is the hot loop of span tagging.
        """
        spans = tokenize(canonical_text)
        if not spans:
            return spans, []
        tokens = [canonical_text[a:b] for a, b in spans]
        folded = [folded_text[a:b] for a, b in spans]
        base = self.doc_score(doc)
        own, accented = self._own.get, self._accented
        neighbour, pair = self._neighbour.get, self._pairs.get
        ext = ["<s>", *folded, "</s>"]
        near = [neighbour(f, _ZERO2) for f in ext]
        # pairs[i] is the bigram (token i - 1, token i): "lb" of token i and "rb" of token i - 1.
        pairs = [pair(a + " " + b, _ZERO2) for a, b in zip(ext, ext[1:], strict=False)]
        scores = []
        for i, (t, f) in enumerate(zip(tokens, folded, strict=True)):
            score = own(t)
            if score is None:
                score = accented if f != t else 0.0
            scores.append(base + score + near[i][0] + near[i + 2][1] + pairs[i][0] + pairs[i + 1][1])
        wx, wbad = self.weights["x"].get, self.weights["bad"].get
        teencode = self.teencode
        for i, t in enumerate(tokens):
            expansion = teencode.get(t)
            if expansion is not None:
                scores[i] += wx(expansion, 0.0)
        for i, mark in enumerate(_lexicon_marks(folded, self._singles, self._phrases)):
            if mark:
                scores[i] += wbad(mark, 0.0)
        return spans, scores

    def tag(
        self, canonical_text: str, folded_text: str, doc: tuple[float, float] | None = None
    ) -> list[tuple[int, int]]:
        """Merged (start, end) spans in canonical offsets, end exclusive.

        ``doc`` is (P(not clean), P(hate)) of the whole comment from the hate-speech model.
        """
        if not canonical_text:
            return []
        spans, scores = self.token_scores(canonical_text, folded_text, doc)
        marked = [score >= self._logit for score in scores]
        if any(marked):
            marked = whole_phrases(spans, marked, canonical_text, folded_text)
        return merge([s for s, keep in zip(spans, marked, strict=True) if keep], canonical_text)


#: Insults of two or more words that the per-token tagger tends to mark in part ("dở hơi" as "hơi"):
#: when one of their words is marked, the whole phrase is.
WHOLE_PHRASES = (
    "dở hơi",
    "dở người",
    "ngu như bò",
    "ngu như chó",
    "óc chó",
    "óc lợn",
    "mất dạy",
    "vô học",
    "khốn nạn",
    "đần độn",
    "ngu dốt",
    "mặt dày",
    "vô văn hóa",
    "thiểu năng",
    "bại não",
)
#: Ordinary phrases whose words, typed without accents, collide with insults ("chem gio" is
#: "chém gió", to boast; "chém" alone reads as violence), and the floods of the news ("lũ" alone is
#: the contemptuous "cả lũ"): never marked.
BENIGN_PHRASES = (
    "chém gió",
    "nói phét",
    "con chó nhà",
    "chó mèo",
    "thịt chó",
    "hậu quả bão lũ",
    "bão lũ",
    "mưa lũ",
    "lũ lụt",
    "lũ quét",
    "lũ ống",
    "nước lũ",
    "vùng lũ",
    "mùa lũ",
    "đỉnh lũ",
    "xả lũ",
)


def _occurrences(phrase: str, canonical_text: str, folded_text: str) -> list[tuple[int, int]]:
    """Where ``phrase`` stands in the text, with its accents or typed wholly without them."""
    found = [m.span() for m in re.finditer(rf"(?<!\w){re.escape(phrase)}(?!\w)", canonical_text)]
    plain = fold_same_length(phrase)
    for m in re.finditer(rf"(?<!\w){re.escape(plain)}(?!\w)", folded_text):
        a, b = m.span()
        if canonical_text[a:b] == folded_text[a:b]:
            found.append((a, b))
    return found


def whole_phrases(
    spans: list[tuple[int, int]], marked: list[bool], canonical_text: str, folded_text: str
) -> list[bool]:
    """Mark whole insult phrases, unmark benign ones (token offsets into the canonical text)."""
    out = list(marked)
    for phrases, value in ((WHOLE_PHRASES, True), (BENIGN_PHRASES, False)):
        for phrase in phrases:
            if fold_same_length(phrase) not in folded_text:
                continue
            for a, b in _occurrences(phrase, canonical_text, folded_text):
                inside = [i for i, (s, e) in enumerate(spans) if s >= a and e <= b]
                if value and not any(out[i] for i in inside):
                    continue
                for i in inside:
                    out[i] = value
    return out


def merge(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Join consecutive spans separated only by whitespace."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and (merged[-1][1] == start or not text[merged[-1][1] : start].strip()):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
