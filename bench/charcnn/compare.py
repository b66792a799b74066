"""Shipped learner vs char-CNN vs their blend, out of fold, with nested selection and paired intervals.

Every decision parameter is chosen without the rows it scores (cross-fitting): for each outer fold f,
the blend weight w, the hate class biases (``tuning._BIAS_STEPS`` grid, as ``tune_hate``) or the binary
threshold (``tuning._GRID``, as ``best_threshold``) and the Platt scalings are chosen on the OOF scores of
the other four folds, by the project's criterion (mean macro-F1 over the texts as given and stripped),
then applied to fold f. The three systems get the same treatment:

* shipped: w = 1 (the refitted shipped learner alone);
* cnn: w = 0;
* blend: w in {0, 0.1, ..., 1} chosen per fold as above.

Hate speech blends log-probabilities (``w * logsoftmax(lr) + (1 - w) * logsoftmax(cnn)``) and predicts
``argmax(blend + bias)``; the binary attributes blend Platt-calibrated probabilities and threshold them
(toxicity also applies the shipped toxicity override at 0.99 with the served hate model, as served).
Intervals: ``intervals.bootstrap`` (1000 resamples, seed 0) over the pooled rows; differences are
paired (the same resampled rows for both systems).

    .venv/bin/python bench/charcnn/compare.py hate_speech [toxicity ...] [--variant big]

With ``--variant V`` the CNN is cnn_<attr>_V (cnn_oof.py's variant) and the report compare_<attr>_V.json.
"""

from __future__ import annotations

import json
import sys

import common
import numpy as np
from shipped_oof import shipped_hate_logits

from moderation.training.calibration import platt
from moderation.training.intervals import bootstrap, macro_f1
from moderation.training.tuning import _BIAS_STEPS, _GRID, not_clean_of

WEIGHTS = np.round(np.arange(0.0, 1.001, 0.1), 2)
SYSTEMS = {"shipped": np.array([1.0]), "cnn": np.array([0.0]), "blend": WEIGHTS}
BIASES = [np.array([0.0, a, b]) for a in _BIAS_STEPS for b in _BIAS_STEPS]


def _load(kind: str, name: str) -> list[np.ndarray]:
    data = np.load(common.CACHE / f"{kind}_{name}.npz")
    return [data["original"], data["stripped"]]


def _mean_f1(y: np.ndarray, preds: list[np.ndarray], k: int) -> float:
    return float(np.mean([common.fast_macro_f1(y, p, k) for p in preds]))


class Hate:
    def __init__(self, rows, ship, cnn_) -> None:
        self.y = rows.y
        self.ls = [common.log_softmax(z) for z in ship]
        self.lc = [common.log_softmax(z) for z in cnn_]

    def choose(self, sel: np.ndarray, weights: np.ndarray) -> tuple[float, dict]:
        best = (-1.0, {})
        y = self.y[sel]
        for w in weights:
            s = [w * a[sel] + (1 - w) * b[sel] for a, b in zip(self.ls, self.lc, strict=True)]
            for bias in BIASES:
                score = _mean_f1(y, [(z + bias).argmax(axis=1) for z in s], 3)
                if score > best[0] + 1e-12:
                    best = (score, {"w": float(w), "bias": bias.tolist()})
        return best

    def apply(self, rows_idx: np.ndarray, params: dict) -> list[np.ndarray]:
        w, bias = params["w"], np.array(params["bias"])
        return [
            (w * a[rows_idx] + (1 - w) * b[rows_idx] + bias).argmax(axis=1)
            for a, b in zip(self.ls, self.lc, strict=True)
        ]


