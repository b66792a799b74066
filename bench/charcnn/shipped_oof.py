"""Out-of-fold scores of the shipped learners, refitted per fold with the project's own code.

For each attribute, the pool (both views, every view of a fold's training rows trained on) and the fit
are those of ``train.train_models`` at the shipped choices (manifest ``choices``): hate speech
multinomial LR C=2 (``train._fit_hate``), toxicity NB-weighted LR C=1 with ViHSD weight 0 (the extra
rows then all weigh 0 and ``Pool.training_set`` drops them), constructive LR C=0.5, class-balanced
sample weights. Features: the shipped model's featuriser (fitted on train texts only, no labels).

The shipped figure is then reproduced the project's way (``tune_hate``; Platt + toxicity override +
``best_threshold``), on all OOF rows, and compared with ``manifest.json`` (results/shipped_repro.json).

    .venv/bin/python bench/charcnn/shipped_oof.py [attribute ...]
"""

from __future__ import annotations

import json
import sys
import time

import common
import numpy as np
from sklearn.utils.class_weight import compute_sample_weight

from moderation.training.calibration import platt
from moderation.training.crossval import Pool
from moderation.training.intervals import macro_f1, macro_f1_interval
from moderation.training.train import _fit_hate, fit_binary, nb_ratio
from moderation.training.tuning import best_threshold, not_clean_of, tune_hate

CHOICES = {"hate_speech": 2.0, "toxicity": 1.0, "constructive": 0.5}


def oof_of(name: str, models) -> list[np.ndarray]:
    rows = common.load_rows(name, models)
    views = [models.features(f) for f in rows.features]
    c = CHOICES[name]
    if name == "hate_speech":
        pool = Pool(views, rows.y, np.ones(len(rows.y)), rows.folds)
        fit = _fit_hate(c)
        return pool.out_of_fold(lambda x, y, w: fit(x, y, w).decision_function)
    pool = Pool(views, rows.y, compute_sample_weight("balanced", rows.y), rows.folds)
    if name == "toxicity":

        def fit_tox(x, y, w):
            keep = w > 0
            return fit_binary(x, y, c, sample_weight=w, scale=nb_ratio(x[keep], y[keep]))

        return pool.out_of_fold(fit_tox)
    return pool.out_of_fold(lambda x, y, w: fit_binary(x, y, c, sample_weight=w))


def shipped_hate_logits(models, rows) -> list[np.ndarray]:
    """The served hate logits of the ViCTSD rows (for the toxicity override; never saw ViCTSD)."""
    return [models.logits(models.features(f))[:, 3:6] for f in rows.features]


def reproduce(name: str, oof: list[np.ndarray], models) -> dict:
    """The manifest's cross-validated figure, recomputed the project's way on these OOF scores."""
    rows = common.load_rows(name, models)
    y = rows.y
    if name == "hate_speech":
        bias, temp, _ = tune_hate(oof, y)
        preds = [(z + bias).argmax(axis=1) for z in oof]
        extra = {"bias": bias.tolist(), "temperature": temp}
    else:
        a, b = platt(np.concatenate(oof), np.concatenate([y] * len(oof)))
        probs = [common.sigmoid(a * z + b) for z in oof]
        if name == "toxicity":
            override = models.toxicity_override  # 0.99, the shipped choice
            for v, hz in enumerate(shipped_hate_logits(models, rows)):
                nc = not_clean_of(models, hz)
                probs[v] = np.where(nc >= override, np.maximum(probs[v], nc), probs[v])
        t = best_threshold(probs, y)
        preds = [(p >= t).astype(int) for p in probs]
        extra = {"platt": [a, b], "threshold": t}
    manifest = json.loads((common.SHIPPED / "manifest.json").read_text())["choices"]["cross_validated"][name]
    out = {"attribute": name, **extra}
    for suffix, pred in zip(("", "_stripped"), preds, strict=True):
        out[f"macro_f1{suffix}"] = round(macro_f1(y, pred), 4)
        out[f"macro_f1{suffix}_ci95"] = macro_f1_interval(y, pred)
        out[f"manifest_macro_f1{suffix}"] = manifest[f"macro_f1{suffix}"]
        out[f"manifest_macro_f1{suffix}_ci95"] = manifest[f"macro_f1{suffix}_ci95"]
    return out


def main(names: list[str]) -> None:
    models = common.shipped_models()
    report_path = common.RESULTS / "shipped_repro.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    for name in names:
        started = time.perf_counter()
        oof = oof_of(name, models)
        common.save_npz(common.CACHE / f"shipped_{name}.npz", original=oof[0], stripped=oof[1])
        report[name] = {**reproduce(name, oof, models), "seconds": round(time.perf_counter() - started, 1)}
        print(json.dumps(report[name]), flush=True)
        common.RESULTS.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:] or list(common.ATTRIBUTES))
