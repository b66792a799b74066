"""Training the ViHOS span tagger (``moderation.scoring.spans.SpanTagger``).

A token of the canonical text is a positive example when at least half of the non-space original
characters it stands for are inside a ViHOS span. Features are those of ``SpanTagger.features``:
the token's own keys plus the comment-level bins of the hate-speech model's probabilities. Those
probabilities must be out-of-fold for the train comments (most ViHOS comments are also ViHSD train
comments, which the served hate model has memorised; in-sample probabilities would teach the tagger
to trust them too much), see ``moderation.training.folds``. Features seen fewer than ``min_count``
times are dropped. The weights of a liblinear logistic regression are exported as plain
dictionaries; C and the token threshold are chosen on ViHOS dev by character-level macro-F1 (the
metric published results report).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from moderation.scoring.spans import (
    FAMILIES,
    SpanTagger,
    _lexicon_marks,
    doc_keys,
    lexicon_sets,
    merge,
    token_keys,
    tokenize,
)
from moderation.text.normalize import fold_same_length, tracked
from moderation.training.data import strip_diacritics

SEED = 0

#: (P(not clean), P(hate)) of one comment, from the hate-speech model.
Doc = tuple[float, float]


def doc_of(probs: np.ndarray) -> list[Doc]:
    """(P(not clean), P(hate)) per row of an (n x 3) clean / offensive / hate probability array."""
    return [(float(1.0 - row[0]), float(row[2])) for row in probs]


@dataclass
class TokenRows:
    keys: list[list[str]]
    labels: list[int]


def _token_labels(text: str, gold: set[int]) -> tuple[list[tuple[int, int]], list[str], list[str], list[int]]:
    mapping = tracked(text)
    canonical = mapping.text
    folded = fold_same_length(canonical)
    spans = tokenize(canonical)
    labels = []
    for a, b in spans:
        o_start, o_end = mapping.to_original(a, b)
        chars = [i for i in range(o_start, o_end) if not text[i].isspace()]
        inside = sum(1 for i in chars if i in gold)
        labels.append(int(bool(chars) and inside * 2 >= len(chars)))
    return spans, [canonical[a:b] for a, b in spans], [folded[a:b] for a, b in spans], labels


def build_rows(
    texts: Sequence[str],
    golds: Sequence[set[int]],
    docs: Sequence[Doc],
    stripped_docs: Sequence[Doc],
    teencode: dict[str, str],
    lexicon: Sequence[str],
) -> TokenRows:
    """Token feature strings and labels for the texts and their diacritic-free copies."""
    singles, phrases = lexicon_sets(lexicon)
    rows = TokenRows(keys=[], labels=[])
    for text, gold, doc, stripped_doc in zip(texts, golds, docs, stripped_docs, strict=True):
        variants = [(text, doc)]
        stripped = strip_diacritics(text)
        if stripped != text and len(stripped) == len(text):
            variants.append((stripped, stripped_doc))
        for variant, variant_doc in variants:
            _, tokens, folded, labels = _token_labels(variant, gold)
            marks = _lexicon_marks(folded, singles, phrases)
            shared = [f"{fam}={key}" for fam, key in doc_keys(*variant_doc)]
            for keys, label in zip(token_keys(tokens, folded, teencode, marks), labels, strict=True):
                rows.keys.append([f"{fam}={key}" for fam, key in keys] + shared)
                rows.labels.append(label)
    return rows


def char_macro_f1(golds: Sequence[set[int]], preds: Sequence[set[int]], lengths: Sequence[int]) -> float:
    """Macro-F1 over span / non-span characters of all texts together (as ViHateT5 reports it)."""
    tp = fp = fn = 0
    total = 0
    for gold, pred, n in zip(golds, preds, lengths, strict=True):
        gold = {i for i in gold if i < n}
        tp += len(gold & pred)
        fp += len(pred - gold)
        fn += len(gold - pred)
        total += n
    tn = total - tp - fp - fn
    f1_pos = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    f1_neg = 2 * tn / (2 * tn + fp + fn) if tn + fp + fn else 1.0
    return (f1_pos + f1_neg) / 2


def spans_to_chars(spans: Sequence[tuple[int, int]]) -> set[int]:
    return {i for a, b in spans for i in range(a, b)}


def _tagger_from_model(
    vectorizer: DictVectorizer, model: LogisticRegression, lexicon: Sequence[str], teencode: dict[str, str]
) -> SpanTagger:
    weights: dict[str, dict[str, float]] = {family: {} for family in FAMILIES}
    for name, w in zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True):
        if abs(w) < 1e-3:
            continue
        family, key = name.split("=", 1)
        weights[family][key] = round(float(w), 4)
    return SpanTagger(
        weights=weights, bias=float(model.intercept_[0]), lexicon=tuple(lexicon), teencode=dict(teencode)
    )


def predict_chars(
    tagger: SpanTagger, texts: Sequence[str], docs: Sequence[Doc], threshold: float
) -> list[set[int]]:
    """Predicted span characters (original offsets) of each text, without the analyzer's gate."""
    logit = math.log(threshold / (1 - threshold)) - tagger.bias
    out = []
    for text, doc in zip(texts, docs, strict=True):
        mapping = tracked(text)
        canonical = mapping.text
        spans, scores = tagger.token_scores(canonical, fold_same_length(canonical), doc)
        chosen = merge([s for s, v in zip(spans, scores, strict=True) if v >= logit], canonical)
        out.append(spans_to_chars([mapping.to_original(a, b) for a, b in chosen]))
    return out


