"""Retrain only the spam stage of the shipped models on another training corpus, and measure it.

Used on 2026-12-06 to ask whether moving the fifth author's evaluation rows (lines 518-813 of
``news-spam-eval.jsonl``) into the training corpus helps on the rows nobody trained on (the sixth
author's, lines 814-1109); see ``moderation/training/corpus/README.md``. The other models stay as
shipped; the stage is fitted by ``spam_training.train_spam_stage`` exactly as ``moderation train``
fits it (about 2 minutes on one core)::

    .venv/bin/python bench/spam_stage_trial.py --move 518-813 --measure 814-1109
    .venv/bin/python bench/spam_stage_trial.py --measure 814-1109          # the shipped stage
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from moderation.scoring.analyzer import Analyzer
from moderation.scoring.artifact import read_manifest, resolve_version_dir
from moderation.scoring.model import LinearModels
from moderation.settings import DEFAULT_MODEL_DIR
from moderation.training.data import default_datasets_dir, load_all
from moderation.training.evaluate import news_spam
from moderation.training.spam_training import EVAL_FILE, TRAIN_FILE, read_corpus, train_spam_stage

SHOWN = (
    "spam",
    "clean",
    "spam_stopped",
    "spam_stopped_ci95",
    "spam_stopped_stripped",
    "corpus_clean_flagged",
)


def line_range(spec: str) -> tuple[int, int]:
    """``FIRST-LAST`` (1-based, inclusive) as a pair."""
    try:
        first, last = (int(n) for n in spec.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{spec!r} is not FIRST-LAST, e.g. 518-813") from None
    if not 1 <= first <= last:
        raise argparse.ArgumentTypeError(f"{spec!r}: need 1 <= FIRST <= LAST")
    return first, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--move", type=line_range, help="evaluation lines FIRST-LAST to add to the training corpus"
    )
    parser.add_argument(
        "--measure", type=line_range, required=True, help="evaluation lines FIRST-LAST to measure on"
    )
    parser.add_argument("--datasets", type=Path, default=default_datasets_dir())
    args = parser.parse_args()
    directory = resolve_version_dir(DEFAULT_MODEL_DIR)
    models, manifest = LinearModels.load(directory), read_manifest(directory)
    splits = load_all(args.datasets)
    if args.move:
        first, last = args.move
        moved = EVAL_FILE.read_text(encoding="utf-8").splitlines(keepends=True)[first - 1 : last]
        corpus = Path(tempfile.mkdtemp(prefix="spam-trial-")) / "train.jsonl"
        corpus.write_text(TRAIN_FILE.read_text(encoding="utf-8") + "".join(moved), encoding="utf-8")
        stage, threshold, _ = train_spam_stage(models, splits, corpus_path=corpus)
        models.spam_stage, manifest["thresholds"]["spam"] = stage, threshold
    rows = read_corpus(EVAL_FILE, lines=args.measure)
    result = news_spam(Analyzer(models, manifest), splits, rows=rows)
    label = "stage retrained with lines {}-{}".format(*args.move) if args.move else "shipped stage"
    print(f"model {manifest['version']}, {label}, measured on lines {args.measure[0]}-{args.measure[1]}:")
    print(json.dumps({k: result[k] for k in SHOWN}, indent=1))


if __name__ == "__main__":
    main()
