"""Out-of-fold scores over train and dev together, for choosing settings that hold on new comments.

A dev split of 2,000 comments moves a threshold by chance: two trainings of equal dev figures picked
hate thresholds 0.46 and 0.59. Here the train and dev rows of a dataset are pooled, cut into ``k``
stratified folds grouped by text (a comment, its copies and its accent-stripped form always fall in
the same fold), and every row is scored by a model fitted without its fold. C, weights, calibration
and thresholds are chosen on those scores; the shipped model is then refitted on all the rows.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import StratifiedGroupKFold

from moderation.training.data import strip_diacritics

SEED = 0

#: Fits on (x, y, sample weights) and returns a function from a feature matrix to scores
#: ((n,) logits for a binary model, (n x classes) for a multinomial one).
Fit = Callable[[sp.csr_matrix, np.ndarray, np.ndarray], Callable[[sp.csr_matrix], np.ndarray]]


def group_key(text: str) -> str:
    """The same key for a text, its Unicode variants, its case and its accent-stripped copy."""
    return " ".join(strip_diacritics(unicodedata.normalize("NFC", text)).lower().split())


def grouped_folds(texts: Sequence[str], y: np.ndarray, k: int, seed: int = SEED) -> np.ndarray:
    """The fold (0..k-1) of every row: stratified on ``y``, texts of one ``group_key`` together."""
    keys: dict[str, int] = {}
    groups = np.array([keys.setdefault(group_key(t), len(keys)) for t in texts])
    folds = np.zeros(len(texts), dtype=int)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    for fold, (_, test) in enumerate(splitter.split(np.zeros(len(texts)), y, groups=groups)):
        folds[test] = fold
    return folds


@dataclass
class Pool:
    """The pooled rows of one attribute: each view (texts as given, stripped) as a matrix.

    Training on a fold uses every view of its rows (the model learns from the stripped copies too);
    ``extra`` rows (other datasets, a site's labels) are added to every fold's training set and are
    never scored.
    """

    views: list[sp.csr_matrix]
    y: np.ndarray
    weights: np.ndarray
    folds: np.ndarray
    extra: tuple[sp.csr_matrix, np.ndarray, np.ndarray] | None = None

    def training_set(self, rows: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        """Every view of ``rows``, then the extra rows (zero-weight rows dropped: they cost time)."""
        xs = [view[rows] for view in self.views]
        ys = [self.y[rows]] * len(self.views)
        ws = [self.weights[rows]] * len(self.views)
        if self.extra is not None:
            x, y, w = self.extra
            keep = w > 0
            xs, ys, ws = xs + [x[keep]], ys + [y[keep]], ws + [w[keep]]
        return sp.vstack(xs).tocsr(), np.concatenate(ys), np.concatenate(ws)

    def everything(self) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        return self.training_set(np.arange(len(self.y)))

    def out_of_fold(self, fit: Fit) -> list[np.ndarray]:
        """Scores of every row, per view, each from the model fitted without the row's fold."""
        out: list[np.ndarray] = []
        for fold in np.unique(self.folds):
            test = np.flatnonzero(self.folds == fold)
            predict = fit(*self.training_set(np.flatnonzero(self.folds != fold)))
            for v, view in enumerate(self.views):
                scores = np.asarray(predict(view[test]))
                if len(out) <= v:
                    out.append(np.zeros((len(self.y), *scores.shape[1:])))
                out[v][test] = scores
        return out


@dataclass
class OutOfFold:
    """Out-of-fold scores of the pooled train and dev rows, for calibration, thresholds and figures.

    ``toxicity``/``constructive``: logits per view (as given, stripped) of ViCTSD train + dev;
    ``hate``: (n x 3) logits per view of ViHSD train + dev, scaled like the served ones (add
    ``models.hate_bias`` before the softmax). ``*_dev`` mark the rows that come from the dev split.
    """

    toxicity: list[np.ndarray]
    constructive: list[np.ndarray]
    hate: list[np.ndarray]
    y_toxicity: np.ndarray
    y_constructive: np.ndarray
    y_hate: np.ndarray
    victsd_dev: np.ndarray
    vihsd_dev: np.ndarray
    victsd_texts: list[str]