@dataclass
class SpanData:
    """ViHOS texts and gold characters with the comment-level probabilities the tagger reads."""

    texts: Sequence[str]
    golds: Sequence[set[int]]
    docs: Sequence[Doc]
    #: Probabilities of the diacritic-free copies (train only; dev uses ``docs``).
    stripped_docs: Sequence[Doc] = ()


def _fit_tagger(
    rows: TokenRows, weights: np.ndarray, c: float, min_count: int, lexicon: Sequence[str], teencode: dict
) -> SpanTagger:
    counts = Counter(k for keys in rows.keys for k in keys)
    kept = [{k: 1 for k in keys if counts[k] >= min_count} for keys in rows.keys]
    vectorizer = DictVectorizer(dtype=np.float32)
    x = vectorizer.fit_transform(kept).tocsr()
    x.indices, x.indptr = x.indices.astype(np.int32), x.indptr.astype(np.int32)
    model = LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=SEED)
    model.fit(x, np.array(rows.labels), sample_weight=weights)
    return _tagger_from_model(vectorizer, model, lexicon, teencode)


def train_span_tagger(
    train: SpanData,
    dev: SpanData,
    clean_train: SpanData,
    clean_dev: SpanData,
    teencode: dict[str, str],
    lexicon: Sequence[str],
    echo: Callable[[str], None] = print,
    *,
    c: float = 1.0,
    clean_weights: Sequence[float] = (0.3, 0.6),
    thresholds: Sequence[float] = (0.3, 0.35, 0.4, 0.5),
    gates: Sequence[float] = (0.2, 0.3, 0.4, 0.5),
    clean_budget: float = 0.10,
    min_count: int = 2,
) -> tuple[SpanTagger, dict[str, Any]]:
    """Fit, choose the weight of clean news, the token threshold and the gate on dev.

    ``clean_train`` are comments known to hold no offensive span (non-toxic ViCTSD news comments):
    every token is a negative example, at a weight from ``clean_weights``. Without them the tagger
    marks "nó", "con", "mẹ"... in a quarter of ordinary news comments. The choice is the best ViHOS
    dev character macro-F1 among the settings that put a span in at most ``clean_budget`` of
    ``clean_dev`` (non-toxic ViCTSD dev comments); the gate (P(not clean) of the whole comment) is
    applied to both. ``dev.docs`` should come from hate models that never saw the dev comments (see
    ``moderation.training.folds``), so the choice does not lean on memorised comment scores.
    """
    rows = build_rows(train.texts, train.golds, train.docs, train.stripped_docs, teencode, lexicon)
    n_vihos = len(rows.labels)
    negatives = build_rows(
        clean_train.texts,
        [set() for _ in clean_train.texts],
        clean_train.docs,
        clean_train.stripped_docs,
        teencode,
        lexicon,
    )
    rows.keys.extend(negatives.keys)
    rows.labels.extend(negatives.labels)
    echo(f"  spans: {len(rows.labels)} tokens ({np.mean(rows.labels):.1%} in spans)")
    lengths = [len(t) for t in dev.texts]
    best: tuple[float, dict[str, Any], SpanTagger] | None = None
    unconstrained: tuple[float, float] = (0.0, 0.0)
    for weight in clean_weights:
        weights = np.ones(len(rows.labels))
        weights[n_vihos:] = weight
        tagger = _fit_tagger(rows, weights, c, min_count, lexicon, teencode)
        for threshold in thresholds:
            dev_pred = predict_chars(tagger, dev.texts, dev.docs, threshold)
            clean_pred = predict_chars(tagger, clean_dev.texts, clean_dev.docs, threshold)
            for gate in gates:
                gated = [p if d[0] >= gate else set() for p, d in zip(dev_pred, dev.docs, strict=True)]
                score = char_macro_f1(dev.golds, gated, lengths)
                hits = [bool(p) and d[0] >= gate for p, d in zip(clean_pred, clean_dev.docs, strict=True)]
                rate = float(np.mean(hits))
                echo(
                    f"  spans: clean weight {weight} threshold {threshold} gate {gate}: ViHOS dev char "
                    f"macro-F1 {score:.4f}, non-toxic news with spans {rate:.1%}"
                )
                if score > unconstrained[0]:
                    unconstrained = (score, rate)
                if rate <= clean_budget and (best is None or score > best[0]):
                    choice = {"clean_weight": weight, "threshold": threshold, "gate": gate}
                    best = (score, {**choice, "clean_rate": rate}, tagger)
    if best is None:
        raise RuntimeError("no span setting meets the clean-news budget")
    score, choice, tagger = best
    tagger.threshold = choice["threshold"]
    tagger.gate = choice["gate"]
    tagger.__post_init__()
    return tagger, {
        "C": c,
        "clean_weight": choice["clean_weight"],
        "threshold": choice["threshold"],
        "gate": choice["gate"],
        "clean_budget": clean_budget,
        "dev_char_macro_f1_out_of_fold_docs": round(score, 4),
        "victsd_dev_non_toxic_with_spans": round(choice["clean_rate"], 4),
        "best_without_budget": {
            "dev_char_macro_f1_out_of_fold_docs": round(unconstrained[0], 4),
            "victsd_dev_non_toxic_with_spans": round(unconstrained[1], 4),
        },
    }
