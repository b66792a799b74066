"""Shared pieces of the CRF-vs-logistic-regression span experiment (see bench/crf/README.md).

Everything works on "items": one comment (or its diacritic-free copy) with its canonical text,
tokens, token labels, per-token (family, key) features and its comment-level probabilities. Both
taggers see the same tokens and features; the gate (P(not clean) >= 0.2), the WHOLE_PHRASES /
BENIGN_PHRASES post-rules and the merge of adjacent tokens are applied identically afterwards.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import math
import pickle
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moderation.scoring.spans import (
    _lexicon_marks,
    doc_keys,
    lexicon_sets,
    merge,
    token_keys,
    whole_phrases,
)
from moderation.text.normalize import fold_same_length, tracked
from moderation.training.data import strip_diacritics
from moderation.training.folds import fold_of
from moderation.training.span_training import _token_labels, char_macro_f1, spans_to_chars

DOCS = Path("/tmp/crf/docs.pkl")
GATE = 0.2  # the shipped gate (manifest choices["spans"]["gate"])


def load_docs(path: Path = DOCS) -> dict:
    return pickle.loads(path.read_bytes())


@dataclass
class Item:
    text: str  # the text as given (original offsets)
    canonical: str
    folded: str
    spans: list[tuple[int, int]]  # token offsets, canonical
    labels: list[int]
    keys: list[list[tuple[str, str]]]  # the LR's token features, comment bins not included
    marks: list[str]
    doc: tuple[float, float]
    mapping: object  # canonical -> original offsets


def make_item(text: str, gold: set[int], doc, teencode, singles, phrases) -> Item:
    mapping = tracked(text)
    canonical = mapping.text
    folded = fold_same_length(canonical)
    spans, tokens, folded_tokens, labels = _token_labels(text, gold)
    marks = _lexicon_marks(folded_tokens, singles, phrases)
    keys = token_keys(tokens, folded_tokens, teencode, marks)
    return Item(text, canonical, folded, spans, labels, keys, marks, tuple(doc), mapping)


def items_for(texts, golds, docs, stripped_docs, teencode, lexicon, with_stripped: bool) -> list[list[Item]]:
    """Per comment: [item of the text, item of its diacritic-free copy (if wanted and same length)]."""
    singles, phrases = lexicon_sets(lexicon)
    out = []
    for i, text in enumerate(texts):
        group = [make_item(text, golds[i], docs[i], teencode, singles, phrases)]
        if with_stripped:
            stripped = strip_diacritics(text)
            if stripped != text and len(stripped) == len(text):
                group.append(make_item(stripped, golds[i], stripped_docs[i], teencode, singles, phrases))
        out.append(group)
    return out


def post(item: Item, marked: list[bool], rules: bool = True) -> set[int]:
    """Marked tokens -> whole / benign phrase rules -> merge -> original character offsets."""
    if rules and any(marked):
        marked = whole_phrases(item.spans, marked, item.canonical, item.folded)
    chosen = merge([s for s, keep in zip(item.spans, marked, strict=True) if keep], item.canonical)
    return spans_to_chars([item.mapping.to_original(a, b) for a, b in chosen])


def gated(items: Sequence[Item], preds: Sequence[set[int]], gate: float = GATE) -> list[set[int]]:
    return [p if it.doc[0] >= gate else set() for it, p in zip(items, preds, strict=True)]


def score(golds: Sequence[set[int]], preds: Sequence[set[int]], texts: Sequence[str]) -> float:
    return char_macro_f1(golds, preds, [len(t) for t in texts])


def _counts(golds, preds, lengths):
    """Per-comment (tp, fp, fn, n) so that bootstrap resamples are cheap sums."""
    rows = []
    for gold, pred, n in zip(golds, preds, lengths, strict=True):
        gold = {i for i in gold if i < n}
        rows.append((len(gold & pred), len(pred - gold), len(gold - pred), n))
    return np.array(rows, dtype=np.float64)


def _f1_from(c: np.ndarray) -> np.ndarray:
    """char macro-F1 from summed counts; c has shape (..., 4)."""
    tp, fp, fn, n = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    tn = n - tp - fp - fn
    pos = np.where(tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1e-12), 1.0)
    neg = np.where(tn + fp + fn > 0, 2 * tn / np.maximum(2 * tn + fp + fn, 1e-12), 1.0)
    return (pos + neg) / 2


RESAMPLES = 2000


def bootstrap_ci(golds, preds_by_name: dict[str, list[set[int]]], texts, resamples=RESAMPLES, seed=0):
    """Point figure and 95% percentile interval of each prediction set, and of each one's difference
    from the first (paired: the same resampled comments for all), over comments."""
    lengths = [len(t) for t in texts]
    counts = {k: _counts(golds, p, lengths) for k, p in preds_by_name.items()}
    rng = np.random.default_rng(seed)
    n = len(golds)
    idx = rng.integers(0, n, (resamples, n))
    # Sum counts per resample via bincount weights (memory-light).
    sums = {}
    for k, c in counts.items():
        w = np.zeros((resamples, 4))
        for r in range(resamples):
            w[r] = c[idx[r]].sum(axis=0)
        sums[k] = _f1_from(w)
    names = list(preds_by_name)
    base = names[0]
    out = {}
    for k in names:
        point = float(_f1_from(counts[k].sum(axis=0)))
        lo, hi = np.percentile(sums[k], [2.5, 97.5])
        entry = {"f1": round(point, 4), "ci95": (round(float(lo), 4), round(float(hi), 4))}
        if k != base:
            d = sums[k] - sums[base]
            dpoint = point - float(_f1_from(counts[base].sum(axis=0)))
            dlo, dhi = np.percentile(d, [2.5, 97.5])
            entry["minus_" + base] = round(dpoint, 4)
            entry["minus_" + base + "_ci95"] = (round(float(dlo), 4), round(float(dhi), 4))
            entry["p_not_better"] = round(float(np.mean(d <= 0)), 4)
        out[k] = entry
    return out


def share_ci(hits: Sequence[bool], resamples=RESAMPLES, seed=0):
    arr = np.asarray(hits, dtype=float)
    rng = np.random.default_rng(seed)
    vals = [arr[rng.integers(0, len(arr), len(arr))].mean() for _ in range(resamples)]
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return round(float(arr.mean()), 4), (round(float(lo), 4), round(float(hi), 4))


def cv_fold(text: str, k: int = 3) -> int:
    """Stable fold of a comment by its text (duplicates stay together; salted apart from the
    4 hate folds so the two splits are not aligned)."""
    return fold_of("crf-cv:" + text, k)


# ---------------------------------------------------------------- logistic-regression tagger


def lr_rows(groups: Sequence[Sequence[Item]]):
    keys, labels = [], []
    for group in groups:
        for it in group:
            shared = [f"{f}={k}" for f, k in doc_keys(*it.doc)]
            for kk, y in zip(it.keys, it.labels, strict=True):
                keys.append([f"{f}={k}" for f, k in kk] + shared)
                labels.append(y)
    return keys, labels


def fit_lr(pos_groups, clean_groups, clean_weight=0.6, c=1.0, min_count=2):
    """The current tagger's fit (``span_training._fit_tagger``): liblinear LR, clean news weighted."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    k1, y1 = lr_rows(pos_groups)
    k2, y2 = lr_rows(clean_groups)
    keys, labels = k1 + k2, y1 + y2
    weights = np.ones(len(labels))
    weights[len(y1) :] = clean_weight
    counts = Counter(k for kk in keys for k in kk)
    kept = [{k: 1 for k in kk if counts[k] >= min_count} for kk in keys]
    vec = DictVectorizer(dtype=np.float32)
    x = vec.fit_transform(kept).tocsr()
    x.indices, x.indptr = x.indices.astype(np.int32), x.indptr.astype(np.int32)
    model = LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=0)
    model.fit(x, np.array(labels), sample_weight=weights)
    w = {}
    for name, v in zip(vec.get_feature_names_out(), model.coef_[0], strict=True):
        if abs(v) >= 1e-3:  # the export's pruning
            w[name] = round(float(v), 4)
    return w, float(model.intercept_[0])


