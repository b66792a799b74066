"""Step 1: the current per-token logistic-regression tagger under the leak-free protocol.

(a) The training protocol of ``span_training.train_span_tagger`` redone on the cached leak-free
    probabilities: clean weight x threshold x gate chosen on ViHOS dev (no post-rules, as there);
    should land on the manifest's 0.7767 at clean weight 0.6, threshold 0.35, gate 0.2.
(b) The shipped tagger's own weights on the same leak-free dev probabilities, with and without the
    post-rules, and on the served model's (leaky) probabilities: the manifest's 0.7893.
(c) A variant with clean weight and threshold chosen by 3-fold CV on ViHOS train (gate fixed at
    0.2, clean budget measured on held-out folds of non-toxic ViCTSD train), so that its dev
    figure is held out like the CRF's.

Writes /tmp/crf/lr_preds.pkl (dev predictions for the comparison).
"""

from __future__ import annotations

import json
import pickle
import sys
import time

import numpy as np

from bench.crf.common import (
    GATE,
    all_items,
    cv_fold,
    fit_lr,
    flatten,
    gated,
    load_docs,
    lr_predict,
    score,
)
from moderation.scoring.spans import SpanTagger

CLEAN_WEIGHTS = (0.3, 0.6)
THRESHOLDS = (0.3, 0.35, 0.4, 0.5)
GATES = (0.2, 0.3, 0.4, 0.5)
BUDGET = 0.10


def rate(items, preds, gate=GATE):
    return float(np.mean([bool(p) and it.doc[0] >= gate for it, p in zip(items, preds, strict=True)]))


def main() -> None:
    t0 = time.perf_counter()
    d = load_docs()
    items = all_items(d)
    dev, cdev = flatten(items["dev"]), flatten(items["clean_dev"])
    golds = d["dev"]["golds"]
    texts = d["dev"]["texts"]
    report: dict = {}

    # (a) the shipped selection protocol, on dev
    best = None
    models = {}
    for cw in CLEAN_WEIGHTS:
        w, b = fit_lr(items["train"], items["clean_train"], clean_weight=cw)
        models[cw] = (w, b)
        for th in THRESHOLDS:
            p = lr_predict(dev, w, b, th, rules=False)
            pc = lr_predict(cdev, w, b, th, rules=False)
            for g in GATES:
                f1 = score(golds, gated(dev, p, g), texts)
                r = rate(cdev, pc, g)
                print(f"(a) clean weight {cw} threshold {th} gate {g}: dev {f1:.4f} clean {r:.1%}")
                if r <= BUDGET and (best is None or f1 > best[0]):
                    best = (f1, cw, th, g, r)
    report["a_dev_tuned_protocol"] = dict(
        zip(("dev_f1_no_rules", "clean_weight", "threshold", "gate", "clean_rate"), best, strict=True)
    )
    print("(a) chosen", report["a_dev_tuned_protocol"], f"({time.perf_counter() - t0:.0f}s)", flush=True)
    _, cw, th, g, _ = best
    w, b = models[cw]

    # (b) the shipped weights
    s = d["shipped_spans"]
    shipped = SpanTagger(weights={f: dict(v) for f, v in s["weights"].items()}, bias=s["bias"])
    flat = {f"{fam}={k}": v for fam, kv in s["weights"].items() for k, v in kv.items()}
    served_dev = flatten(items["dev_served"])
    for name, its in (("leak_free_docs", dev), ("served_docs", served_dev)):
        for rules in (False, True):
            p = gated(its, lr_predict(its, flat, s["bias"], s["threshold"], rules), s["gate"])
            report[f"b_shipped_weights_{name}_{'rules' if rules else 'no_rules'}"] = round(
                score(golds, p, texts), 4
            )
    print("(b)", {k: v for k, v in report.items() if k.startswith("b_")}, flush=True)
    del shipped

    # (c) clean weight and threshold by 3-fold CV on train
    folds = np.array([cv_fold(g[0].text) for g in items["train"]])
    cfolds = np.array([cv_fold(g[0].text) for g in items["clean_train"]])
    cv = {}
    for k in range(3):
        tr = [g for g, f in zip(items["train"], folds, strict=True) if f != k]
        ctr = [g for g, f in zip(items["clean_train"], cfolds, strict=True) if f != k]
        ho = [g[0] for g, f in zip(items["train"], folds, strict=True) if f == k]
        cho = [g[0] for g, f in zip(items["clean_train"], cfolds, strict=True) if f == k]
        for cwk in CLEAN_WEIGHTS:
            wk, bk = fit_lr(tr, ctr, clean_weight=cwk)
            for thk in THRESHOLDS:
                p = gated(ho, lr_predict(ho, wk, bk, thk))
                pc = gated(cho, lr_predict(cho, wk, bk, thk))
                e = cv.setdefault((cwk, thk), {"items": [], "preds": [], "texts": [], "clean": []})
                e["preds"] += p
                e["texts"] += [it.text for it in ho]
                e["items"] += ho
                e["clean"] += [bool(x) for x in pc]
        print(f"(c) fold {k} done ({time.perf_counter() - t0:.0f}s)", flush=True)
    gold_of = {id(g[0]): gold for g, gold in zip(items["train"], d["train"]["golds"], strict=True)}
    table = []
    for (cwk, thk), e in cv.items():
        f1 = score([gold_of[id(it)] for it in e["items"]], e["preds"], e["texts"])
        r = float(np.mean(e["clean"]))
        table.append(
            {"clean_weight": cwk, "threshold": thk, "cv_f1": round(f1, 4), "cv_clean_rate": round(r, 4)}
        )
        print(f"(c) clean weight {cwk} threshold {thk}: 3-fold CV char macro-F1 {f1:.4f}, clean {r:.1%}")
    ok = [t for t in table if t["cv_clean_rate"] <= BUDGET] or table
    choice = max(ok, key=lambda t: t["cv_f1"])
    report["c_cv_table"] = table
    report["c_cv_choice"] = choice
    w_c, b_c = models[choice["clean_weight"]]

    preds = {}
    for name, (ww, bb, tt) in {
        "lr_dev_tuned": (w, b, th),
        "lr_cv_tuned": (w_c, b_c, choice["threshold"]),
    }.items():
        for rules in (False, True):
            key = name + ("" if rules else "_no_rules")
            preds[key] = {
                "dev": gated(dev, lr_predict(dev, ww, bb, tt, rules)),
                "dev_stripped": gated(
                    flatten(items["dev_stripped"]),
                    lr_predict(flatten(items["dev_stripped"]), ww, bb, tt, rules),
                ),
                "clean_dev": gated(cdev, lr_predict(cdev, ww, bb, tt, rules)),
            }
            report[key] = {
                "dev_f1": round(score(golds, preds[key]["dev"], texts), 4),
                "clean_rate": round(float(np.mean([bool(p) for p in preds[key]["clean_dev"]])), 4),
            }
    print(json.dumps(report, indent=1, default=str))
    with open("/tmp/crf/lr_preds.pkl", "wb") as f:
        pickle.dump(
            {
                "preds": preds,
                "report": report,
                "models": {"lr_dev_tuned": (w, b, th), "lr_cv_tuned": (w_c, b_c, choice["threshold"])},
            },
            f,
        )
    print(f"done ({time.perf_counter() - t0:.0f}s)")


if __name__ == "__main__":
    sys.exit(main())
