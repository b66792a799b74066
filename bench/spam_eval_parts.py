"""News spam stopped on each part of the evaluation file, by who wrote it and when.

Lines 1-517 of ``news-spam-eval.jsonl`` were written before 2026-12-06; lines 518-813 by a fifth
author on 2026-12-06 and lines 814-1109 by a sixth, both mostly offers with no contact way (see
``moderation/training/corpus/README.md``). Prints the share of each part's spam that the default
policy holds or rejects, with a 95% interval, for the shipped model or ``--model DIR``:

    .venv/bin/python bench/spam_eval_parts.py [--model moderation/models/VERSION]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from moderation.scoring import load_analyzer
from moderation.training.evaluate import stopped_by_policy
from moderation.training.intervals import share_interval
from moderation.training.spam_training import EVAL_FILE, read_corpus

#: (name, first line, last line) of each part, 1-based and inclusive.
PARTS = (("before 2026-12-06", 1, 517), ("fifth author", 518, 813), ("sixth author", 814, 1109))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a model version folder")
    analyzer = load_analyzer(parser.parse_args().model)
    print(f"model {analyzer.model_version}, {EVAL_FILE.name}")
    for name, first, last in PARTS:
        spam = [r.text for r in read_corpus(EVAL_FILE, lines=(first, last)) if r.label == 1]
        stopped = stopped_by_policy(analyzer.score(spam), analyzer.thresholds)
        lo, hi = share_interval(stopped)
        print(f"  {name}: {len(spam)} spam, stopped {sum(stopped) / len(spam):.1%} [{lo:.1%}, {hi:.1%}]")


if __name__ == "__main__":
    main()
