"""What each model version a worker keeps loaded costs in memory (the registry keeps three).

Loads the installed default, then copies of it under other names through ``ModelRegistry`` as a
worker does when a site has its own model or a shadow, and prints the process's resident memory
after each.

    .venv/bin/python bench/bench_model_memory.py [--versions 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe  # noqa: E402


def rss_mib() -> float:
    with open("/proc/self/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--versions", type=int, default=3, help="versions loaded at once, default included")
    args = parser.parse_args()

    from moderation.scoring.registry import ModelRegistry
    from moderation.settings import DEFAULT_MODEL_DIR
    from moderation.training.simulate import install_copy

    store = Path(tempfile.mkdtemp(prefix="bench-models-"))
    names = [f"copy-{i}" for i in range(1, args.versions)]
    for name in names:
        install_copy(store, name)
    registry = ModelRegistry(DEFAULT_MODEL_DIR, store, capacity=args.versions)
    start = rss_mib()
    print(f"before any model: {start:.0f} MiB resident")
    previous = start
    for version in [None, *names]:
        analyzer = registry.get(version)
        analyzer.score(["Bài viết rất hay, cảm ơn tác giả."])
        now = rss_mib()
        print(f"{analyzer.model_version}: {now:.0f} MiB resident (+{now - previous:.0f} MiB)")
        previous = now
    print(f"{args.versions} versions loaded: {previous - start:.0f} MiB over the bare process")
    print(describe())


if __name__ == "__main__":
    main()
