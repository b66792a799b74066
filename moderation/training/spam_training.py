"""Training the news-spam stage, and the evaluation set it is measured on.

The stage (``moderation.scoring.spam``) is a logistic regression over a few dozen signals, one of
them the text model's spam logit. It learns from rows whose text-model logit is out of sample (the
text model never trained on them):

* the project's news-spam corpus, training part (``corpus/news-spam-train.jsonl``: spam of ten
  kinds and hard clean comments about money, loans, gambling; see ``corpus/README.md``), and its
  copies stripped of diacritics;
* ViSpamReviews dev (SpamLabel 3 against 0);
* half of the ViCTSD dev comments and half of the clean ViHSD dev comments (chosen by a hash of the
  text), as news negatives.

The other halves of ViCTSD and ViHSD dev and the corpus' evaluation part
(``corpus/news-spam-eval.jsonl``, written separately from the training part) are never trained
on: ``moderation evaluate`` measures spam on them. C and the threshold are chosen on out-of-fold
predictions (stratified k-fold, grouped so that a comment and its stripped copy, or two copies of
one text, stay in one fold): the lowest threshold at which at most ``FPR_BUDGET`` of the news
negatives are flagged, and the C with the best recall on the corpus' spam there.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from moderation.scoring.model import LinearModels
from moderation.scoring.rules import text_rules
from moderation.scoring.spam import FEATURES, KINDS, SpamStage, read_lexicon
from moderation.text.normalize import fold
from moderation.text.prepare import prepare
from moderation.training.config import SiteRows
from moderation.training.data import Split, strip_diacritics
from moderation.training.folds import fold_of
from moderation.training.intervals import share_interval

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
TRAIN_FILE = CORPUS_DIR / "news-spam-train.jsonl"
EVAL_FILE = CORPUS_DIR / "news-spam-eval.jsonl"
#: At most this share of clean news comments may be flagged as spam (the target is 1%).
FPR_BUDGET = 0.005
C_GRID = (4.0,)
FOLDS = 4
KIND_C = 10.0
SEED = 0
_THRESHOLDS = np.round(np.arange(0.05, 0.995, 0.005), 3)


@dataclass(frozen=True)
class CorpusRow:
    text: str
    label: int
    kind: str | None


def read_corpus(path: Path, lines: tuple[int, int] | None = None) -> list[CorpusRow]:
    """Rows of a corpus file (JSON lines ``{"text", "label", "kind"}``), or of its lines
    ``(first, last)`` only (1-based, inclusive: the parts the corpus README names); fails clearly on
    a bad line."""
    rows = []
    first, last = lines or (1, None)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or number < first or (last is not None and number > last):
            continue
        try:
            item = json.loads(line)
            row = CorpusRow(text=str(item["text"]), label=int(item["label"]), kind=item.get("kind"))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a corpus row ({exc})") from exc
        if row.label not in (0, 1) or (row.label == 1 and row.kind not in KINDS):
            raise ValueError(f"{path}:{number}: label must be 0 or 1 and a spam row needs a known kind")
        rows.append(row)
    return rows


def corpus_data() -> list[dict[str, Any]]:
    """The corpus files as the manifest lists its training data (rows and checksums)."""
    out = []
    for path, use in ((TRAIN_FILE, "train (spam stage)"), (EVAL_FILE, "evaluation only, never trained on")):
        if path.is_file():
            out.append(
                {
                    "file": f"moderation/training/corpus/{path.name}",
                    "corpus": "news spam corpus of this project (corpus/README.md)",
                    "use": use,
                    "rows": len(read_corpus(path)),
                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                }
            )
    return out


def held_apart(text: str) -> bool:
    """Whether a public dev comment is kept for evaluation (half of them, by a hash of the text)."""
    return fold_of(fold(text), 2) == 1


@dataclass
class StageRows:
    texts: list[str] = field(default_factory=list)
    y: list[int] = field(default_factory=list)
    #: "corpus_spam", "corpus_clean", "vispam_spam", "vispam_clean", "news"
    source: list[str] = field(default_factory=list)
    group: list[int] = field(default_factory=list)

    def add(self, text: str, y: int, source: str, stripped: bool = True) -> None:
        group = fold_of(fold(text), 1 << 30)
        for variant in {text, strip_diacritics(text)} if stripped else {text}:
            self.texts.append(variant)
            self.y.append(y)
            self.source.append(source)
            self.group.append(group)


def stage_rows(
    splits: dict[str, Split], corpus: Sequence[CorpusRow], site: SiteRows | None = None
) -> StageRows:
    rows = StageRows()
    if site is not None and site.count("spam"):
        # A newsroom's own spam decisions (``moderation retrain``): its standard, weighted like the corpus.
        texts, values = site.rows("spam")
        for text, value in zip(texts, values.tolist(), strict=True):
            rows.add(text, int(value), "site")
    for row in corpus:
        rows.add(row.text, row.label, "corpus_spam" if row.label else "corpus_clean")
    for key in ("vispam/train", "vispam/dev"):
        spam = splits[key]
        for text, label in zip(spam.texts, spam.column("SpamLabel"), strict=True):
            if label in (0, 3):
                name = "vispam_spam" if label == 3 else "vispam_clean"
                rows.add(text, int(label == 3), name, stripped=False)
    for text in splits["victsd/train"].texts:
        rows.add(text, 0, "news_train")
    for text in splits["victsd/dev"].texts:
        if not held_apart(text):
            rows.add(text, 0, "news")
    hsd = splits["vihsd/train"]
    for text, label in zip(hsd.texts, hsd.column("label_id"), strict=True):
        if label == 0:
            rows.add(text, 0, "news_train", stripped=False)
    hsd = splits["vihsd/dev"]
    for text, label in zip(hsd.texts, hsd.column("label_id"), strict=True):
        if label == 0 and not held_apart(text):
            rows.add(text, 0, "news", stripped=False)
    return rows


#: How much a row of each source weighs in the fit (the corpus is small but is what news spam is).
SOURCE_WEIGHTS = {
    "corpus_spam": 20.0,
    "corpus_clean": 20.0,
    "vispam_spam": 1.0,
    "vispam_clean": 1.0,
    "news": 1.0,
    "news_train": 1.0,
    "site": 20.0,
}


def stage_features(
    models: LinearModels, texts: Sequence[str], stage: SpamStage, batch: int = 4096
) -> tuple[sp.csr_matrix, np.ndarray]:
    """The hashed n-grams of ``texts`` and the stage's signal vectors, through the serving path's steps."""
    grams: list[sp.csr_matrix] = []
    vectors: list[list[float]] = []
    for lo in range(0, len(texts), batch):
        prepared = [prepare(t, models.expander) for t in texts[lo : lo + batch]]
        grams.append(models.features([p.features for p in prepared]))
        found = stage.signals(prepared, [text_rules(p.raw, p.canonical) for p in prepared])
        vectors += [s.vector(0.0) for s in found]
    return sp.vstack(grams).tocsr(), np.array(vectors)[:, 1:]


def _fit(x: sp.csr_matrix, y: np.ndarray, w: np.ndarray, c: float) -> LogisticRegression:
    model = LogisticRegression(C=c, max_iter=3000, random_state=SEED)
    return model.fit(x, y, sample_weight=w)


def _threshold(probs: np.ndarray, negatives: np.ndarray) -> float:
    """The lowest threshold flagging at most ``FPR_BUDGET`` of the news negatives."""
    for t in _THRESHOLDS:
        if np.mean(probs[negatives] >= t) <= FPR_BUDGET:
            return float(t)
    return float(_THRESHOLDS[-1])


def _report(probs: np.ndarray, threshold: float, rows: StageRows) -> dict[str, Any]:
    source = np.array(rows.source)
    flagged = probs >= threshold
    out: dict[str, Any] = {}
    for name in ("corpus_spam", "vispam_spam"):
        hits = flagged[source == name]
        out[f"recall_{name}"] = round(float(hits.mean()), 4)
        out[f"recall_{name}_ci95"] = share_interval(hits)
    for name in ("news", "news_train", "corpus_clean", "vispam_clean"):
        hits = flagged[source == name]
        out[f"flagged_{name}"] = round(float(hits.mean()), 4)
        out[f"flagged_{name}_ci95"] = share_interval(hits)
    return out


def train_spam_stage(
    models: LinearModels,
    splits: dict[str, Split],
    echo: Callable[[str], None] = print,
    corpus_path: Path = TRAIN_FILE,
    c_grid: Sequence[float] = C_GRID,
    folds: int = FOLDS,
    site: SiteRows | None = None,
) -> tuple[SpamStage, float, dict[str, Any]]:
    """Fit the spam model on n-grams and signals together; C and threshold out of fold.

    The n-gram weights replace the text model's spam column (``models.coef[:, 2]``), so serving
    stays one sparse product plus a few dozen signals. Returns (stage, threshold, choices).
    """
    corpus = read_corpus(corpus_path)
    rows = stage_rows(splits, corpus, site)
    vocabulary = read_lexicon()
    probe = SpamStage(weights=np.zeros(len(FEATURES)), bias=0.0, vocabulary=vocabulary)
    grams, signals = stage_features(models, rows.texts, probe)
    x = sp.hstack([grams, sp.csr_matrix(signals)]).tocsr()
    y = np.array(rows.y)
    source = np.array(rows.source)
    weights = np.array([SOURCE_WEIGHTS[s] for s in rows.source])
    weights[y == 1] *= (weights[y == 0].sum() / weights[y == 1].sum()) / 2
    negatives = np.isin(source, ("news", "news_train", "corpus_clean"))
    echo(f"  spam: {len(y)} rows ({int(y.sum())} spam), {grams.shape[1]} n-grams, {signals.shape[1]} signals")
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=SEED)
    split = list(splitter.split(np.zeros(len(y)), y, groups=np.array(rows.group)))
    best: tuple[float, float, float, np.ndarray] | None = None
    for c in c_grid:
        started = time.perf_counter()
        oof = np.zeros(len(y))
        for train, test in split:
            oof[test] = _fit(x[train], y[train], weights[train], c).predict_proba(x[test])[:, 1]
        t = _threshold(oof, negatives)
        recall = float(np.mean(oof[source == "corpus_spam"] >= t))
        echo(
            f"  spam: C={c} out-of-fold threshold {t:.3f}, corpus spam recall {recall:.4f} "
            f"({time.perf_counter() - started:.0f}s)"
        )
        if best is None or recall > best[0] + 1e-9:
            best = (recall, c, t, oof)
    assert best is not None
    _, c, threshold, oof = best
    final = _fit(x, y, weights, c)
    n_grams = grams.shape[1]
    models.coef[:, 2] = final.coef_[0][:n_grams].astype(np.float32)
    models.intercept[2] = 0.0
    columns, kind_coef, kind_bias, kind_cv = _fit_kinds(grams, signals, rows, corpus, echo)
    stage = SpamStage(
        weights=np.concatenate([[1.0], final.coef_[0][n_grams:]]),
        bias=float(final.intercept_[0]),
        vocabulary=vocabulary,
        kind_columns=columns,
        kind_coef=kind_coef,
        kind_bias=kind_bias,
    )
    choices = {
        "C": c,
        "threshold": threshold,
        "fpr_budget": FPR_BUDGET,
        "folds": folds,
        "rows": len(y),
        "corpus_rows": len(corpus),
        "source_weights": SOURCE_WEIGHTS,
        "cross_validated": _report(oof, threshold, rows),
        "kind_accuracy_cross_validated": kind_cv,
    }
    return stage, threshold, choices


def _fit_kinds(
    grams: sp.csr_matrix,
    signals: np.ndarray,
    rows: StageRows,
    corpus: Sequence[CorpusRow],
    echo: Callable[[str], None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A multinomial regression naming the kind, on the corpus' spam (and its stripped copies).

    Only n-gram columns seen in at least two spam comments are kept (a few thousand), so the
    weights stay small in the model files. Returns (columns, coef, bias, cross-validated accuracy).
    """
    kind_of = {r.text: r.kind for r in corpus if r.label == 1}
    kind_of.update({strip_diacritics(t): k for t, k in list(kind_of.items())})
    index = [i for i, s in enumerate(rows.source) if s == "corpus_spam"]
    y = np.array([KINDS.index(kind_of[rows.texts[i]]) for i in index])
    g = grams[index]
    columns = np.flatnonzero(np.asarray((g > 0).sum(axis=0)).ravel() >= 2)
    x = sp.hstack([g[:, columns], sp.csr_matrix(signals[index])]).tocsr()
    groups = np.array([rows.group[i] for i in index])
    pred = np.zeros(len(y), dtype=int)
    splitter = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for train, test in splitter.split(np.zeros(len(y)), y, groups=groups):
        model = LogisticRegression(C=KIND_C, max_iter=3000, random_state=SEED).fit(x[train], y[train])
        pred[test] = model.predict(x[test])
    accuracy = round(float(np.mean(pred == y)), 4)
    echo(f"  spam kinds: {len(columns)} n-gram columns, out-of-fold accuracy {accuracy:.4f}")
    model = LogisticRegression(C=KIND_C, max_iter=3000, random_state=SEED).fit(x, y)
    return columns, model.coef_.T.astype(np.float64), model.intercept_.astype(np.float64), accuracy
