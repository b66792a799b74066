"""The numpy char-CNN: identity with torch, scoring speed on one core, size of the weights.

Uses the exported weights of fold 0's model of each attribute given (written by cnn_oof.py). Identity:
the torch model rebuilt from the exported float32 arrays against the per-text and the batched numpy
forward, on both views of fold 0's held-out rows. Speed: the feature texts (``prepare`` is shared with
the shipped models and not timed) of the dev rows as given, 5 rounds, best kept, one thread.

    .venv/bin/python bench/charcnn/speed.py hate_speech [toxicity ...]   (or hate_speech_big: a variant)
"""

from __future__ import annotations

import io
import json
import sys
import time

import cnn
import common
import numpy as np
import torch


def best_rate(fn, texts, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def main(names: list[str]) -> None:
    torch.set_num_threads(1)
    path = common.RESULTS / "speed.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    for name in names:
        rows = common.load_rows(name.removesuffix("_big"))
        arrays = dict(np.load(common.CACHE / f"cnn_{name}_fold0_weights.npz"))
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        cnn.FILTERS = int(arrays["conv2_b"].shape[0])  # 128 for the "big" variant
        model, vocab = cnn.torch_from_arrays(arrays)
        net = cnn.NumpyCharCNN(arrays)
        test = np.flatnonzero(rows.folds == 0)
        texts = [view[i] for view in rows.features for i in test]
        zt = cnn.predict(model, cnn.encode(texts, vocab))
        zb = cnn.batched_logits(net, texts)
        z1 = net.logits(texts[:3000])
        dev = [rows.features[0][i] for i in np.flatnonzero(rows.dev)]
        report[name] = {
            "identity_texts": len(texts),
            "max_abs_diff_batched_vs_torch": float(np.abs(zb - zt).max()),
            "max_abs_diff_per_text_vs_torch": float(np.abs(z1 - zt[:3000]).max()),
            "parameters": int(sum(a.size for k, a in arrays.items() if k != "vocab_codepoints")),
            "weights_mb_float32_npz": round(buf.getbuffer().nbytes / 1e6, 3),
            "speed_texts": f"{name} dev rows, feature texts, mean {np.mean([len(t) for t in dev]):.0f} chars",
            "numpy_batched_comments_per_s": round(
                best_rate(lambda t, net=net: cnn.batched_logits(net, t), dev)
            ),
            "numpy_per_text_comments_per_s": round(best_rate(net.logits, dev[:1000])),
            "torch_comments_per_s": round(
                best_rate(lambda t, m=model, v=vocab: cnn.predict(m, cnn.encode(t, v)), dev)
            ),
        }
        assert report[name]["max_abs_diff_batched_vs_torch"] < 1e-5
        assert report[name]["max_abs_diff_per_text_vs_torch"] < 1e-5
        print(json.dumps(report[name]), flush=True)
        common.RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
