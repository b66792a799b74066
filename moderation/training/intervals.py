"""95% bootstrap intervals for the figures ``moderation train`` and ``moderation evaluate`` print.

A dev split of a few thousand comments moves by a point of macro-F1 when a few dozen comments
change sides; the interval says how far a figure can move by chance alone, so that a change inside
it is read as noise. Resampling is seeded: the same predictions give the same interval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

RESAMPLES = 1000
SEED = 0


def macro_f1(y: np.ndarray, pred: np.ndarray, labels: Sequence[int] | None = None) -> float:
    """Macro-F1 over ``labels`` (default: those present in y or pred), like scikit-learn's."""
    y, pred = np.asarray(y), np.asarray(pred)
    classes = np.unique(np.concatenate([y, pred])) if labels is None else np.asarray(labels)
    scores = []
    for c in classes:
        tp = np.sum((pred == c) & (y == c))
        fp = np.sum((pred == c) & (y != c))
        fn = np.sum((pred != c) & (y == c))
        denominator = 2 * tp + fp + fn
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores)) if scores else 0.0


def bootstrap(
    statistic: Callable[[np.ndarray], float], n: int, resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of ``statistic(indices)`` over resamples of ``range(n)``."""
    if n == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    values = [statistic(rng.integers(0, n, n)) for _ in range(resamples)]
    lo, hi = np.percentile(values, [2.5, 97.5])
    return (round(float(lo), 4), round(float(hi), 4))


def macro_f1_interval(y: Sequence[int], pred: Sequence[int]) -> tuple[float, float]:
    y_arr, pred_arr = np.asarray(y), np.asarray(pred)
    labels = np.unique(np.concatenate([y_arr, pred_arr]))
    return bootstrap(lambda i: macro_f1(y_arr[i], pred_arr[i], labels), len(y_arr))


def share_interval(hits: Sequence[bool]) -> tuple[float, float]:
    """Interval of a proportion (recall, false-positive rate...)."""
    arr = np.asarray(hits, dtype=float)
    return bootstrap(lambda i: float(arr[i].mean()), len(arr))
