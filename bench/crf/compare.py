"""Step 2b: current tagger vs CRF on ViHOS dev, 95% paired bootstrap intervals over comments.

compare.py CRF_PREDS.pkl [more CRF_PREDS.pkl ...]   -> prints JSON, writes /tmp/crf/compare.json
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

from bench.crf.common import bootstrap_ci, load_docs, share_ci
from moderation.training.data import strip_diacritics


def main(paths: list[str]) -> None:
    d = load_docs()
    golds, texts = d["dev"]["golds"], d["dev"]["texts"]
    keep = [i for i, t in enumerate(texts) if len(strip_diacritics(t)) == len(t)]
    s_golds = [golds[i] for i in keep]
    s_texts = [strip_diacritics(texts[i]) for i in keep]
    lr = pickle.loads(Path("/tmp/crf/lr_preds.pkl").read_bytes())
    preds = {"lr_dev_tuned": lr["preds"]["lr_dev_tuned"], "lr_cv_tuned": lr["preds"]["lr_cv_tuned"]}
    for p in paths:
        c = pickle.loads(Path(p).read_bytes())
        r = c["report"]["params"]
        preds[f"crf[{r['fset']},c1={r['c1']},c2={r['c2']},clean={r['clean_frac']},{r['decode']}]"] = c[
            "preds"
        ]["crf"]
    out = {}
    for base in ("lr_dev_tuned", "lr_cv_tuned"):
        order = [base] + [k for k in preds if k != base]
        out[f"dev_vs_{base}"] = bootstrap_ci(golds, {k: preds[k]["dev"] for k in order}, texts)
        out[f"dev_stripped_vs_{base}"] = bootstrap_ci(
            s_golds, {k: preds[k]["dev_stripped"] for k in order}, s_texts
        )
    out["clean_news_rate"] = {k: share_ci([bool(x) for x in v["clean_dev"]]) for k, v in preds.items()}
    out["n"] = {"dev": len(golds), "dev_stripped": len(keep), "clean_dev": len(d["clean_dev"]["texts"])}
    print(json.dumps(out, indent=1))
    Path("/tmp/crf/compare.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
