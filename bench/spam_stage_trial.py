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
import os
import tempfile
from pathlib import Path

import moderation.training.evaluate as evaluate
from moderation.scoring.analyzer import Analyzer
from moderation.scoring.artifact import read_manifest, resolve_version_dir
from moderation.scoring.model import LinearModels
from moderation.settings import DEFAULT_MODEL_DIR
from moderation.training.data import load_all
from moderation.training.spam_training import EVAL_FILE, TRAIN_FILE, train_spam_stage

REPO = Path(__file__).resolve().parent.parent
SHOWN = (
    "spam",
    "clean",
    "spam_stopped",
    "spam_stopped_ci95",
    "spam_stopped_stripped",
    "corpus_clean_flagged",
)


def _lines(spec: str, rows: list[str]) -> list[str]:
    first, last = (int(n) for n in spec.split("-"))
    return rows[first - 1 : last]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--move", help="evaluation lines FIRST-LAST to add to the training corpus")
    parser.add_argument("--measure", required=True, help="evaluation lines FIRST-LAST to measure on")
    default_data = os.environ.get("MODERATION_DATASETS_DIR") or str(REPO.parent / "shared" / "datasets")
    parser.add_argument("--datasets", type=Path, default=Path(default_data))
    args = parser.parse_args()
    directory = resolve_version_dir(DEFAULT_MODEL_DIR)
    models, manifest = LinearModels.load(directory), read_manifest(directory)
    splits = load_all(args.datasets)
    evaluation = EVAL_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
    work = Path(tempfile.mkdtemp(prefix="spam-trial-"))
    if args.move:
        corpus = work / "train.jsonl"
        corpus.write_text(TRAIN_FILE.read_text(encoding="utf-8") + "".join(_lines(args.move, evaluation)))
        stage, threshold, _ = train_spam_stage(models, splits, corpus_path=corpus)
        models.spam_stage, manifest["thresholds"]["spam"] = stage, threshold
    measured = work / "measure.jsonl"
    measured.write_text("".join(_lines(args.measure, evaluation)), encoding="utf-8")
    evaluate.EVAL_FILE = measured
    result = evaluate.news_spam(Analyzer(models, manifest), splits)
    label = f"stage retrained with lines {args.move}" if args.move else "shipped stage"
    print(f"model {manifest['version']}, {label}, measured on lines {args.measure}:")
    print(json.dumps({k: result[k] for k in SHOWN}, indent=1))


if __name__ == "__main__":
    main()
