"""Making scores mean something: Platt scaling and temperature, folded into the linear models.

Class-balanced logistic regressions rank well, but their probabilities are inflated for the rare
class (a toxicity of 0.6 was not "60% toxic"). A one-dimensional logistic fit on the dev logits
(Platt) maps them to calibrated probabilities; since it is ``a * z + b`` of a linear score, it is
folded into the coefficient column and the intercept: serving costs nothing. The hate-speech model
gets a temperature (one divisor for all three logits), which keeps its argmax, and so its tuned
class biases, unchanged. ``expected_calibration_error`` measures the result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.linear_model import LogisticRegression


def platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) such that sigmoid(a * z + b) is calibrated on (logits, y)."""
    model = LogisticRegression(C=1e4, max_iter=1000).fit(logits.reshape(-1, 1), y)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """T minimising the negative log-likelihood of softmax(logits / T) on (logits, y)."""

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(y)), y].mean())

    return float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)


def expected_calibration_error(probs: np.ndarray, y: Sequence[int], bins: int = 10) -> float:
    """Mean |accuracy - confidence| over equal-width probability bins, weighted by bin size."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(y, dtype=np.float64)
    which = np.minimum((probs * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(labels[mask].mean() - probs[mask].mean())
    return float(error)
