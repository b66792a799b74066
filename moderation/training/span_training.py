"""Training the ViHOS span tagger (``moderation.scoring.spans.SpanTagger``).

A token of the canonical text is a positive example when at least half of the non-space original
characters it stands for are inside a ViHOS span. Features are those of ``token_keys``; features
seen fewer than ``min_count`` times are dropped. The weights of a liblinear logistic regression are
exported as plain dictionaries; C and the token threshold are chosen on ViHOS dev by character-level
macro-F1 (the metric published results report).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from moderation.scoring.spans import SpanTagger, _lexicon_marks, lexicon_sets, merge, token_keys, tokenize
from moderation.text.normalize import fold_same_length, tracked
from moderation.training.data import strip_diacritics

SEED = 0


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
    texts: Sequence[str], golds: Sequence[set[int]], teencode: dict[str, str], lexicon: Sequence[str]
) -> TokenRows:
    """Token feature strings and labels for the texts and their diacritic-free copies."""
    singles, phrases = lexicon_sets(lexicon)
    rows = TokenRows(keys=[], labels=[])
    for text, gold in zip(texts, golds, strict=True):
        variants = [text]
        stripped = strip_diacritics(text)
        if stripped != text and len(stripped) == len(text):
            variants.append(stripped)
        for variant in variants:
            _, tokens, folded, labels = _token_labels(variant, gold)
            marks = _lexicon_marks(folded, singles, phrases)
            for keys, label in zip(token_keys(tokens, folded, teencode, marks), labels, strict=True):
                rows.keys.append([f"{fam}={key}" for fam, key in keys])
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
    weights: dict[str, dict[str, float]] = {}
    for name, w in zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True):
        if abs(w) < 1e-3:
            continue
        family, key = name.split("=", 1)
        weights.setdefault(family, {})[key] = round(float(w), 4)
    for family in ("u", "f", "x", "l", "r", "lb", "rb", "bad"):
        weights.setdefault(family, {})
    return SpanTagger(
        weights=weights, bias=float(model.intercept_[0]), lexicon=tuple(lexicon), teencode=dict(teencode)
    )


def _predict_chars(tagger: SpanTagger, texts: Sequence[str], threshold: float) -> list[set[int]]:
    import math

    logit = math.log(threshold / (1 - threshold)) - tagger.bias
    out = []
    for text in texts:
        mapping = tracked(text)
        canonical = mapping.text
        spans, scores = tagger.token_scores(canonical, fold_same_length(canonical))
        chosen = merge([s for s, v in zip(spans, scores, strict=True) if v >= logit], canonical)
        out.append(spans_to_chars([mapping.to_original(a, b) for a, b in chosen]))
    return out


def train_span_tagger(
    train_texts: Sequence[str],
    train_golds: Sequence[set[int]],
    dev_texts: Sequence[str],
    dev_golds: Sequence[set[int]],
    teencode: dict[str, str],
    lexicon: Sequence[str],
    echo: Callable[[str], None] = print,
    c_grid: Sequence[float] = (0.3, 1.0),
    min_count: int = 2,
    clean_train: Sequence[str] = (),
    clean_weight: float = 1.0,
    clean_dev: Sequence[str] = (),
    clean_budget: float = 1.0,
    thresholds: Sequence[float] = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55),
) -> tuple[SpanTagger, dict[str, float]]:
    """Fit, choose C and the threshold on dev; returns the tagger and its dev figures.

    ``clean_train`` are comments known to hold no offensive span (non-toxic news comments): every
    token is a negative example, at ``clean_weight``. The chosen (C, threshold) is the best ViHOS dev
    character macro-F1 among those that put a span in at most ``clean_budget`` of ``clean_dev``.
    """
    rows = build_rows(train_texts, train_golds, teencode, lexicon)
    n_vihos = len(rows.labels)
    if clean_train:
        extra = build_rows(clean_train, [set() for _ in clean_train], teencode, lexicon)
        rows.keys.extend(extra.keys)
        rows.labels.extend(extra.labels)
    sample_weight = np.ones(len(rows.labels))
    sample_weight[n_vihos:] = clean_weight
    counts = Counter(k for keys in rows.keys for k in keys)
    kept = [{k: 1 for k in keys if counts[k] >= min_count} for keys in rows.keys]
    vectorizer = DictVectorizer(dtype=np.float32)
    x = vectorizer.fit_transform(kept).tocsr()
    x.indices, x.indptr = x.indices.astype(np.int32), x.indptr.astype(np.int32)
    y = np.array(rows.labels)
    echo(f"  spans: {len(y)} tokens ({y.mean():.1%} in spans), {x.shape[1]} features")
    lengths = [len(t) for t in dev_texts]
    best: tuple[float, float, float, float, SpanTagger] | None = None
    for c in c_grid:
        model = LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=SEED)
        model.fit(x, y, sample_weight=sample_weight)
        tagger = _tagger_from_model(vectorizer, model, lexicon, teencode)
        for threshold in thresholds:
            rate = (
                np.mean([bool(p) for p in _predict_chars(tagger, clean_dev, threshold)]) if clean_dev else 0.0
            )
            score = char_macro_f1(dev_golds, _predict_chars(tagger, dev_texts, threshold), lengths)
            echo(
                f"  spans: C={c} threshold={threshold}: ViHOS dev char macro-F1 {score:.4f}, "
                f"clean news with spans {rate:.1%}"
            )
            if rate <= clean_budget and (best is None or score > best[0]):
                best = (score, c, threshold, float(rate), tagger)
    if best is None:
        raise RuntimeError("no span threshold meets the clean-news budget")
    score, c, threshold, rate, tagger = best
    tagger.threshold = threshold
    tagger.__post_init__()
    return tagger, {
        "C": c,
        "threshold": threshold,
        "dev_char_macro_f1": round(score, 4),
        "clean_news_dev_with_spans": round(rate, 4),
    }
