"""A crfsuite-free CRF span tagger: exported weights, pure-Python scoring and 2-state Viterbi.

With two labels (O, I) the emission of a token enters Viterbi only through the difference of its
I and O scores (adding the same number to both labels of one position changes every path by the
same amount), so the exported state features are one float per attribute, w(attr, I) - w(attr, O):
the same shape as the current tagger's weight dictionaries. The chain adds a 2x2 transition matrix
(crfsuite has no start / end transitions). Artifact: {"weights": {family: {key: float}},
"bias": float, "extra": {family: {key: float}}, "transitions": [[OO, OI], [IO, II]]}.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from moderation.scoring.spans import (
    FAMILIES,
    SpanTagger,
    _lexicon_marks,
    doc_keys,
    merge,
    token_keys,
    tokenize,
    whole_phrases,
)

EXTRA = ("l2", "r2", "bl", "br", "bl2", "br2", "bd", "bh")


def export(info, fset: str) -> dict:
    """pycrfsuite ``Tagger.info()`` -> the artifact above."""
    diff: dict[str, float] = {}
    for (attr, label), w in info.state_features.items():
        diff[attr] = diff.get(attr, 0.0) + (w if label == "I" else -w)
    weights: dict[str, dict[str, float]] = {f: {} for f in FAMILIES}
    extra: dict[str, dict[str, float]] = {f: {} for f in EXTRA}
    bias = 0.0
    for attr, w in diff.items():
        if attr == "b":
            bias = w
            continue
        fam, key = attr.split("=", 1)
        (weights if fam in weights else extra)[fam][key] = w
    t = info.transitions
    trans = [
        [t.get(("O", "O"), 0.0), t.get(("O", "I"), 0.0)],
        [t.get(("I", "O"), 0.0), t.get(("I", "I"), 0.0)],
    ]
    return {"weights": weights, "bias": bias, "extra": extra, "transitions": trans, "fset": fset}


def viterbi2(emissions: list[float], t: list[list[float]]) -> list[bool]:
    """Best O/I path; emissions are I-minus-O scores. True = I. Ties go to O (as crfsuite's first label)."""
    n = len(emissions)
    if not n:
        return []
    t_oo, t_oi = t[0]
    t_io, t_ii = t[1]
    p_o, p_i = 0.0, emissions[0]
    back: list[tuple[bool, bool]] = []  # for position i: (prev of O is I?, prev of I is I?)
    for e in emissions[1:]:
        a, b = p_o + t_oo, p_i + t_io
        c, d = p_o + t_oi, p_i + t_ii
        back.append((b > a, d > c))
        p_o, p_i = (b if b > a else a), (d if d > c else c) + e
    state = p_i > p_o
    path = [state]
    for bo, bi in reversed(back):
        state = bi if state else bo
        path.append(state)
    path.reverse()
    return path


def _lse(a: float, b: float) -> float:
    return a + math.log1p(math.exp(b - a)) if a >= b else b + math.log1p(math.exp(a - b))


def marginals2(emissions: list[float], t: list[list[float]]) -> list[float]:
    """P(I) of every position (forward-backward in log space, I-minus-O emissions)."""
    n = len(emissions)
    if not n:
        return []
    t_oo, t_oi = t[0]
    t_io, t_ii = t[1]
    fo, fi = [0.0] * n, [0.0] * n
    fi[0] = emissions[0]
    for k in range(1, n):
        fo[k] = _lse(fo[k - 1] + t_oo, fi[k - 1] + t_io)
        fi[k] = _lse(fo[k - 1] + t_oi, fi[k - 1] + t_ii) + emissions[k]
    bo, bi = 0.0, 0.0
    out = [0.0] * n
    for k in range(n - 1, -1, -1):
        z = fi[k] + bi - fo[k] - bo
        out[k] = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        if k:
            e = emissions[k]
            bo, bi = _lse(t_oo + bo, t_oi + e + bi), _lse(t_io + bo, t_ii + e + bi)
    return out


@dataclass
class CrfSpanTagger:
    weights: dict[str, dict[str, float]]
    bias: float
    extra: dict[str, dict[str, float]]
    transitions: list[list[float]]
    fset: str = "pm2"
    lexicon: tuple[str, ...] = ()
    teencode: dict[str, str] = field(default_factory=dict)
    #: None: Viterbi; a number: tokens whose marginal P(I) is at least this.
    marginal_threshold: float | None = None

    def __post_init__(self) -> None:
        # The current tagger's merged dictionaries give the base families' sum; threshold unused.
        self._base = SpanTagger(
            weights={f: dict(v) for f, v in self.weights.items()},
            bias=0.0,
            lexicon=self.lexicon,
            teencode=self.teencode,
        )
        e = self.extra
        self._l2, self._r2 = e.get("l2", {}).get, e.get("r2", {}).get
        self._near = {name: e.get(name, {}) for name in ("bl", "br", "bl2", "br2")}
        self._bd, self._bh = e.get("bd", {}).get, e.get("bh", {}).get

    def emissions(self, canonical: str, folded_text: str, doc) -> tuple[list[tuple[int, int]], list[float]]:
        spans, scores = self._base.token_scores(canonical, folded_text, doc)
        if not spans or self.fset == "base":
            return spans, [s + self.bias for s in scores]
        folded = [folded_text[a:b] for a, b in spans]
        marks = _lexicon_marks(folded, self._base._singles, self._base._phrases)
        n = len(folded)
        l2, r2 = self._l2, self._r2
        ext = ["<s>", "<s>", *folded, "</s>", "</s>"]
        out = []
        for i, s in enumerate(scores):
            out.append(s + self.bias + l2(ext[i], 0.0) + r2(ext[i + 4], 0.0))
        if any(marks):
            near = self._near
            docb, hateb = (k for _, k in doc_keys(*doc)) if doc is not None else ("", "")
            for j, m in enumerate(marks):
                if not m:
                    continue
                for name, i in (("bl", j + 1), ("br", j - 1), ("bl2", j + 2), ("br2", j - 2)):
                    if 0 <= i < n:
                        out[i] += near[name].get(m, 0.0)
                if self.fset == "pm2x":
                    out[j] += self._bd(f"{m}|{docb}", 0.0) + self._bh(f"{m}|{hateb}", 0.0)
        return spans, out

    def marked(self, canonical: str, folded_text: str, doc) -> tuple[list[tuple[int, int]], list[bool]]:
        spans, em = self.emissions(canonical, folded_text, doc)
        if self.marginal_threshold is None:
            return spans, viterbi2(em, self.transitions)
        t = self.marginal_threshold
        return spans, [p >= t for p in marginals2(em, self.transitions)]

    def tag(self, canonical: str, folded_text: str, doc=None) -> list[tuple[int, int]]:
        if not canonical:
            return []
        spans, marked = self.marked(canonical, folded_text, doc)
        if any(marked):
            marked = whole_phrases(spans, marked, canonical, folded_text)
        return merge([s for s, keep in zip(spans, marked, strict=True) if keep], canonical)


def crfsuite_features(canonical: str, folded_text: str, doc, teencode, singles, phrases, fset: str):
    """Training's features (``crf_exp.features``) computed from the text, for the crfsuite path."""
    spans = tokenize(canonical)
    tokens = [canonical[a:b] for a, b in spans]
    folded = [folded_text[a:b] for a, b in spans]
    marks = _lexicon_marks(folded, singles, phrases)
    keys = token_keys(tokens, folded, teencode, marks)
    return spans, crf_attributes(keys, folded, marks, doc, fset)


def crf_attributes(keys, folded: list[str], marks: list[str], doc, fset: str) -> list[list[str]]:
    """The CRF's attributes of every token: the tagger's keys, the comment bins, and for the
    ``pm2``/``pm2x`` feature sets the ±2 neighbours and their lexicon marks (training and tagging)."""
    docs = doc_keys(*doc)
    shared = ["b"] + [f"{f}={k}" for f, k in docs]
    n = len(folded)
    out = []
    for i, kk in enumerate(keys):
        attrs = [f"{f}={k}" for f, k in kk] + shared
        if fset in ("pm2", "pm2x"):
            attrs.append("l2=" + (folded[i - 2] if i >= 2 else "<s>"))
            attrs.append("r2=" + (folded[i + 2] if i + 2 < n else "</s>"))
            for name, j in (("bl", i - 1), ("br", i + 1), ("bl2", i - 2), ("br2", i + 2)):
                if 0 <= j < n and marks[j]:
                    attrs.append(f"{name}={marks[j]}")
        if fset == "pm2x" and marks[i]:
            attrs.append(f"bd={marks[i]}|{docs[0][1]}")
            attrs.append(f"bh={marks[i]}|{docs[1][1]}")
        out.append(attrs)
    return out
