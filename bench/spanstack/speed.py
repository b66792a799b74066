"""Identity check of the two-stage tagger built from text, then tagging speed, interleaved as in
bench/crf/speed_interleaved.py (one process; each round times every tagger once, 7 rounds, best
round kept). Tagging only: canonical / folded texts and comment probabilities given; tokens,
features, both stages, post-rules and merge timed; ungated.

    python -m bench.spanstack.speed   (after stack.py final) -> results/speed.json
"""

from __future__ import annotations

import json
import pickle
import time

from bench.crf.common import GATE, all_items, flatten, load_docs
from bench.spanstack.features import StackedNbTagger, StackedSpanTagger
from bench.spanstack.stack import RESULTS, TMP
from moderation.scoring.spans import SpanTagger
from moderation.training.span_training import spans_to_chars

ROUNDS = 7


def main() -> None:
    d = load_docs()
    items = all_items(d)
    tc, lex = d["teencode"], tuple(d["lexicon"])
    final = pickle.loads((TMP / "final.pkl").read_bytes())
    m, preds = final["model"], final["preds"]
    stacked = StackedSpanTagger(
        m["first_weights"], m["first_bias"], m["second_w"], m["second_b"], m["fset"], m["threshold"], lex, tc
    )
    args = (m["first_weights"], m["first_bias"], m["second_w"], m["second_b"], m["fset"], m["threshold"])
    python = StackedNbTagger(*args, lex, tc) if m["fset"] == "nb" else None
    fam: dict = {}
    for key, v in m["first_weights"].items():
        f, k = key.split("=", 1)
        fam.setdefault(f, {})[k] = v
    refit = SpanTagger(weights=fam, bias=m["first_bias"], threshold=0.35, lexicon=lex, teencode=tc)
    s = d["shipped_spans"]
    shipped = SpanTagger(
        weights={f: dict(v) for f, v in s["weights"].items()},
        bias=s["bias"],
        threshold=s["threshold"],
        lexicon=lex,
        teencode=tc,
    )
    taggers = {"current_lr_shipped": shipped.tag, "current_lr_refit": refit.tag, "stacked": stacked.tag}
    checks = [("stacked", stacked.tag, "stacked"), ("current_lr_refit", refit.tag, "current_lr")]
    if python is not None:
        taggers["stacked_python"] = python.tag
        checks.append(("stacked_python", python.tag, "stacked"))

    report: dict = {"identity": {}}
    for split in ("dev", "dev_stripped", "clean_dev"):
        its = flatten(items[split])
        for name, tag, key in checks:
            got = []
            for it in its:
                chosen = tag(it.canonical, it.folded, it.doc) if it.doc[0] >= GATE else []
                got.append(spans_to_chars([it.mapping.to_original(a, b) for a, b in chosen]))
            same = sum(g == p for g, p in zip(got, preds[key][split], strict=True))
            report["identity"][f"{name}/{split}"] = f"{same}/{len(its)} comments identical"
    print(json.dumps(report["identity"], indent=1), flush=True)

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
    (RESULTS / "speed.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
