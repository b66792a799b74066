"""The second stage's token features and the two-stage tagger (shared by training and tagging).

A token's second-stage features are built from the first-stage (current LR) token logits of the
comment only, plus its lexicon marks, the known-phrase links between adjacent tokens and the
comment probabilities: the same function runs at training time (on out-of-fold first-stage
logits) and at tagging time (on the first-stage tagger's ``token_scores``).

Feature sets (each one adds to the previous):
- ``nb``: own logit, neighbours' logits at +-1 and +-2 (padded with a low logit and flagged),
  window max (+-1, +-2, self excluded) and mean (+-2, self included), one-hot bins of the own
  logit and of the +-1 max;
- ``pos``: relative position, first / last, comment length bins, P(not clean), P(hate), own logit
  x each, the comment's max logit (and own minus it), share of tokens above logit(0.35);
- ``link``: whether the token and its left / right neighbour form (part of) a known phrase (a
  lexicon phrase or a WHOLE_PHRASES entry), crossed with that neighbour's logit; lexicon marks
  (alone / in a phrase) and own logit x mark; neighbours' marks; non-word token (punctuation,
  emoji) and own logit x non-word.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence

import numpy as np

from moderation.scoring.spans import (
    _TOKEN,
    WHOLE_PHRASES,
    SpanTagger,
    _lexicon_marks,
    lexicon_sets,
    merge,
    tokenize,
    whole_phrases,
)
from moderation.text.normalize import fold_same_length

FSETS = ("nb", "pos", "link")
LOW = -2.0  # the padding value of a missing neighbour (a logit of -10, clipped and scaled)
EDGES = np.array([-4, -3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 2, 3], dtype=np.float64) / 5
HI = math.log(0.35 / 0.65)  # the current tagger's threshold, as a logit
LEN_EDGES = np.array([2, 4, 8, 16, 32])


def known_phrases(lexicon: Sequence[str]) -> frozenset[str]:
    """Folded multi-token phrases: the lexicon's and WHOLE_PHRASES."""
    _, phrases = lexicon_sets(lexicon)
    extra = {" ".join(_TOKEN.findall(fold_same_length(p))) for p in WHOLE_PHRASES}
    return frozenset(phrases | extra)


def links_of(folded: Sequence[str], phrases: frozenset[str]) -> np.ndarray:
    """links[i] is True when tokens i and i + 1 stand inside one occurrence of a known phrase."""
    n = len(folded)
    out = np.zeros(max(n - 1, 0), dtype=bool)
    for i in range(n - 1):
        for k in (2, 3, 4):
            if i + k <= n and " ".join(folded[i : i + k]) in phrases:
                out[i : i + k - 1] = True
    return out


def names(fset: str) -> list[str]:
    out = ["bias", "s0", "s-1", "s+1", "s-2", "s+2", "bos1", "bos2", "eos1", "eos2", "max1", "max2", "mean2"]
    out += [f"b0={k}" for k in range(len(EDGES) + 1)] + [f"bmax1={k}" for k in range(len(EDGES) + 1)]
    if fset in ("pos", "link"):
        out += ["relpos", "first", "last"] + [f"len={k}" for k in range(len(LEN_EDGES) + 1)]
        out += ["pnc", "ph", "s0*pnc", "s0*ph", "cmax", "s0-cmax", "frac_hi"]
    if fset == "link":
        out += ["linkL", "linkR", "linkL*s-1", "linkR*s+1", "mark1", "markp", "mark*s0"]
        out += ["markL", "markR", "nonword", "nonword*s0"]
    return out


def features(
    logits: Sequence[float],
    marks: Sequence[str],
    links: np.ndarray,
    nonword: Sequence[bool],
    doc: tuple[float, float],
    fset: str,
) -> np.ndarray:
    """(n tokens, len(names(fset))) float64 matrix."""
    s = np.asarray(logits, dtype=np.float64)
    n = len(s)
    z = np.clip(s, -10, 10) / 5
    pad = np.concatenate([[LOW, LOW], z, [LOW, LOW]])
    valid = np.concatenate([[0.0, 0.0], np.ones(n), [0.0, 0.0]])
    zm2, zm1, zp1, zp2 = pad[0:n], pad[1 : n + 1], pad[3 : n + 3], pad[4 : n + 4]
    idx = np.arange(n)
    max1 = np.maximum(zm1, zp1)
    max2 = np.maximum(max1, np.maximum(zm2, zp2))
    wsum = sum(pad[j : j + n] * valid[j : j + n] for j in range(5))
    wcnt = sum(valid[j : j + n] for j in range(5))
    cols = [np.ones(n), z, zm1, zp1, zm2, zp2, idx == 0, idx <= 1, idx == n - 1, idx >= n - 2]
    cols += [max1, max2, wsum / wcnt]
    nb = len(EDGES) + 1
    cols += list(np.eye(nb)[np.digitize(z, EDGES)].T) + list(np.eye(nb)[np.digitize(max1, EDGES)].T)
    if fset in ("pos", "link"):
        pnc, ph = doc
        cmax = z.max()
        cols += [idx / max(n - 1, 1), idx == 0, idx == n - 1]
        cols += list(np.eye(len(LEN_EDGES) + 1)[np.full(n, np.digitize(n, LEN_EDGES))].T)
        cols += [np.full(n, pnc), np.full(n, ph), z * pnc, z * ph, np.full(n, cmax), z - cmax]
        cols += [np.full(n, float(np.mean(s >= HI)))]
    if fset == "link":
        lk = np.asarray(links, dtype=np.float64)
        link_l = np.concatenate([[0.0], lk])
        link_r = np.concatenate([lk, [0.0]])
        m1 = np.array([m == "1" for m in marks], dtype=np.float64)
        mp = np.array([m == "p" for m in marks], dtype=np.float64)
        ma = np.maximum(m1, mp)
        mpad = np.concatenate([[0.0], ma, [0.0]])
        nw = np.asarray(nonword, dtype=np.float64)
        cols += [link_l, link_r, link_l * zm1, link_r * zp1, m1, mp, ma * z, mpad[:n], mpad[2:], nw, nw * z]
    return np.column_stack([np.asarray(c, dtype=np.float64) for c in cols])


