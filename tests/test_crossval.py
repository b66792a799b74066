"""Cross-validation over train + dev: folds keep copies together, and no row is scored by a model
that saw it."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from moderation.training.crossval import Pool, group_key, grouped_folds


def test_a_text_its_copies_and_its_stripped_form_share_a_group_key() -> None:
    assert group_key("Thằng này NGU  quá") == group_key("thang nay ngu qua")
    # NFD input (combining accents) gives the same key as NFC.
    assert group_key("Tho\u0302\u0300i") == group_key("Thồi")
    assert group_key("ngu") != group_key("ngủ gật")


def test_grouped_folds_keep_copies_together_and_stratify() -> None:
    texts = [f"bình luận số {i}" for i in range(200)]
    texts += [strip_copy for strip_copy in ("binh luan so 3", "BÌNH LUẬN SỐ 7")]
    y = np.array([i % 4 == 0 for i in range(200)] + [False, True], dtype=int)
    folds = grouped_folds(texts, y, k=5)
    assert folds[200] == folds[3] and folds[201] == folds[7]
    assert sorted(set(folds.tolist())) == [0, 1, 2, 3, 4]
    for fold in range(5):
        share = y[folds == fold].mean()
        assert 0.15 < share < 0.35  # a quarter positive in every fold


def test_out_of_fold_scores_come_from_models_that_never_saw_the_row() -> None:
    n = 40
    # Row i has a single feature column i: a "model" that remembers its training columns can tell
    # whether it saw a row.
    original = sp.identity(n, format="csr", dtype=np.float32)
    stripped = sp.identity(n, format="csr", dtype=np.float32) * 2
    extra_x = sp.csr_matrix(np.ones((3, n), dtype=np.float32))
    extra = (extra_x, np.ones(3, dtype=int), np.array([1.0, 0.0, 2.0]))
    folds = np.arange(n) % 4
    pool = Pool([original, stripped], np.arange(n) % 2, np.ones(n), folds, extra)
    seen_sizes = []

    def fit(x: sp.csr_matrix, y: np.ndarray, w: np.ndarray):
        seen_sizes.append(x.shape[0])
        assert (w > 0).all()  # zero-weight extra rows are dropped
        trained_on = np.flatnonzero(np.asarray(x[: len(y) - 2].sum(axis=0)).ravel() > 0)

        def predict(z: sp.csr_matrix) -> np.ndarray:
            rows = z.nonzero()[1]
            return np.isin(rows, trained_on).astype(float) + np.asarray(z.sum(axis=1)).ravel() * 10

        return predict

    out = pool.out_of_fold(fit)
    assert len(out) == 2
    # Every row of both views was scored by a model that never saw its column.
    assert np.allclose(out[0], 10.0) and np.allclose(out[1], 20.0)
    # Each fold trains on both views of the 30 other rows, plus the two extra rows with weight.
    assert seen_sizes == [2 * 30 + 2] * 4


def test_the_guard_holds_cross_validated_figures_to_a_tighter_tolerance_than_a_sites_held_out_set():
    from moderation.training.retrain import CROSS_VALIDATED_TOLERANCE, guard

    current = {
        "held_out": {"toxicity": {"n": 80, "macro_f1": 0.70}},
        "public_cv": {"hate_speech": 0.676},
        "public_dev": {"spans": 0.79},
    }
    drop = CROSS_VALIDATED_TOLERANCE + 0.006
    candidate = {
        "held_out": {"toxicity": {"n": 80, "macro_f1": 0.70 - drop}},
        "public_cv": {"hate_speech": 0.676 - drop},
        "public_dev": {"spans": 0.79 - drop},
    }
    loose = guard(current, candidate, tolerance=0.05)
    assert not loose.passed
    assert [r["metric"] for r in loose.regressions] == ["cross-validated hate_speech"]
    assert guard(current, current, tolerance=0.05).passed
    tight = guard(current, candidate, tolerance=0.01)
    assert len(tight.regressions) == 3
