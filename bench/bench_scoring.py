"""Benchmark of ``Analyzer.analyze`` (all attributes + spans + rules + default policy) on one core.

Usage: ``python bench/bench_scoring.py [--datasets DIR] [--model DIR] [--texts N] [--batch 256 --batch 1000]``

Pins the process to one CPU and to one BLAS/OpenMP thread (set before numpy is imported), loads the
shipped analyzer, and scores real dev comments of the four datasets (repeated up to ``--texts``).
Prints comments/s per batch size, load time, peak RSS and the machine it ran on.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import machine_info, peak_rss_mib, pin_to_one_core  # noqa: E402


def dev_texts(datasets: Path) -> list[str]:
    import csv

    columns = {"victsd": "Comment", "vihsd": "free_text", "vihos": "content", "vispam": "Comment"}
    texts: list[str] = []
    for name, column in columns.items():
        with (datasets / name / "dev.csv").open(encoding="utf-8", newline="") as handle:
            texts.extend(row.get(column) or "" for row in csv.DictReader(handle))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("MODERATION_DATASETS_DIR") or str(ROOT.parent / "shared" / "datasets")
    parser.add_argument("--datasets", type=Path, default=Path(default_data))
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--texts", type=int, default=8000, help="comments per measurement")
    parser.add_argument("--batch", type=int, action="append", help="batch size (repeatable)")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()
    batches = args.batch or [256, 1000]
    pinned = pin_to_one_core()

    from moderation.scoring import load_analyzer

    rss_before = peak_rss_mib()
    started = time.perf_counter()
    analyzer = load_analyzer(args.model)
    load_seconds = time.perf_counter() - started
    rss_loaded = peak_rss_mib()
    pool = dev_texts(args.datasets)
    texts = (pool * (args.texts // max(len(pool), 1) + 1))[: args.texts]
    mean_chars = sum(map(len, texts)) / max(len(texts), 1)
    analyzer.analyze(texts[:256])  # warm-up
    # The share that reaches the slower spam-kind model (the cascade's second stage).
    from moderation.scoring.analyzer import KIND_FROM

    kind_share = sum(s.spam >= KIND_FROM for s in analyzer.score(texts[:2000])) / min(len(texts), 2000)

    results = []
    for batch in batches:
        started = time.perf_counter()
        for i in range(0, len(texts), batch):
            analyzer.analyze(texts[i : i + batch])
        seconds = time.perf_counter() - started
        results.append(
            {
                "batch": batch,
                "comments": len(texts),
                "seconds": round(seconds, 3),
                "comments_per_s": round(len(texts) / seconds),
            }
        )

    info = machine_info()
    print(
        f"model {analyzer.model_version}, loaded in {load_seconds:.2f} s; {pinned}; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}"
    )
    print(
        f"texts: {len(texts)} real dev comments (ViCTSD, ViHSD, ViHOS, ViSpamReviews), "
        f"mean {mean_chars:.0f} chars"
    )
    print(f"share of comments reaching the spam-kind model (spam >= {KIND_FROM}): {kind_share:.2%}")
    for r in results:
        print(
            f"batch {r['batch']:>5}: {r['comments_per_s']:>7} comments/s "
            f"({r['comments']} in {r['seconds']} s)"
        )
    print(
        f"peak RSS: {peak_rss_mib():.0f} MB "
        f"(before loading {rss_before:.0f} MB, after loading {rss_loaded:.0f} MB)"
    )
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    if args.json:
        print(
            json.dumps(
                {
                    "results": results,
                    "load_seconds": round(load_seconds, 3),
                    "peak_rss_mb": round(peak_rss_mib()),
                    "machine": info,
                    "pinned": pinned,
                    "kind_model_share": round(kind_share, 4),
                }
            )
        )


if __name__ == "__main__":
    main()
