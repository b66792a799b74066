"""News spam stopped on each part of the evaluation file: the rows before 2026-12-06 and those added then.

The rows added on 2026-12-06 (a fifth author's, mostly offers with no contact way) follow the first
517 lines of ``news-spam-eval.jsonl``. Prints the share of their spam that the default policy holds
or rejects, with a 95% interval, for the shipped model or ``--model DIR``:

    .venv/bin/python bench/spam_eval_parts.py [--model moderation/models/VERSION]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from moderation.scoring import Policy, apply_policy, load_analyzer
from moderation.training.intervals import share_interval
from moderation.training.spam_training import EVAL_FILE, read_corpus

FIRST_PART = 517


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a model version folder")
    analyzer = load_analyzer(parser.parse_args().model)
    rows = read_corpus(EVAL_FILE)
    parts = {"before 2026-12-06": rows[:FIRST_PART], "added 2026-12-06": rows[FIRST_PART:]}
    print(f"model {analyzer.model_version}, {EVAL_FILE.name}")
    for name, part in parts.items():
        spam = [r.text for r in part if r.label == 1]
        stopped = [
            apply_policy(s, Policy(), analyzer.thresholds)[0] != "publish" for s in analyzer.score(spam)
        ]
        lo, hi = share_interval(stopped)
        print(f"  {name}: {len(spam)} spam, stopped {sum(stopped) / len(spam):.1%} [{lo:.1%}, {hi:.1%}]")


if __name__ == "__main__":
    main()
