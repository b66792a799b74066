"""Rebuilding the shipped models from the datasets' train and dev splits.

One hashed n-gram featuriser is fitted on the train texts of all four datasets; each attribute is a
logistic regression on its own dataset's rows, trained on the texts and on copies stripped of
diacritics (so that text typed without accents scores nearly the same). For toxicity,
constructiveness and hate speech the train and dev rows are pooled and C (and, for toxicity, the
weight of ViHSD rows) is chosen by k-fold cross-validation (``crossval``): the mean out-of-fold
macro-F1 with and without accents, each at its best threshold; the chosen model is refitted on all the
pooled rows, and its out-of-fold scores go on to calibration and thresholds (``tuning``). The
coefficient vectors are stacked into one matrix.

* Toxicity is an NB-weighted logistic regression (Wang & Manning's NB-SVM idea): every feature is
  scaled by its naive-Bayes log-count ratio on the training rows before the fit. The scaling is folded
  into the exported coefficients, so serving is the same single product.
* Hate speech is a multinomial regression; its class biases and temperature are tuned out of fold here,
  because the span tagger reads its probabilities.
* Spam is trained with ViSpamReviews SpamLabel 3 as positives and, as negatives, its SpamLabel 0
  plus the ViCTSD and ViHSD train comments, so that news comments are not called spam.
* Spans: see ``span_training``; the comment-level probabilities it learns from are out of fold
  (``folds``), because the hate model has memorised most ViHOS comments.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.utils.class_weight import compute_sample_weight

from moderation.scoring.hashing import HashedNgrams
from moderation.scoring.model import OUTPUTS, LinearModels, _softmax
from moderation.scoring.spans import SpanTagger
from moderation.text.normalize import fold
from moderation.text.prepare import prepare
from moderation.text.teencode import TeencodeExpander, load_teencode
from moderation.training.config import FULL, SPAN_FOLDS, SiteRows, TrainConfig, subset, without_texts
from moderation.training.crossval import Fit, OutOfFold, Pool, grouped_folds
from moderation.training.data import Split, load_all, strip_diacritics
from moderation.training.folds import out_of_fold_probs
from moderation.training.span_training import SpanData, doc_of, train_span_tagger
from moderation.training.tuning import best_threshold, tune_hate

SEED = 0
LEXICON_PATH = Path(__file__).resolve().parent.parent / "data" / "vn-badwords-vi.json"
#: Smoothing of the naive-Bayes log-count ratios that scale the toxicity features.
NB_ALPHA = 0.5
#: At most this share of non-toxic ViCTSD dev comments may get a span (see ``train_span_tagger``).
SPAN_CLEAN_BUDGET = 0.10


@dataclass
class Corpus:
    """Feature texts of every split, original and stripped, prepared once."""

    splits: dict[str, Split]
    expander: TeencodeExpander
    _cache: dict[str, str] = field(default_factory=dict)

    def features(self, texts: Sequence[str]) -> list[str]:
        out = []
        for text in texts:
            cached = self._cache.get(text)
            if cached is None:
                cached = self._cache[text] = prepare(text, self.expander).features
            out.append(cached)
        return out

    def texts(self, name: str, stripped: bool = False) -> list[str]:
        texts = self.splits[name].texts
        return [strip_diacritics(t) for t in texts] if stripped else texts


@dataclass
class Trained:
    models: LinearModels
    choices: dict[str, Any]
    seconds: float
    oof: OutOfFold


def nb_ratio(x: sp.csr_matrix, y: np.ndarray, alpha: float = NB_ALPHA) -> np.ndarray:
    """Naive-Bayes log-count ratio of every feature (positive class against negative)."""
    pos = np.asarray(x[y == 1].sum(axis=0)).ravel() + alpha
    neg = np.asarray(x[y == 0].sum(axis=0)).ravel() + alpha
    return np.log((pos / pos.sum()) / (neg / neg.sum())).astype(np.float32)


@dataclass
class Linear:
    """One fitted binary model as plain arrays (feature scaling already folded in)."""

    coef: np.ndarray
    intercept: float

    def logits(self, x: sp.csr_matrix) -> np.ndarray:
        return np.asarray(x @ self.coef).ravel() + self.intercept

    __call__ = logits


def fit_binary(
    x: sp.csr_matrix,
    y: np.ndarray,
    c: float,
    *,
    sample_weight: np.ndarray | None = None,
    balanced: bool = True,
    scale: np.ndarray | None = None,
) -> Linear:
    """Logistic regression on ``x`` (columns multiplied by ``scale`` if given)."""
    class_weight = "balanced" if balanced and sample_weight is None else None
    model = LogisticRegression(C=c, max_iter=3000, class_weight=class_weight, random_state=SEED)
    model.fit(x if scale is None else x @ sp.diags(scale), y, sample_weight=sample_weight)
    coef = model.coef_[0] if scale is None else model.coef_[0] * scale
    return Linear(coef=coef.astype(np.float32), intercept=float(model.intercept_[0]))


@dataclass
class Selected:
    """The chosen candidate of one binary attribute: refitted on everything, and its out-of-fold
    logits per view (as given, stripped)."""

    model: Linear
    oof: list[np.ndarray]


def select_binary(
    name: str,
    candidates: Sequence[tuple[dict[str, Any], tuple[Pool, Fit]]],
    echo: Callable[[str], None],
) -> tuple[Selected, dict[str, Any]]:
    """Score every candidate out of fold, keep the best mean macro-F1 over (original, stripped) at its
    best common threshold, and refit it on all the pooled rows."""
    best: tuple[float, dict[str, Any], Pool, Fit, list[np.ndarray]] | None = None
    table = []
    for params, (pool, fit) in candidates:
        started = time.perf_counter()
        oof = pool.out_of_fold(fit)
        probs = [1.0 / (1.0 + np.exp(-z)) for z in oof]
        t = best_threshold(probs, pool.y)
        scores = [float(f1_score(pool.y, p >= t, average="macro")) for p in probs]
        mean = float(np.mean(scores))
        table.append({**params, "cv_mean_macro_f1": round(mean, 4)})
        echo(
            f"  {name}: {params} out-of-fold macro-F1 {scores[0]:.4f}, stripped {scores[-1]:.4f} "
            f"({time.perf_counter() - started:.0f}s)"
        )
        if best is None or mean > best[0]:
            best = (mean, params, pool, fit, oof)
    assert best is not None
    mean, params, pool, fit, oof = best
    x, y, weights = pool.everything()
    model = fit(x, y, weights)
    assert isinstance(model, Linear)
    return Selected(model=model, oof=oof), {
        **params,
        "cv_mean_macro_f1_at_argmax": round(mean, 4),
        "candidates": table,
    }


def load_lexicon(path: Path = LEXICON_PATH) -> list[str]:
    """The swear-word list, folded and de-duplicated (the span tagger matches folded tokens)."""
    words = json.loads(path.read_text(encoding="utf-8"))
    return sorted({fold(w) for w in words if fold(w)})


def _fit_hate(c: float) -> Callable[..., LogisticRegression]:
    def fit(x: sp.csr_matrix, y: np.ndarray, sample_weight: np.ndarray | None = None) -> LogisticRegression:
        model = LogisticRegression(C=c, max_iter=3000, random_state=SEED)
        return model.fit(x, y, sample_weight=sample_weight)

    return fit


def _site_rows(
    site: SiteRows | None, attribute: str, matrix: Callable[[Sequence[str]], sp.csr_matrix]
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray] | None:
    """A site's labels of one attribute and their diacritic-free copies, each weighing ``site.weight``
    (an average public row weighs 1)."""
    if site is None or not site.count(attribute):
        return None
    texts, values = site.rows(attribute)
    both = texts + [strip_diacritics(t) for t in texts]
    return matrix(both), np.concatenate([values, values]), np.full(len(both), site.weight, dtype=np.float64)


def _stack(
    *parts: tuple[sp.csr_matrix, np.ndarray, np.ndarray] | None,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray] | None:
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return (
        sp.vstack([p[0] for p in present]).tocsr(),
        np.concatenate([p[1] for p in present]),
        np.concatenate([p[2] for p in present]),
    )


def train_models(
    datasets_dir: Path,
    echo: Callable[[str], None] = print,
    *,
    config: TrainConfig = FULL,
    site: SiteRows | None = None,
    base_spans: SpanTagger | None = None,
    exclude: Collection[str] = (),
) -> Trained:
    """Train every attribute and the span tagger; returns the stacked models (thresholds not yet tuned).

    ``site`` adds a site's moderator labels to the toxicity, hate-speech and spam training sets;
    ``base_spans`` is the tagger kept when ``config.train_spans`` is off; ``exclude`` drops comments
    from the dev splits (see ``config.without_texts``).
    """
    started = time.perf_counter()
    splits = without_texts(subset(load_all(datasets_dir), config.max_train_rows), exclude)
    corpus = Corpus(splits=splits, expander=TeencodeExpander(load_teencode()))
    grid = config.c_grid
    echo("preparing texts and fitting the featuriser")
    train_texts = [t for n in ("victsd", "vihsd", "vihos", "vispam") for t in corpus.texts(f"{n}/train")]
    train_texts += site.all_texts() if site is not None else []
    featurizer = HashedNgrams(**config.featurizer).fit_texts(corpus.features(train_texts))
    echo(f"  {featurizer.n_features} features from {len(train_texts)} train texts")

    def matrix(texts: Sequence[str]) -> sp.csr_matrix:
        return featurizer.transform_texts(corpus.features(texts))

    def augmented(name: str) -> sp.csr_matrix:
        return sp.vstack([matrix(corpus.texts(name)), matrix(corpus.texts(name, stripped=True))]).tocsr()

    coef = np.zeros((featurizer.n_features, len(OUTPUTS)), dtype=np.float32)
    intercept = np.zeros(len(OUTPUTS), dtype=np.float32)
    choices: dict[str, Any] = {}

    k = config.cv_folds
    ctsd_texts = corpus.texts("victsd/train") + corpus.texts("victsd/dev")
    ctsd_views = [matrix(ctsd_texts), matrix([strip_diacritics(t) for t in ctsd_texts])]
    ctsd_dev = np.arange(len(ctsd_texts)) >= len(splits["victsd/train"].texts)
    y_tox = np.array(splits["victsd/train"].column("Toxicity") + splits["victsd/dev"].column("Toxicity"))
    y_con = np.array(
        splits["victsd/train"].column("Constructiveness") + splits["victsd/dev"].column("Constructiveness")
    )
    ctsd_folds = grouped_folds(ctsd_texts, 2 * y_tox + y_con, k)
    hsd_texts = corpus.texts("vihsd/train") + corpus.texts("vihsd/dev")
    hsd_views = [matrix(hsd_texts), matrix([strip_diacritics(t) for t in hsd_texts])]
    hsd_dev = np.arange(len(hsd_texts)) >= len(splits["vihsd/train"].texts)
    y_hate = np.array(splits["vihsd/train"].column("label_id") + splits["vihsd/dev"].column("label_id"))
    x_hsd_all = sp.vstack(hsd_views).tocsr()
    y_hate_views = np.concatenate([y_hate, y_hate])
    echo(
        f"  {k}-fold cross-validation over train and dev: ViCTSD {len(ctsd_texts)} comments, "
        f"ViHSD {len(hsd_texts)}"
    )

    # Toxicity: NB-weighted, ViCTSD plus (maybe) ViHSD rows at a small weight, plus the site's labels.
    def toxicity(c: float, w: float) -> tuple[Pool, Fit]:
        hsd_weights = w * np.concatenate([compute_sample_weight("balanced", y_hate > 0)] * 2)
        extra = _stack(
            (x_hsd_all, (y_hate_views > 0).astype(int), hsd_weights), _site_rows(site, "toxicity", matrix)
        )
        pool = Pool(ctsd_views, y_tox, compute_sample_weight("balanced", y_tox), ctsd_folds, extra)

        def fit(x: sp.csr_matrix, y: np.ndarray, weights: np.ndarray) -> Linear:
            keep = weights > 0
            return fit_binary(x, y, c, sample_weight=weights, scale=nb_ratio(x[keep], y[keep]))

        return pool, fit

    tox, choices["toxicity"] = select_binary(
        "toxicity",
        [
            ({"C": c, "vihsd_weight": w}, toxicity(c, w))
            for w in config.vihsd_toxicity_weights
            for c in grid["toxicity"]
        ],
        echo,
    )
    choices["toxicity"]["nb_alpha"] = NB_ALPHA
    coef[:, 0], intercept[0] = tox.model.coef, tox.model.intercept

    def constructive(c: float) -> tuple[Pool, Fit]:
        pool = Pool(ctsd_views, y_con, compute_sample_weight("balanced", y_con), ctsd_folds)
        return pool, lambda x, y, w: fit_binary(x, y, c, sample_weight=w)

    con, choices["constructive"] = select_binary(
        "constructive", [({"C": c}, constructive(c)) for c in grid["constructive"]], echo
    )
    coef[:, 1], intercept[1] = con.model.coef, con.model.intercept

    spam = splits["vispam/train"]
    labels = spam.column("SpamLabel")
    spam_pos = [t for t, label in zip(spam.texts, labels, strict=True) if label == 3]
    spam_neg = [t for t, label in zip(spam.texts, labels, strict=True) if label == 0]
    news = corpus.texts("victsd/train") + corpus.texts("vihsd/train")
    texts = spam_pos + spam_neg + news
    x_spam = matrix(texts + [strip_diacritics(t) for t in texts])
    y_spam = np.array(([1] * len(spam_pos) + [0] * (len(spam_neg) + len(news))) * 2)
    stacked = _stack((x_spam, y_spam, np.ones(len(y_spam))), _site_rows(site, "spam", matrix))
    assert stacked is not None
    x_spam, y_spam, w_spam = stacked
    # The text model's spam column is one input of the spam stage (``spam_training``), which is chosen
    # out of fold itself; this column keeps one C.
    model = fit_binary(x_spam, y_spam, grid["spam"][-1], sample_weight=w_spam, balanced=False)
    choices["spam"] = {"C": grid["spam"][-1]}
    coef[:, 2], intercept[2] = model.coef, model.intercept

    hate_pool = Pool(
        hsd_views,
        y_hate,
        np.ones(len(y_hate)),
        grouped_folds(hsd_texts, y_hate, k),
        _site_rows(site, "hate_speech", matrix),
    )
    best_hate: tuple[float, float, list[np.ndarray], np.ndarray, float] | None = None
    table = []
    for c in grid["hate"]:
        t0 = time.perf_counter()
        fit = _fit_hate(c)
        oof = hate_pool.out_of_fold(lambda x, y, w, fit=fit: fit(x, y, w).decision_function)
        bias, temp, score = tune_hate(oof, y_hate)
        table.append({"C": c, "cv_mean_macro_f1": round(score, 4)})
        echo(f"  hate_speech: C={c} {k}-fold mean macro-F1 {score:.4f} ({time.perf_counter() - t0:.0f}s)")
        if best_hate is None or score > best_hate[0]:
            best_hate = (score, c, oof, bias, temp)
    assert best_hate is not None
    score, c_hate, hate_oof, hate_bias, temp = best_hate
    hate = _fit_hate(c_hate)(*hate_pool.everything())
    choices["hate_speech"] = {
        "C": c_hate,
        "cv_mean_macro_f1_at_argmax": round(score, 4),
        "candidates": table,
        "bias": [round(float(b), 4) for b in hate_bias],
        "temperature": round(temp, 4),
    }
    # Served as softmax((z + bias) / T): fold T into the coefficients and the bias.
    coef[:, 3:6], intercept[3:6] = hate.coef_.T / temp, hate.intercept_ / temp
    hate_bias = hate_bias / temp
    x_hsd = augmented("vihsd/train")
    y_hate_train = np.array(splits["vihsd/train"].column("label_id") * 2)
    oof = OutOfFold(
        toxicity=tox.oof,
        constructive=con.oof,
        hate=[z / temp for z in hate_oof],
        y_toxicity=y_tox,
        y_constructive=y_con,
        y_hate=y_hate,
        victsd_dev=ctsd_dev,
        vihsd_dev=hsd_dev,
        victsd_texts=ctsd_texts,
    )

    if config.train_spans or base_spans is None:
        echo("training the span tagger (ViHOS), with out-of-fold hate probabilities")
        tagger, choices["spans"] = _train_spans(
            corpus,
            matrix,
            x_hsd,
            y_hate_train,
            _fit_hate(c_hate),
            hate,
            hate_bias,
            temp,
            echo,
            config.span_folds,
        )
    else:
        echo("keeping the span tagger of the model this one starts from")
        tagger, choices["spans"] = base_spans, {"kept_from_base_model": True, "gate": base_spans.gate}
    models = LinearModels(
        featurizer=featurizer,
        coef=coef,
        intercept=intercept,
        hate_bias=hate_bias,
        spans=tagger,
        teencode=dict(corpus.expander.table),
    )
    return Trained(models=models, choices=choices, seconds=time.perf_counter() - started, oof=oof)


def _train_spans(
    corpus: Corpus,
    matrix: Callable[[Sequence[str]], sp.csr_matrix],
    x_hsd: sp.csr_matrix,
    y_hate: np.ndarray,
    fit: Callable[[sp.csr_matrix, np.ndarray], LogisticRegression],
    served: LogisticRegression,
    hate_bias: np.ndarray,
    temp: float,
    echo: Callable[[str], None],
    folds: int = SPAN_FOLDS,
) -> tuple[Any, dict[str, Any]]:
    """Out-of-fold hate probabilities for ViHOS train, leak-free ones for ViHOS dev, then the tagger.

    Clean news (non-toxic ViCTSD comments) get the served model's probabilities: ViCTSD comments are
    not in ViHSD, so those are out of sample already.
    """
    train, dev = corpus.splits["vihos/train"], corpus.splits["vihos/dev"]

    def probs(model: LogisticRegression) -> Callable[[sp.csr_matrix], np.ndarray]:
        return lambda z: _softmax(np.asarray(model.decision_function(z)) / temp + hate_bias)

    def fit_probs(x: sp.csr_matrix, y: np.ndarray) -> Callable[[sp.csr_matrix], np.ndarray]:
        return probs(fit(x, y))

    def clean(split: str, stripped: bool) -> SpanData:
        data = corpus.splits[split]
        texts = [t for t, y in zip(data.texts, data.column("Toxicity"), strict=True) if y == 0]
        docs = doc_of(probs(served)(matrix(texts)))
        extra = doc_of(probs(served)(matrix([strip_diacritics(t) for t in texts]))) if stripped else []
        return SpanData(texts, [set() for _ in texts], docs, extra)

    t0 = time.perf_counter()
    stripped = [strip_diacritics(t) for t in train.texts]
    (train_probs,), (dev_probs,) = out_of_fold_probs(
        corpus.splits["vihsd/train"].texts,
        x_hsd,
        y_hate,
        fit_probs,
        targets=[(train.texts, [matrix(train.texts), matrix(stripped)])],
        held_out=[(dev.texts, [matrix(dev.texts)])],
        k=folds,
    )
    echo(f"  {folds} out-of-fold hate models ({time.perf_counter() - t0:.0f}s)")
    tagger, choices = train_span_tagger(
        SpanData(train.texts, train.spans(), doc_of(train_probs[0]), doc_of(train_probs[1])),
        SpanData(dev.texts, dev.spans(), doc_of(dev_probs[0])),
        clean("victsd/train", stripped=True),
        clean("victsd/dev", stripped=False),
        dict(corpus.expander.table),
        load_lexicon(),
        echo,
        clean_budget=SPAN_CLEAN_BUDGET,
    )
    return tagger, {**choices, "folds": folds}