def is_nonword(tokens: Sequence[str]) -> list[bool]:
    return [not t[0].isalnum() for t in tokens]


class StackedSpanTagger:
    """First stage: the current SpanTagger's token scores; second stage: a logistic regression over
    ``features``; then the same WHOLE_PHRASES / BENIGN_PHRASES rules and merge as the current tagger."""

    def __init__(
        self,
        first_weights: Mapping[str, float],
        first_bias: float,
        second_w: np.ndarray,
        second_b: float,
        fset: str,
        threshold: float,
        lexicon: Sequence[str],
        teencode: Mapping[str, str],
    ) -> None:
        fam: dict[str, dict[str, float]] = {}
        for key, v in first_weights.items():
            f, k = key.split("=", 1)
            fam.setdefault(f, {})[k] = v
        self.first = SpanTagger(weights=fam, bias=first_bias, lexicon=tuple(lexicon), teencode=dict(teencode))
        self.first_bias = first_bias
        self.w = np.asarray(second_w, dtype=np.float64)
        self.b = float(second_b)
        self.fset = fset
        self.logit = math.log(threshold / (1 - threshold))
        self.singles, self.lex_phrases = lexicon_sets(lexicon)
        self.phrases = known_phrases(lexicon)

    def token_logits(self, canonical: str, folded_text: str, doc: tuple[float, float]):
        spans, raw = self.first.token_scores(canonical, folded_text, doc)
        return spans, [self.first_bias + r for r in raw]

    def tag(self, canonical: str, folded_text: str, doc: tuple[float, float]) -> list[tuple[int, int]]:
        if not canonical:
            return []
        spans, s = self.token_logits(canonical, folded_text, doc)
        if not spans:
            return []
        tokens = [canonical[a:b] for a, b in spans]
        folded = [folded_text[a:b] for a, b in spans]
        marks = _lexicon_marks(folded, self.singles, self.lex_phrases)
        x = features(s, marks, links_of(folded, self.phrases), is_nonword(tokens), doc, self.fset)
        marked = list(x @ self.w + self.b >= self.logit)
        if any(marked):
            marked = whole_phrases(spans, marked, canonical, folded_text)
        return merge([sp for sp, k in zip(spans, marked, strict=True) if k], canonical)


class StackedNbTagger(StackedSpanTagger):
    """The same tagger for the ``nb`` feature set, scored in plain Python (no per-comment numpy)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.fset != "nb":
            raise ValueError("plain-Python scoring is written for the nb feature set only")
        w = [float(v) for v in self.w]
        nb = len(EDGES) + 1
        self.lin = w[:13]
        self.b0 = w[13 : 13 + nb]
        self.bmax1 = w[13 + nb : 13 + 2 * nb]
        self.edges = [float(e) for e in EDGES]

    def tag(self, canonical: str, folded_text: str, doc: tuple[float, float]) -> list[tuple[int, int]]:
        if not canonical:
            return []
        spans, s = self.token_logits(canonical, folded_text, doc)
        if not spans:
            return []
        n = len(s)
        z = [min(max(v, -10.0), 10.0) / 5 for v in s]
        pad = [LOW, LOW, *z, LOW, LOW]
        wb, w0, wm1, wp1, wm2, wp2, wbos1, wbos2, weos1, weos2, wmax1, wmax2, wmean2 = self.lin
        edges, b0, bmax1 = self.edges, self.b0, self.bmax1
        base = self.b + wb
        marked = []
        for i in range(n):
            zi, zm2, zm1, zp1, zp2 = z[i], pad[i], pad[i + 1], pad[i + 3], pad[i + 4]
            lo, hi = max(i - 2, 0), min(i + 3, n)
            m1 = zm1 if zm1 > zp1 else zp1
            m2 = max(m1, zm2, zp2)
            v = base + w0 * zi + wm1 * zm1 + wp1 * zp1 + wm2 * zm2 + wp2 * zp2
            v += wmax1 * m1 + wmax2 * m2 + wmean2 * sum(z[lo:hi]) / (hi - lo)
            if i == 0:
                v += wbos1
            if i <= 1:
                v += wbos2
            if i == n - 1:
                v += weos1
            if i >= n - 2:
                v += weos2
            v += b0[bisect_right(edges, zi)] + bmax1[bisect_right(edges, m1)]
            marked.append(v >= self.logit)
        if any(marked):
            marked = whole_phrases(spans, marked, canonical, folded_text)
        return merge([sp for sp, k in zip(spans, marked, strict=True) if k], canonical)


__all__ = [
    "FSETS",
    "StackedNbTagger",
    "StackedSpanTagger",
    "features",
    "known_phrases",
    "links_of",
    "names",
    "tokenize",
]
