"""Out-of-fold hate-speech probabilities, for features that must not see memorised comments.

The span tagger reads the hate model's P(not clean) and P(hate) of the whole comment. Most ViHOS
comments (87% of train, 85% of dev) are also ViHSD train comments, so the served hate model has
memorised them. Training the tagger on in-sample probabilities would teach it to trust them more
than it should on new comments, and tuning its threshold on them would hide the leak. Here the
ViHSD train rows are split into ``k`` folds by a stable hash of the text (the same text always
lands in the same fold, whichever split it comes from); a comment scored "out of fold" is scored by
the model that was trained without its fold. Comments of a ``held_out`` set (ViHOS dev) are left out
of every fold model and scored by the mean of all of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

#: Fits a 3-class model on (x, y) and returns a function from a feature matrix to (n x 3) probabilities.
FitHate = Callable[[sp.csr_matrix, np.ndarray], Callable[[sp.csr_matrix], np.ndarray]]


def fold_of(text: str, k: int) -> int:
    """A fold number that depends only on the text (stable across processes and runs)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=4).digest(), "little") % k


def out_of_fold_probs(
    train_texts: Sequence[str],
    x_train: sp.csr_matrix,
    y_train: np.ndarray,
    fit: FitHate,
    targets: Sequence[tuple[Sequence[str], Sequence[sp.csr_matrix]]],
    held_out: Sequence[tuple[Sequence[str], Sequence[sp.csr_matrix]]],
    k: int = 4,
) -> tuple[list[list[np.ndarray]], list[list[np.ndarray]]]:
    """Probabilities of ``targets`` out of fold and of ``held_out`` from models that never saw them.

    ``x_train`` / ``y_train`` may hold several copies of the ``train_texts`` rows stacked (for
    example the texts and their diacritic-free copies): row ``i`` belongs to ``train_texts[i % n]``.
    Each target or held-out entry is (texts, [matrix of a view of those texts, ...]); the result has
    one (len(texts) x 3) array per view.
    """
    n = len(train_texts)
    excluded = {t for texts, _ in held_out for t in texts}
    folds = np.array([-1 if t in excluded else fold_of(t, k) for t in train_texts])
    row_folds = folds[np.arange(x_train.shape[0]) % n]
    target_folds = [np.array([fold_of(t, k) for t in texts]) for texts, _ in targets]
    out_targets = [[np.zeros((len(texts), 3)) for _ in views] for texts, views in targets]
    out_held = [[np.zeros((len(texts), 3)) for _ in views] for texts, views in held_out]
    for fold in range(k):
        keep = (row_folds != fold) & (row_folds >= 0)
        predict = fit(x_train[keep], y_train[keep])
        for (_, views), mine, out in zip(targets, target_folds, out_targets, strict=True):
            rows = np.flatnonzero(mine == fold)
            for view, arr in zip(views, out, strict=True):
                if len(rows):
                    arr[rows] = predict(view[rows])
        for (_, views), out in zip(held_out, out_held, strict=True):
            for view, arr in zip(views, out, strict=True):
                arr += predict(view) / k
    return out_targets, out_held