def lr_scores(item: Item, w: dict[str, float], bias: float) -> list[float]:
    shared = sum(w.get(f"{f}={k}", 0.0) for f, k in doc_keys(*item.doc))
    return [bias + shared + sum(w.get(f"{f}={k}", 0.0) for f, k in kk) for kk in item.keys]


def lr_predict(items: Sequence[Item], w, bias, threshold, rules=True) -> list[set[int]]:
    logit = math.log(threshold / (1 - threshold))
    return [post(it, [s >= logit for s in lr_scores(it, w, bias)], rules) for it in items]


def flatten(groups: Sequence[Sequence[Item]], first_only: bool = False) -> list[Item]:
    return [it for g in groups for it in (g[:1] if first_only else g)]


Timer = Callable[[], float]


def all_items(d: dict | None = None) -> dict[str, list[list[Item]]]:
    """train / clean_train (with stripped copies), dev / dev_stripped / clean_dev (one item each)."""
    d = d or load_docs()
    tc, lex = d["teencode"], d["lexicon"]
    tr, dv, ct, cd = d["train"], d["dev"], d["clean_train"], d["clean_dev"]
    none = [set() for _ in ct["texts"]]
    out = {
        "train": items_for(tr["texts"], tr["golds"], tr["docs"], tr["stripped_docs"], tc, lex, True),
        "clean_train": items_for(ct["texts"], none, ct["docs"], ct["stripped_docs"], tc, lex, True),
        "dev": items_for(dv["texts"], dv["golds"], dv["docs"], dv["docs"], tc, lex, False),
        "dev_served": items_for(dv["texts"], dv["golds"], dv["served_docs"], dv["docs"], tc, lex, False),
        "clean_dev": items_for(
            cd["texts"], [set() for _ in cd["texts"]], cd["docs"], cd["docs"], tc, lex, False
        ),
    }
    keep = [i for i, t in enumerate(dv["texts"]) if len(strip_diacritics(t)) == len(t)]
    out["dev_stripped"] = items_for(
        [strip_diacritics(dv["texts"][i]) for i in keep],
        [dv["golds"][i] for i in keep],
        [dv["stripped_docs"][i] for i in keep],
        [dv["stripped_docs"][i] for i in keep],
        tc,
        lex,
        False,
    )
    out["dev_stripped_index"] = keep
    return out
