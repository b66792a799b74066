"""Dev figures with 95% bootstrap intervals; paired differences (same resampled comments).

python -m bench.spanstack.compare   (after stack.py final) -> results/compare.json
"""

from __future__ import annotations

import json
import pickle

from bench.crf.common import bootstrap_ci, load_docs, share_ci
from bench.spanstack.stack import RESULTS, TMP
from moderation.training.data import strip_diacritics


def main() -> None:
    d = load_docs()
    golds, texts = d["dev"]["golds"], d["dev"]["texts"]
    keep = [i for i, t in enumerate(texts) if len(strip_diacritics(t)) == len(t)]
    s_golds = [golds[i] for i in keep]
    s_texts = [strip_diacritics(texts[i]) for i in keep]
    preds = pickle.loads((TMP / "final.pkl").read_bytes())["preds"]
    out = {}
    for base in ("current_lr", "lr_cv_tuned"):
        order = [base] + [k for k in preds if k != base]
        out[f"dev_vs_{base}"] = bootstrap_ci(golds, {k: preds[k]["dev"] for k in order}, texts)
        out[f"dev_stripped_vs_{base}"] = bootstrap_ci(
            s_golds, {k: preds[k]["dev_stripped"] for k in order}, s_texts
        )
    out["clean_news_rate"] = {k: share_ci([bool(x) for x in v["clean_dev"]]) for k, v in preds.items()}
    out["n"] = {"dev": len(golds), "dev_stripped": len(keep), "clean_dev": len(d["clean_dev"]["texts"])}
    print(json.dumps(out, indent=1))
    (RESULTS / "compare.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
