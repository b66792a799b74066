"""Step 2: a linear-chain CRF span tagger (python-crfsuite, L-BFGS), IO labels.

Features of a token: the current tagger's (u, f, x, l, r, lb, rb, bad) plus the comment-level bins
(docb, hateb) and a constant; feature set "pm2" adds the neighbours at distance 2 (l2, r2: folded
tokens) and the neighbours' lexicon marks (bl, br, bl2, br2); "pm2x" also crosses the lexicon
mark with the comment bins (bd, bh). Attributes seen fewer than 2 times in the training data are
dropped (the current tagger's min_count). Clean news (non-toxic ViCTSD train, both views) enters as
all-O sequences; crfsuite has no sample weights, so the current tagger's "clean weight" becomes
the share of clean comments included (a fixed random subset).

    crf_exp.py cv  GRID_NAME   3-fold CV on ViHOS train; appends rows to /tmp/crf/cv.jsonl
    crf_exp.py final c1 c2 fset clean_frac [decode]   fit on all train, predict dev once

Decoding is Viterbi ("viterbi"), or a threshold on the marginal P(I) ("m0.35"...); CV scores both.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import time
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pycrfsuite

from bench.crf.common import GATE, Item, all_items, cv_fold, flatten, gated, load_docs, post, score
from bench.crf.crf_tagger import crf_attributes

MODELS = "/tmp/crf/models"
BUDGET = 0.10
MARGINAL_THRESHOLDS = (0.3, 0.35, 0.4, 0.5)


def features(item: Item, fset: str) -> list[list[str]]:
    folded = [item.folded[a:b] for a, b in item.spans]
    return crf_attributes(item.keys, folded, item.marks, item.doc, fset)


def labels_of(item: Item) -> list[str]:
    return ["I" if y else "O" for y in item.labels]


def clean_subset(groups: Sequence, frac: float, seed: int = 0) -> list:
    if frac >= 1.0:
        return list(groups)
    rng = np.random.default_rng(seed)
    keep = rng.random(len(groups)) < frac
    return [g for g, k in zip(groups, keep, strict=True) if k]


def train(pos_groups, clean_groups, fset, c1, c2, clean_frac, path, max_iter=200, min_count=2) -> dict:
    t0 = time.perf_counter()
    seqs = [(features(it, fset), labels_of(it)) for g in pos_groups for it in g]
    seqs += [(features(it, fset), labels_of(it)) for g in clean_subset(clean_groups, clean_frac) for it in g]
    counts = Counter(a for x, _ in seqs for attrs in x for a in attrs)
    trainer = pycrfsuite.Trainer(verbose=False)
    for x, y in seqs:
        if not y:
            continue
        trainer.append([[a for a in attrs if counts[a] >= min_count] for attrs in x], y)
    trainer.set_params({"c1": c1, "c2": c2, "max_iterations": max_iter, "feature.possible_transitions": True})
    t1 = time.perf_counter()
    trainer.train(path)
    log = trainer.logparser
    return {
        "prep_s": round(t1 - t0, 1),
        "train_s": round(time.perf_counter() - t1, 1),
        "iterations": len(log.iterations),
        "sequences": len(seqs),
        "active_features": log.last_iteration.get("active_features") if log.last_iteration else None,
    }


def tag_all(path: str, items: Sequence[Item], fset: str, marginals: bool = False):
    """Viterbi labels, and (if asked) marginal P(I) per token, of each item."""
    tagger = pycrfsuite.Tagger()
    tagger.open(path)
    vit, marg = [], []
    for it in items:
        if not it.spans:
            vit.append([])
            marg.append([])
            continue
        y = tagger.tag(features(it, fset))
        vit.append(y)
        if marginals:
            marg.append([tagger.marginal("I", i) for i in range(len(y))])
    tagger.close()
    return vit, marg


def decode_preds(items, vit, marg, decode: str, rules: bool = True) -> list[set[int]]:
    out = []
    for it, y, m in zip(items, vit, marg or [None] * len(items), strict=True):
        if decode == "viterbi":
            marked = [lab == "I" for lab in y]
        else:
            t = float(decode[1:])
            marked = [p >= t for p in m]
        out.append(post(it, marked, rules) if it.spans else set())
    return gated(items, out)


GRIDS = {
    # stage 1: regularisation, at the pm2 features and the current tagger's clean weight
    "reg": [("pm2", c1, c2, 0.6) for c1 in (0.0, 0.05, 0.2, 1.0) for c2 in (0.01, 0.1, 1.0)],
    # stage 2 (after stage 1 showed L1 hurting: c1 = 0.05 below c1 = 0 at every c2; stopped there)
    "stage2": [
        ("pm2", 0.0, 0.3, 0.6),
        ("pm2", 0.0, 0.3, 0.3),
        ("pm2", 0.0, 0.3, 1.0),
        ("base", 0.0, 0.3, 0.6),
        ("pm2x", 0.0, 0.3, 0.6),
        ("pm2", 0.0, 0.3, 0.6, 600),
    ],
}


def cv(grid_name: str, extra: list | None = None) -> None:
    d = load_docs()
    items = all_items(d)
    os.makedirs(MODELS, exist_ok=True)
    gold_of = {id(g[0]): gold for g, gold in zip(items["train"], d["train"]["golds"], strict=True)}
    folds = np.array([cv_fold(g[0].text) for g in items["train"]])
    cfolds = np.array([cv_fold(g[0].text) for g in items["clean_train"]])
    grid = extra or GRIDS[grid_name]
    for row in grid:
        fset, c1, c2, frac = row[:4]
        max_iter = row[4] if len(row) > 4 else 200
        t0 = time.perf_counter()
        acc = {}
        infos = []
        for k in range(3):
            tr = [g for g, f in zip(items["train"], folds, strict=True) if f != k]
            ctr = [g for g, f in zip(items["clean_train"], cfolds, strict=True) if f != k]
            ho = [g[0] for g, f in zip(items["train"], folds, strict=True) if f == k]
            cho = [g[0] for g, f in zip(items["clean_train"], cfolds, strict=True) if f == k]
            path = f"{MODELS}/cv_{fset}_{c1}_{c2}_{frac}_{k}.crfsuite"
            infos.append(train(tr, ctr, fset, c1, c2, frac, path, max_iter=max_iter))
            vit, marg = tag_all(path, ho, fset, marginals=True)
            cvit, cmarg = tag_all(path, cho, fset, marginals=True)
            os.remove(path)
            for dec in ("viterbi", *[f"m{t}" for t in MARGINAL_THRESHOLDS]):
                e = acc.setdefault(dec, {"golds": [], "preds": [], "texts": [], "clean": []})
                e["golds"] += [gold_of[id(it)] for it in ho]
                e["preds"] += decode_preds(ho, vit, marg, dec)
                e["texts"] += [it.text for it in ho]
                e["clean"] += [bool(p) for p in decode_preds(cho, cvit, cmarg, dec)]
        for dec, e in acc.items():
            row = {
                "grid": grid_name,
                "max_iter": max_iter,
                "fset": fset,
                "c1": c1,
                "c2": c2,
                "clean_frac": frac,
                "decode": dec,
                "cv_f1": round(score(e["golds"], e["preds"], e["texts"]), 4),
                "cv_clean_rate": round(float(np.mean(e["clean"])), 4),
                "train_s": [i["train_s"] for i in infos],
                "iterations": [i["iterations"] for i in infos],
                "seconds": round(time.perf_counter() - t0),
            }
            print(json.dumps(row), flush=True)
            with open("/tmp/crf/cv.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")


def final(c1: float, c2: float, fset: str, frac: float, decode: str = "viterbi") -> None:
    d = load_docs()
    items = all_items(d)
    os.makedirs(MODELS, exist_ok=True)
    path = f"{MODELS}/final_{fset}_{c1}_{c2}_{frac}.crfsuite"
    info = train(items["train"], items["clean_train"], fset, c1, c2, frac, path)
    print("trained", info, flush=True)
    preds = {}
    for rules in (True, False):
        key = "crf" + ("" if rules else "_no_rules")
        preds[key] = {}
        for split in ("dev", "dev_stripped", "clean_dev"):
            its = flatten(items[split])
            vit, marg = tag_all(path, its, fset, marginals=decode != "viterbi")
            preds[key][split] = decode_preds(its, vit, marg, decode, rules)
    golds, texts = d["dev"]["golds"], d["dev"]["texts"]
    report = {
        "params": {"c1": c1, "c2": c2, "fset": fset, "clean_frac": frac, "decode": decode},
        "train": info,
        "dev_f1": round(score(golds, preds["crf"]["dev"], texts), 4),
        "dev_f1_no_rules": round(score(golds, preds["crf_no_rules"]["dev"], texts), 4),
        "clean_rate": round(float(np.mean([bool(p) for p in preds["crf"]["clean_dev"]])), 4),
        "gate": GATE,
        "model_path": path,
    }
    print(json.dumps(report, indent=1))
    with open(f"/tmp/crf/crf_preds_{fset}_{c1}_{c2}_{frac}_{decode}.pkl", "wb") as f:
        pickle.dump({"preds": preds, "report": report}, f)


if __name__ == "__main__":
    if sys.argv[1] == "cv":
        extra = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
        cv(sys.argv[2], extra)
    else:
        c1, c2, fset, frac = float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], float(sys.argv[5])
        final(c1, c2, fset, frac, sys.argv[6] if len(sys.argv) > 6 else "viterbi")
