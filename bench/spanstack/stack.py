"""Stacking: a second-stage per-token LR over the first-stage (current LR) token logits.

    python -m bench.spanstack.stack scores   first-stage logits, nested (cached in /tmp/spanstack)
    python -m bench.spanstack.stack cv       second-stage CV on train -> results/cv.json
    python -m bench.spanstack.stack final    refit on all train, predict dev once -> results/final.json

First stage = the current tagger's fit (``bench.crf.common.fit_lr``: liblinear, C=1, clean weight
0.6) on ViHOS train + diacritic-free copies + non-toxic ViCTSD train (both views) as negatives.

Nested protocol. For each of the 3 outer CV folds of bench/crf (``cv_fold``), and once more for
"all" (outer train = all of train, held out = dev):
- first-stage logits of the outer-train comments are out-of-fold: 5 folds over comments
  (``fold_of("spanstack-oof:" + text, 5)``; a comment and its diacritic-free copy share a group,
  hence a fold; duplicate texts too), clean news split the same way;
- the held-out comments are scored by a first stage fitted on the whole outer train.
The second stage is fitted on the outer-train OOF logits (clean news weighted 0.6, as the first
stage) and applied to the held-out logits. Gate 0.2, WHOLE_PHRASES / BENIGN_PHRASES rules and merge
as in bench/crf. Selection: best CV char macro-F1 with CV clean rate <= 10% (held-out non-toxic
ViCTSD train).
"""

from __future__ import annotations

import json
import math
import pickle
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from bench.crf.common import all_items, cv_fold, fit_lr, flatten, gated, load_docs, lr_scores, post, score
from bench.spanstack.features import FSETS, features, is_nonword, known_phrases, links_of, names
from moderation.training.folds import fold_of

TMP = Path("/tmp/spanstack")
RESULTS = Path(__file__).parent / "results"
K_OOF = 5
CLEAN_WEIGHT = 0.6
CS = (0.1, 10.0)
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5)
BUDGET = 0.10
RUNS = ("0", "1", "2", "all")
T0 = time.perf_counter()


def log(*a) -> None:
    print(f"[{time.perf_counter() - T0:6.0f}s]", *a, flush=True)


def split_run(items, run: str):
    """(outer-train groups, outer-train clean groups, held-out items by split name)."""
    if run == "all":
        held = {k: flatten(items[k]) for k in ("dev", "dev_stripped", "clean_dev")}
        return items["train"], items["clean_train"], held
    k = int(run)
    folds = [cv_fold(g[0].text) for g in items["train"]]
    cfolds = [cv_fold(g[0].text) for g in items["clean_train"]]
    tr = [g for g, f in zip(items["train"], folds, strict=True) if f != k]
    ctr = [g for g, f in zip(items["clean_train"], cfolds, strict=True) if f != k]
    held = {
        "train_ho": [g[0] for g, f in zip(items["train"], folds, strict=True) if f == k],
        "clean_ho": [g[0] for g, f in zip(items["clean_train"], cfolds, strict=True) if f == k],
    }
    return tr, ctr, held


def oof_fold(group) -> int:
    return fold_of("spanstack-oof:" + group[0].text, K_OOF)


def scores(items) -> None:
    """First-stage logits: OOF on each run's outer train, full-outer-train fit on its held-out."""
    TMP.mkdir(exist_ok=True)
    for run in RUNS:
        path = TMP / f"logits_{run}.pkl"
        if path.exists():
            continue
        tr, ctr, held = split_run(items, run)
        oof: dict[int, list[float]] = {}
        of, cof = [oof_fold(g) for g in tr], [oof_fold(g) for g in ctr]
        for j in range(K_OOF):
            w, b = fit_lr(
                [g for g, f in zip(tr, of, strict=True) if f != j],
                [g for g, f in zip(ctr, cof, strict=True) if f != j],
                clean_weight=CLEAN_WEIGHT,
            )
            for groups, folds in ((tr, of), (ctr, cof)):
                for g, f in zip(groups, folds, strict=True):
                    if f == j:
                        for it in g:
                            oof[id(it)] = lr_scores(it, w, b)
            log(f"run {run}: inner fold {j} fitted")
        w, b = fit_lr(tr, ctr, clean_weight=CLEAN_WEIGHT)
        out = {
            "oof_train": [[oof[id(it)] for it in g] for g in tr],
            "oof_clean": [[oof[id(it)] for it in g] for g in ctr],
            "held": {k: [lr_scores(it, w, b) for it in v] for k, v in held.items()},
            "first": (w, b),
        }
        path.write_bytes(pickle.dumps(out))
        log(f"run {run}: outer fit done, wrote {path}")


