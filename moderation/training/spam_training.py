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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from moderation.scoring.model import LinearModels
from moderation.scoring.rules import text_rules
from moderation.scoring.spam import KINDS, SpamSignals, SpamStage, read_lexicon
from moderation.text.normalize import fold
from moderation.text.prepare import prepare
from moderation.training.data import Split, strip_diacritics
from moderation.training.folds import fold_of
from moderation.training.intervals import share_interval

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
TRAIN_FILE = CORPUS_DIR / "news-spam-train.jsonl"
EVAL_FILE = CORPUS_DIR / "news-spam-eval.jsonl"
#: At most this share of clean news comments may be flagged as spam (the target is 1%).
FPR_BUDGET = 0.005
C_GRID = (0.1, 0.3, 1.0, 3.0)
FOLDS = 5
SEED = 0
_THRESHOLDS = np.round(np.arange(0.05, 0.995, 0.005), 3)


@dataclass(frozen=True)
class CorpusRow:
    text: str
    label: int
    kind: str | None


def read_corpus(path: Path) -> list[CorpusRow]:
    """Rows of a corpus file (JSON lines ``{"text", "label", "kind"}``); fails clearly on a bad line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
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


def stage_rows(splits: dict[str, Split], corpus: Sequence[CorpusRow]) -> StageRows:
    rows = StageRows()
    for row in corpus:
        rows.add(row.text, row.label, "corpus_spam" if row.label else "corpus_clean")
    spam = splits["vispam/dev"]
    for text, label in zip(spam.texts, spam.column("SpamLabel"), strict=True):
        if label in (0, 3):
            rows.add(text, int(label == 3), "vispam_spam" if label == 3 else "vispam_clean", stripped=False)
    for text in splits["victsd/dev"].texts:
        if not held_apart(text):
            rows.add(text, 0, "news")
    hsd = splits["vihsd/dev"]
    for text, label in zip(hsd.texts, hsd.column("label_id"), strict=True):
        if label == 0 and not held_apart(text):
            rows.add(text, 0, "news", stripped=False)
    return rows


def stage_features(
    models: LinearModels, texts: Sequence[str], stage: SpamStage, batch: int = 2048
) -> tuple[np.ndarray, list[SpamSignals]]:
    """The stage's feature vectors of ``texts``, through the serving path's own steps."""
    vectors: list[list[float]] = []
    signals: list[SpamSignals] = []
    for lo in range(0, len(texts), batch):
        prepared = [prepare(t, models.expander) for t in texts[lo : lo + batch]]
        logits = models.logits(models.features([p.features for p in prepared]))[:, 2]
        found = stage.signals(prepared, [text_rules(p.raw, p.canonical) for p in prepared])
        vectors += [s.vector(z) for s, z in zip(found, logits.tolist(), strict=True)]
        signals += found
    return np.array(vectors), signals


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> LogisticRegression:
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=SEED)
    return model.fit(x, y)


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
    for name in ("news", "corpus_clean", "vispam_clean"):
        hits = flagged[source == name]
        out[f"flagged_{name}"] = round(float(hits.mean()), 4)
        out[f"flagged_{name}_ci95"] = share_interval(hits)
    return out


def train_spam_stage(
    models: LinearModels,
    splits: dict[str, Split],
    echo: Callable[[str], None] = print,
    corpus_path: Path = TRAIN_FILE,
) -> tuple[SpamStage, float, dict[str, Any]]:
    """Fit the stage, choose C and the threshold out of fold; returns (stage, threshold, choices)."""
    corpus = read_corpus(corpus_path)
    rows = stage_rows(splits, corpus)
    probe = SpamStage(weights=np.zeros(1), bias=0.0, vocabulary=read_lexicon())
    x, _ = stage_features(models, rows.texts, probe)
    y = np.array(rows.y)
    negatives = np.array([s == "news" or s == "corpus_clean" for s in rows.source])
    echo(f"  spam stage: {len(y)} rows ({int(y.sum())} spam), {x.shape[1]} signals")
    splitter = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    folds = list(splitter.split(x, y, groups=np.array(rows.group)))
    source = np.array(rows.source)
    best: tuple[float, float, float, np.ndarray] | None = None
    for c in C_GRID:
        oof = np.zeros(len(y))
        for train, test in folds:
            oof[test] = _fit(x[train], y[train], c).predict_proba(x[test])[:, 1]
        t = _threshold(oof, negatives)
        recall = float(np.mean(oof[source == "corpus_spam"] >= t))
        echo(f"  spam stage: C={c} out-of-fold threshold {t:.3f}, corpus spam recall {recall:.4f}")
        if best is None or recall > best[0] + 1e-9:
            best = (recall, c, t, oof)
    assert best is not None
    _, c, threshold, oof = best
    final = _fit(x, y, c)
    stage = SpamStage(
        weights=final.coef_[0].astype(np.float64), bias=float(final.intercept_[0]), vocabulary=read_lexicon()
    )
    choices = {
        "C": c,
        "threshold": threshold,
        "fpr_budget": FPR_BUDGET,
        "folds": FOLDS,
        "rows": len(y),
        "corpus_rows": len(corpus),
        "cross_validated": _report(oof, threshold, rows),
    }
    return stage, threshold, choices