class Binary:
    def __init__(self, rows, ship, cnn_, not_clean: list[np.ndarray] | None) -> None:
        self.y = rows.y
        self.ship, self.cnn = ship, cnn_
        self.not_clean = not_clean

    def _probs(self, sel: np.ndarray, idx: np.ndarray, w: float, ab: dict) -> list[np.ndarray]:
        out = []
        for v in range(len(self.ship)):
            ps = common.sigmoid(ab["ship"][0] * self.ship[v][idx] + ab["ship"][1])
            pc = common.sigmoid(ab["cnn"][0] * self.cnn[v][idx] + ab["cnn"][1])
            p = w * ps + (1 - w) * pc
            if self.not_clean is not None:  # the shipped toxicity override (0.99)
                nc = self.not_clean[v][idx]
                p = np.where(nc >= 0.99, np.maximum(p, nc), p)
            out.append(p)
        return out

    def choose(self, sel: np.ndarray, weights: np.ndarray) -> tuple[float, dict]:
        y = self.y[sel]
        yy = np.concatenate([y, y])
        ab = {
            "ship": platt(np.concatenate([z[sel] for z in self.ship]), yy),
            "cnn": platt(np.concatenate([z[sel] for z in self.cnn]), yy),
        }
        best = (-1.0, {})
        for w in weights:
            probs = self._probs(sel, sel, float(w), ab)
            for t in _GRID:
                score = _mean_f1(y, [(p >= t).astype(int) for p in probs], 2)
                if score > best[0] + 1e-12:
                    best = (score, {"w": float(w), "threshold": float(t), "platt": ab})
        return best

    def apply(self, idx: np.ndarray, params: dict) -> list[np.ndarray]:
        probs = self._probs(idx, idx, params["w"], params["platt"])
        return [(p >= params["threshold"]).astype(int) for p in probs]


def run(name: str, variant: str = "") -> dict:
    rows = common.load_rows(name)
    ship, cnn_ = _load("shipped", name), _load("cnn", f"{name}_{variant}" if variant else name)
    if name == "hate_speech":
        task = Hate(rows, ship, cnn_)
    else:
        not_clean = None
        if name == "toxicity":
            models = common.shipped_models()
            not_clean = [not_clean_of(models, z) for z in shipped_hate_logits(models, rows)]
        task = Binary(rows, ship, cnn_, not_clean)
    y, n = rows.y, len(rows.y)
    labels = np.unique(y)
    preds: dict[str, list[np.ndarray]] = {}
    chosen: dict[str, list] = {}
    for system, weights in SYSTEMS.items():
        out = [np.zeros(n, dtype=int), np.zeros(n, dtype=int)]
        chosen[system] = []
        for fold in range(common.K):
            test, sel = rows.folds == fold, rows.folds != fold
            score, params = task.choose(np.flatnonzero(sel), weights)
            for v, p in enumerate(task.apply(np.flatnonzero(test), params)):
                out[v][test] = p
            chosen[system].append(
                {
                    "fold": fold,
                    "selection_mean_macro_f1": round(score, 4),
                    **{k: v for k, v in params.items() if k != "platt"},
                }
            )
        preds[system] = out
        # chosen on every OOF row (the project's way; optimistic for the blend)
        score, params = task.choose(np.arange(n), weights)
        chosen[f"{system}_all_rows"] = {
            "selection_mean_macro_f1": round(score, 4),
            **{k: v for k, v in params.items() if k != "platt"},
            "macro_f1": [round(macro_f1(y, p, labels), 4) for p in task.apply(np.arange(n), params)],
        }

    def f1(pred: np.ndarray) -> float:
        return macro_f1(y, pred, labels)

    report: dict = {"attribute": name, "cnn_variant": variant, "n": n}
    report.update({"systems": {}, "differences": {}, "chosen": chosen})
    for v, view in enumerate(("original", "stripped")):
        for system, out in preds.items():
            p = out[v]
            report["systems"].setdefault(system, {})[view] = {
                "macro_f1": round(f1(p), 4),
                "ci95": bootstrap(lambda i, p=p: macro_f1(y[i], p[i], labels), n),
            }
        for system in ("blend", "cnn"):
            a, b = preds[system][v], preds["shipped"][v]
            report["differences"].setdefault(f"{system}_minus_shipped", {})[view] = {
                "diff": round(f1(a) - f1(b), 4),
                "ci95": bootstrap(
                    lambda i, a=a, b=b: macro_f1(y[i], a[i], labels) - macro_f1(y[i], b[i], labels), n
                ),
            }
    return report


def main(args: list[str]) -> None:
    variant = ""
    if "--variant" in args:
        i = args.index("--variant")
        variant, args = args[i + 1], args[:i] + args[i + 2 :]
    for name in args:
        report = run(name, variant)
        common.RESULTS.mkdir(parents=True, exist_ok=True)
        out = common.RESULTS / f"compare_{name}{'_' + variant if variant else ''}.json"
        out.write_text(json.dumps(report, indent=1) + "\n")
        summary = {k: report[k] for k in ("attribute", "systems", "differences")}
        print(json.dumps(summary, indent=1), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