def matrix(items_, logits, phrases, fset="link"):
    xs = []
    for it, s in zip(items_, logits, strict=True):
        if not it.spans:
            continue
        tokens = [it.canonical[a:b] for a, b in it.spans]
        folded = [it.folded[a:b] for a, b in it.spans]
        xs.append(features(s, it.marks, links_of(folded, phrases), is_nonword(tokens), it.doc, fset))
    return np.vstack(xs)


def second_training_set(tr, ctr, lg, phrases):
    pos_items = [it for g in tr for it in g]
    clean_items = [it for g in ctr for it in g]
    x1 = matrix(pos_items, [s for g in lg["oof_train"] for s in g], phrases)
    x2 = matrix(clean_items, [s for g in lg["oof_clean"] for s in g], phrases)
    y = np.array([y for it in pos_items for y in it.labels] + [y for it in clean_items for y in it.labels])
    w = np.concatenate([np.ones(len(x1)), np.full(len(x2), CLEAN_WEIGHT)])
    return np.vstack([x1, x2]), y, w


def fit_second(x, y, w, fset, c):
    m = len(names(fset))
    model = LogisticRegression(C=c, solver="lbfgs", max_iter=3000, random_state=0)
    # column 0 is the constant "bias" feature: fitted like any other (the intercept stays at 0)
    model.fit(x[:, :m], y, sample_weight=w)
    return model.coef_[0].copy(), float(model.intercept_[0])


def predict(items_, logits, phrases, fset, coef, intercept, threshold, rules=True):
    cut = math.log(threshold / (1 - threshold))
    out = []
    for it, s in zip(items_, logits, strict=True):
        if not it.spans:
            out.append(set())
            continue
        z = matrix([it], [s], phrases, fset) @ coef + intercept
        out.append(post(it, list(z >= cut), rules))
    return gated(items_, out)


def first_predict(items_, logits, threshold, rules=True):
    cut = math.log(threshold / (1 - threshold))
    return gated(
        items_, [post(it, [v >= cut for v in s], rules) for it, s in zip(items_, logits, strict=True)]
    )


