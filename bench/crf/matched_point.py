"""Step 2c: the Viterbi CRF against the current tagger at a similar clean-news rate (threshold 0.5
instead of 0.35, same fit, same gate and post-rules): is the Viterbi CRF's lower figure only its
more cautious operating point? Descriptive (the threshold 0.5 is not chosen on anything)."""

import json
import pickle
from pathlib import Path

from bench.crf.common import all_items, bootstrap_ci, flatten, gated, load_docs, lr_predict, share_ci

d = load_docs()
items = all_items(d)
w, b, _ = pickle.loads(Path("/tmp/crf/lr_preds.pkl").read_bytes())["models"]["lr_dev_tuned"]
dev, cdev = flatten(items["dev"]), flatten(items["clean_dev"])
lr50 = gated(dev, lr_predict(dev, w, b, 0.5))
crf = pickle.loads(Path("/tmp/crf/crf_preds_pm2_0.0_0.1_0.6_viterbi.pkl").read_bytes())["preds"]["crf"]
out = bootstrap_ci(
    d["dev"]["golds"], {"lr_threshold_0.5": lr50, "crf_viterbi": crf["dev"]}, d["dev"]["texts"]
)
out["clean_rate_lr_threshold_0.5"] = share_ci([bool(p) for p in gated(cdev, lr_predict(cdev, w, b, 0.5))])
print(json.dumps(out, indent=1))
Path("/tmp/crf/matched_point.json").write_text(json.dumps(out, indent=1))
