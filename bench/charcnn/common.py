"""Shared pieces of the char-CNN experiment (see bench/charcnn/README.md).

The pooled rows, views and folds of each attribute are built exactly as ``train.train_models`` builds
them (train + dev of one dataset, the texts as given and stripped of diacritics, ``grouped_folds`` with
k=5 and the project's seed). The feature texts are ``prepare(text, expander).features`` with the
shipped model's teencode table: what the shipped models read.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from moderation.scoring.model import LinearModels
from moderation.text.prepare import prepare
from moderation.training.config import FULL, subset, without_texts
from moderation.training.crossval import grouped_folds
from moderation.training.data import load_all, strip_diacritics

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent.parent
RESULTS = ROOT / "results"
CACHE = Path(os.environ.get("CHARCNN_CACHE", "/tmp/charcnn"))
DATASETS = Path(os.environ.get("MODERATION_DATASETS_DIR", str(REPO.parent / "shared" / "datasets")))
SHIPPED = REPO / "moderation" / "models" / "2026.12.2"
K = FULL.cv_folds  # 5
# One core for BLAS/OpenMP (the other is the lead's); torch is limited in the scripts that use it.
threadpool_limits(1)
ATTRIBUTES = ("hate_speech", "toxicity", "constructive")


@dataclass
class Rows:
    """The pooled rows of one attribute."""

    name: str
    texts: list[str]  # raw texts, train then dev
    features: list[list[str]]  # per view (as given, stripped): the feature texts
    y: np.ndarray
    folds: np.ndarray
    dev: np.ndarray  # True for rows from the dev split
    n_classes: int


def shipped_models() -> LinearModels:
    return LinearModels.load(SHIPPED)


def load_rows(name: str, models: LinearModels | None = None) -> Rows:
    """Pooled train + dev rows of ``name``, as in ``train.train_models`` (cached in CACHE)."""
    cache = CACHE / f"rows_{name}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    models = models or shipped_models()
    splits = without_texts(subset(load_all(DATASETS), FULL.max_train_rows), ())
    if name == "hate_speech":
        tr, dv = splits["vihsd/train"], splits["vihsd/dev"]
        y = np.array(tr.column("label_id") + dv.column("label_id"))
        texts = tr.texts + dv.texts
        folds = grouped_folds(texts, y, K)
        n_classes = 3
    else:
        tr, dv = splits["victsd/train"], splits["victsd/dev"]
        texts = tr.texts + dv.texts
        y_tox = np.array(tr.column("Toxicity") + dv.column("Toxicity"))
        y_con = np.array(tr.column("Constructiveness") + dv.column("Constructiveness"))
        folds = grouped_folds(texts, 2 * y_tox + y_con, K)  # the folds train.py uses for both
        y = y_tox if name == "toxicity" else y_con
        n_classes = 2
    dev = np.arange(len(texts)) >= len(tr.texts)
    features = [
        [prepare(t, models.expander).features for t in view]
        for view in (texts, [strip_diacritics(t) for t in texts])
    ]
    rows = Rows(name, texts, features, y, folds, dev, n_classes)
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(rows))
    return rows


def fast_macro_f1(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """Macro-F1 over the classes present in y or pred (equal to sklearn's f1_score(average="macro"))."""
    cm = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    den = 2 * tp + fp + fn
    present = den > 0
    return float(np.mean(2 * tp[present] / den[present]))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