def cv(items, d) -> None:
    phrases = known_phrases(d["lexicon"])
    gold_of = {id(g[0]): gold for g, gold in zip(items["train"], d["train"]["golds"], strict=True)}
    acc: dict = {}

    def add(key, ho, preds, cpreds):
        e = acc.setdefault(key, {"golds": [], "preds": [], "texts": [], "clean": []})
        e["golds"] += [gold_of[id(it)] for it in ho]
        e["preds"] += preds
        e["texts"] += [it.text for it in ho]
        e["clean"] += [bool(p) for p in cpreds]

    for run in ("0", "1", "2"):
        lg = pickle.loads((TMP / f"logits_{run}.pkl").read_bytes())
        tr, ctr, held = split_run(items, run)
        ho, cho = held["train_ho"], held["clean_ho"]
        hs, chs = lg["held"]["train_ho"], lg["held"]["clean_ho"]
        for th in THRESHOLDS:  # the first stage alone: the current LR under the same CV
            add(("first_stage", None, th), ho, first_predict(ho, hs, th), first_predict(cho, chs, th))
        x, y, w = second_training_set(tr, ctr, lg, phrases)
        log(f"run {run}: second-stage training set {x.shape}")
        for fset in FSETS:
            for c in CS:
                coef, icpt = fit_second(x, y, w, fset, c)
                for th in THRESHOLDS:
                    add(
                        (fset, c, th),
                        ho,
                        predict(ho, hs, phrases, fset, coef, icpt, th),
                        predict(cho, chs, phrases, fset, coef, icpt, th),
                    )
                log(f"run {run}: {fset} C={c} done")
    table = []
    for (fset, c, th), e in acc.items():
        table.append(
            {
                "model": fset,
                "C": c,
                "threshold": th,
                "cv_f1": round(score(e["golds"], e["preds"], e["texts"]), 4),
                "cv_clean_rate": round(float(np.mean(e["clean"])), 4),
                "n": len(e["golds"]),
            }
        )
        log(json.dumps(table[-1]))
    stacked = [t for t in table if t["model"] != "first_stage"]
    ok = [t for t in stacked if t["cv_clean_rate"] <= BUDGET] or stacked
    choice = max(ok, key=lambda t: t["cv_f1"])
    firsts = [t for t in table if t["model"] == "first_stage"]
    first_ok = [t for t in firsts if t["cv_clean_rate"] <= BUDGET] or firsts
    report = {
        "protocol": {
            "outer_folds": 3,
            "inner_oof_folds": K_OOF,
            "clean_weight": CLEAN_WEIGHT,
            "Cs": CS,
            "thresholds": THRESHOLDS,
            "fsets": FSETS,
            "budget": BUDGET,
        },
        "table": table,
        "choice": choice,
        "first_stage_choice": max(first_ok, key=lambda t: t["cv_f1"]),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cv.json").write_text(json.dumps(report, indent=1))
    log("choice", choice, "first stage", report["first_stage_choice"])


def final(items, d) -> None:
    phrases = known_phrases(d["lexicon"])
    choice = json.loads((RESULTS / "cv.json").read_text())["choice"]
    fset, c, th = choice["model"], choice["C"], choice["threshold"]
    lg = pickle.loads((TMP / "logits_all.pkl").read_bytes())
    tr, ctr, held = split_run(items, "all")
    x, y, w = second_training_set(tr, ctr, lg, phrases)
    coef, icpt = fit_second(x, y, w, fset, c)
    log(f"final second stage fitted on {x.shape}")
    preds: dict = {"current_lr": {}, "lr_cv_tuned": {}, "stacked": {}}
    for split, its in held.items():
        s = lg["held"][split]
        preds["current_lr"][split] = first_predict(its, s, 0.35)
        preds["lr_cv_tuned"][split] = first_predict(its, s, 0.4)
        preds["stacked"][split] = predict(its, s, phrases, fset, coef, icpt, th)
    golds, texts = d["dev"]["golds"], d["dev"]["texts"]
    report = {
        "choice": choice,
        "dev_f1": {k: round(score(golds, v["dev"], texts), 4) for k, v in preds.items()},
        "clean_rate": {
            k: round(float(np.mean([bool(p) for p in v["clean_dev"]])), 4) for k, v in preds.items()
        },
        "second_stage": dict(zip(names(fset), [round(float(v), 4) for v in coef], strict=True))
        | {"intercept": round(icpt, 4)},
    }
    (RESULTS / "final.json").write_text(json.dumps(report, indent=1))
    first_w, first_b = lg["first"]
    (TMP / "final.pkl").write_bytes(
        pickle.dumps(
            {
                "preds": preds,
                "model": {
                    "first_weights": first_w,
                    "first_bias": first_b,
                    "second_w": coef,
                    "second_b": icpt,
                    "fset": fset,
                    "threshold": th,
                },
            }
        )
    )
    log(json.dumps({k: v for k, v in report.items() if k != "second_stage"}))


def main(step: str) -> None:
    d = load_docs()
    items = all_items(d)
    log("items built")
    {"scores": scores, "cv": lambda i: cv(i, d), "final": lambda i: final(i, d)}[step](items)


if __name__ == "__main__":
    main(sys.argv[1])
