"""Out-of-fold char-CNN logits over the pooled rows of an attribute (the same 5 grouped folds).

Per outer fold: the training rows are cut once more by ``grouped_folds`` (10 groups, project seed);
one group is the early-stopping split, the other nine are trained on. Both views (as given, stripped)
of the training rows are trained on, as the shipped models are; both views of the held-out fold are
scored. The early-stopping split never includes a held-out row. Writes /tmp/charcnn/cnn_<attr>.npz,
the exported weights of each fold's model and results/cnn_<attr>.json.

    .venv/bin/python bench/charcnn/cnn_oof.py hate_speech [variant]

A variant (``VARIANTS``) changes a few settings of ``cnn`` and writes cnn_<attr>_<variant>.* instead.
"""

from __future__ import annotations

import json
import sys
import time

import cnn
import common
import numpy as np
import torch

from moderation.training.crossval import SEED, grouped_folds

INNER = 10
#: Tried after the first run: more filters, more patience, more epochs.
VARIANTS = {"big": {"FILTERS": 128, "PATIENCE": 2, "MAX_EPOCHS": 8}}


def main(name: str, variant: str = "") -> None:
    torch.set_num_threads(1)
    for key, value in VARIANTS.get(variant, {}).items():
        setattr(cnn, key, value)
    tag = f"{name}_{variant}" if variant else name
    rows = common.load_rows(name)
    n = len(rows.y)
    oof = [np.zeros((n, 3)) if rows.n_classes == 3 else np.zeros(n) for _ in rows.features]
    report: dict = {
        "attribute": name,
        "variant": variant,
        "folds": [],
        "config": {
            k: getattr(cnn, k)
            for k in (
                "MAX_CHARS",
                "MIN_COUNT",
                "EMBED",
                "WIDTHS",
                "FILTERS",
                "HIDDEN",
                "DROPOUT",
                "BATCH",
                "LR",
                "MAX_EPOCHS",
                "PATIENCE",
                "SEED",
            )
        },
    }
    started = time.perf_counter()
    for fold in range(common.K):
        test = np.flatnonzero(rows.folds == fold)
        train_rows = np.flatnonzero(rows.folds != fold)
        inner = grouped_folds([rows.texts[i] for i in train_rows], rows.y[train_rows], INNER, SEED)
        fit_rows, val_rows = train_rows[inner != 0], train_rows[inner == 0]

        def both(idx: np.ndarray) -> tuple[list[str], np.ndarray]:
            texts = [view[i] for view in rows.features for i in idx]
            return texts, np.concatenate([rows.y[idx]] * len(rows.features))

        print(
            f"{name} fold {fold}: {2 * len(fit_rows)} training texts, {2 * len(val_rows)} early-stop",
            flush=True,
        )
        trained = cnn.train(*both(fit_rows), *both(val_rows), rows.n_classes)
        for v, view in enumerate(rows.features):
            oof[v][test] = cnn.predict(trained.model, cnn.encode([view[i] for i in test], trained.vocab))
        common.save_npz(common.CACHE / f"cnn_{tag}_fold{fold}_weights.npz", **cnn.export(trained))
        report["folds"].append(
            {
                "fold": fold,
                "epochs_run": trained.epochs,
                "best_epoch": trained.best_epoch,
                "val_losses": trained.val_losses,
                "seconds": round(trained.seconds, 1),
                "vocab": len(trained.vocab),
                "n_train_texts": 2 * len(fit_rows),
            }
        )
        print(json.dumps(report["folds"][-1]), flush=True)
    report["seconds"] = round(time.perf_counter() - started, 1)
    common.save_npz(common.CACHE / f"cnn_{tag}.npz", original=oof[0], stripped=oof[1])
    common.RESULTS.mkdir(parents=True, exist_ok=True)
    (common.RESULTS / f"cnn_{tag}.json").write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
