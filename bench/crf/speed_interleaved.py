"""Step 3b: tagging speed, interleaved (the machine is shared: each round times every tagger once,
and the best round of each is kept). Tagging only: canonical / folded texts and comment
probabilities given; tokens, features, scores, decoding, post-rules and merge timed.

    speed_interleaved.py   (uses the two final models of crf_exp.py under /tmp/crf/models)
"""

from __future__ import annotations

import json
import time

import pycrfsuite

from bench.crf.common import all_items, flatten, load_docs
from bench.crf.crf_tagger import CrfSpanTagger, crfsuite_features, export
from moderation.scoring.spans import SpanTagger, lexicon_sets, merge, whole_phrases

ROUNDS = 7
MODELS = {
    "viterbi_pm2": ("/tmp/crf/models/final_pm2_0.0_0.1_0.6.crfsuite", "pm2", None),
    "marginal_base": ("/tmp/crf/models/final_base_0.0_0.3_0.6.crfsuite", "base", 0.3),
}

d = load_docs()
items = all_items(d)
tc, lex = d["teencode"], tuple(d["lexicon"])
singles, phrases = lexicon_sets(lex)
s = d["shipped_spans"]
taggers = {
    "current_lr": SpanTagger(
        weights={f: dict(v) for f, v in s["weights"].items()},
        bias=s["bias"],
        threshold=s["threshold"],
        lexicon=lex,
        teencode=tc,
    ).tag
}


def crfsuite_tagger(path, fset, marginal):
    ct = pycrfsuite.Tagger()
    ct.open(path)

    def tag(canonical, folded, doc):
        if not canonical:
            return []
        spans, x = crfsuite_features(canonical, folded, doc, tc, singles, phrases, fset)
        if not spans:
            return []
        y = ct.tag(x)
        marked = (
            [lab == "I" for lab in y]
            if marginal is None
            else [ct.marginal("I", i) >= marginal for i in range(len(y))]
        )
        if any(marked):
            marked = whole_phrases(spans, marked, canonical, folded)
        return merge([sp for sp, k in zip(spans, marked, strict=True) if k], canonical)

    return ct, tag


for name, (path, fset, marginal) in MODELS.items():
    ct, tag = crfsuite_tagger(path, fset, marginal)
    art = export(ct.info(), fset)
    taggers[f"crfsuite_{name}"] = tag
    taggers[f"python_{name}"] = CrfSpanTagger(
        art["weights"], art["bias"], art["extra"], art["transitions"], fset, lex, tc, marginal
    ).tag

report = {}
for split in ("dev", "clean_dev"):
    inputs = [(it.canonical, it.folded, it.doc) for it in flatten(items[split])]
    best = {k: None for k in taggers}
    for _ in range(ROUNDS):
        for k, fn in taggers.items():
            t = time.perf_counter()
            for a in inputs:
                fn(*a)
            dt = time.perf_counter() - t
            best[k] = dt if best[k] is None else min(best[k], dt)
    report[split] = {
        "comments": len(inputs),
        "tokens": sum(len(it.spans) for it in flatten(items[split])),
        "comments_per_s": {k: round(len(inputs) / v) for k, v in best.items()},
        "us_per_comment": {k: round(1e6 * v / len(inputs), 1) for k, v in best.items()},
    }
    print(split, json.dumps(report[split]), flush=True)
with open("/tmp/crf/speed_interleaved.json", "w") as f:
    json.dump(report, f, indent=1)
