"""Comment-level hate probabilities for the span experiment, computed once and cached.

Same protocol as ``moderation.training.train._train_spans``: the shipped featuriser and teencode table,
the shipped hate model's C / class biases / temperature; 4 fold hate models on ViHSD train (both
views) with the ViHOS dev comments left out of every fold, so ViHOS train comments get out-of-fold
probabilities and ViHOS dev comments get the mean of models that never saw them (leak-free). Clean
news (non-toxic ViCTSD) gets the served model's probabilities (ViCTSD is not in ViHSD).

Also: the served model's (leaky) probabilities of ViHOS dev, to reproduce the manifest's dev figure.

    PYTHONPATH=/work/wt-crf /work/main/.venv/bin/python bench/crf/prep_docs.py /tmp/crf/docs.pkl
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import pickle
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from moderation.scoring.analyzer import load_analyzer
from moderation.scoring.model import _softmax
from moderation.text.prepare import prepare
from moderation.training.config import SPAN_FOLDS
from moderation.training.data import load_all, strip_diacritics
from moderation.training.folds import out_of_fold_probs
from moderation.training.span_training import doc_of
from moderation.training.train import _fit_hate, load_lexicon

DATASETS = Path("/work/shared/datasets")


def main(out: Path) -> None:
    t0 = time.perf_counter()
    analyzer = load_analyzer()
    models = analyzer.models
    hate_choice = analyzer.manifest["choices"]["hate_speech"]
    c_hate, bias, temp = hate_choice["C"], np.array(hate_choice["bias"]), hate_choice["temperature"]
    splits = load_all(DATASETS)
    cache: dict[str, str] = {}

    def matrix(texts):
        feats = []
        for t in texts:
            f = cache.get(t)
            if f is None:
                f = cache[t] = prepare(t, models.expander).features
            feats.append(f)
        return models.featurizer.transform_texts(feats)

    def served(texts):
        return models.probabilities(models.logits(matrix(texts))).hate

    hsd = splits["vihsd/train"]
    x_hsd = sp.vstack([matrix(hsd.texts), matrix([strip_diacritics(t) for t in hsd.texts])]).tocsr()
    y_hsd = np.array(hsd.column("label_id") * 2)
    print(f"featurised ViHSD train {x_hsd.shape} ({time.perf_counter() - t0:.0f}s)", flush=True)
    fit = _fit_hate(c_hate)

    def fit_probs(x, y):
        t = time.perf_counter()
        model = fit(x, y)
        print(f"  fold model fitted ({time.perf_counter() - t:.0f}s)", flush=True)
        return lambda z: _softmax(np.asarray(model.decision_function(z)) / temp + bias / temp)

    train, dev = splits["vihos/train"], splits["vihos/dev"]
    stripped_train = [strip_diacritics(t) for t in train.texts]
    stripped_dev = [strip_diacritics(t) for t in dev.texts]
    (train_probs,), (dev_probs,) = out_of_fold_probs(
        hsd.texts,
        x_hsd,
        y_hsd,
        fit_probs,
        targets=[(train.texts, [matrix(train.texts), matrix(stripped_train)])],
        held_out=[(dev.texts, [matrix(dev.texts), matrix(stripped_dev)])],
        k=SPAN_FOLDS,
    )

    def clean(split):
        data = splits[split]
        texts = [t for t, y in zip(data.texts, data.column("Toxicity"), strict=True) if y == 0]
        return texts, doc_of(served(texts)), doc_of(served([strip_diacritics(t) for t in texts]))

    ctr, cdv = clean("victsd/train"), clean("victsd/dev")
    result = {
        "train": {
            "texts": train.texts,
            "golds": train.spans(),
            "docs": doc_of(train_probs[0]),
            "stripped_docs": doc_of(train_probs[1]),
        },
        "dev": {
            "texts": dev.texts,
            "golds": dev.spans(),
            "docs": doc_of(dev_probs[0]),
            "stripped_docs": doc_of(dev_probs[1]),
            "served_docs": doc_of(served(dev.texts)),
            "served_stripped_docs": doc_of(served(stripped_dev)),
        },
        "clean_train": {"texts": ctr[0], "docs": ctr[1], "stripped_docs": ctr[2]},
        "clean_dev": {"texts": cdv[0], "docs": cdv[1], "stripped_docs": cdv[2]},
        "teencode": dict(models.teencode),
        "lexicon": load_lexicon(),
        "shipped_spans": {
            "weights": models.spans.weights,
            "bias": models.spans.bias,
            "threshold": models.spans.threshold,
            "gate": models.spans.gate,
        },
    }
    out.write_bytes(pickle.dumps(result))
    print(f"wrote {out} ({time.perf_counter() - t0:.0f}s)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
