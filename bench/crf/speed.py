"""Step 3: identity of the exported pure-Python CRF with crfsuite, and tagging speed on one core.

    speed.py MODEL.crfsuite FSET [marginal_threshold]

Checks on ViHOS dev, its diacritic-free copy and non-toxic ViCTSD dev: the features built from the
text equal training's, and crfsuite's labels (Viterbi, or marginal P(I) >= t) equal the exported
tagger's. Then times tagging only (tokens, features, scores, decoding, post-rules, merge; the
canonical / folded texts and the comment probabilities are given) for: the current tagger
(``SpanTagger.tag`` with the shipped weights), crfsuite (features in Python + ``Tagger.tag``), and
the exported pure-Python CRF. Best of 5 passes; one process, one core.
"""

from __future__ import annotations

import json
import os
import sys
import time

import pycrfsuite

from bench.crf.common import all_items, flatten, load_docs
from bench.crf.crf_exp import features
from bench.crf.crf_tagger import CrfSpanTagger, crfsuite_features, export
from moderation.scoring.spans import SpanTagger, lexicon_sets, merge, whole_phrases

REPEATS = 5


def best_rate(fn, inputs) -> float:
    best = None
    for _ in range(REPEATS):
        t = time.perf_counter()
        for args in inputs:
            fn(*args)
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return len(inputs) / best


def main(path: str, fset: str, marginal: float | None) -> None:
    d = load_docs()
    items = all_items(d)
    tc, lex = d["teencode"], tuple(d["lexicon"])
    singles, phrases = lexicon_sets(lex)
    ct = pycrfsuite.Tagger()
    ct.open(path)
    art = export(ct.info(), fset)
    py = CrfSpanTagger(art["weights"], art["bias"], art["extra"], art["transitions"], fset, lex, tc, marginal)
    report: dict = {
        "model": path,
        "fset": fset,
        "marginal_threshold": marginal,
        "n_state_weights": sum(len(v) for v in art["weights"].values())
        + sum(len(v) for v in art["extra"].values()),
        "transitions": art["transitions"],
        "labels": ct.labels(),
    }

    def crfsuite_marked(it_canonical, it_folded, doc):
        spans, x = crfsuite_features(it_canonical, it_folded, doc, tc, singles, phrases, fset)
        if not spans:
            return spans, []
        y = ct.tag(x)
        if marginal is None:
            return spans, [lab == "I" for lab in y]
        return spans, [ct.marginal("I", i) >= marginal for i in range(len(y))]

    for split in ("dev", "dev_stripped", "clean_dev"):
        its = flatten(items[split])
        feat_diff = label_diff = tok_total = 0
        for it in its:
            spans, x = crfsuite_features(it.canonical, it.folded, it.doc, tc, singles, phrases, fset)
            feat_diff += int(x != features(it, fset) or spans != it.spans)
            _, a = crfsuite_marked(it.canonical, it.folded, it.doc)
            _, b = py.marked(it.canonical, it.folded, it.doc)
            tok_total += len(a)
            label_diff += sum(p != q for p, q in zip(a, b, strict=True))
        report[f"identity_{split}"] = {
            "comments": len(its),
            "tokens": tok_total,
            "comments_with_other_features": feat_diff,
            "tokens_with_other_labels": label_diff,
        }
        print(split, report[f"identity_{split}"], flush=True)

    s = d["shipped_spans"]
    lr = SpanTagger(
        weights={f: dict(v) for f, v in s["weights"].items()},
        bias=s["bias"],
        threshold=s["threshold"],
        lexicon=lex,
        teencode=tc,
    )

    def crfsuite_tag(canonical, folded, doc):
        if not canonical:
            return []
        spans, marked = crfsuite_marked(canonical, folded, doc)
        if any(marked):
            marked = whole_phrases(spans, marked, canonical, folded)
        return merge([sp for sp, k in zip(spans, marked, strict=True) if k], canonical)

    for split in ("dev", "clean_dev"):
        inputs = [(it.canonical, it.folded, it.doc) for it in flatten(items[split])]
        tokens = sum(len(it.spans) for it in flatten(items[split]))
        same = sum(crfsuite_tag(*a) == py.tag(*a) for a in inputs)
        rates = {}
        for name, fn in (("current_lr", lr.tag), ("crfsuite", crfsuite_tag), ("python_crf", py.tag)):
            rates[name] = round(best_rate(fn, inputs))
        report[f"speed_{split}"] = {
            "comments": len(inputs),
            "tokens": tokens,
            "comments_per_s": rates,
            "identical_final_spans": f"{same}/{len(inputs)}",
        }
        print(split, report[f"speed_{split}"], flush=True)
    out = f"/tmp/crf/speed_{os.path.basename(path)}_{marginal}.json"
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    with open(out.replace(".json", ".artifact.json"), "w") as f:
        json.dump(art, f, ensure_ascii=False)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else None)
