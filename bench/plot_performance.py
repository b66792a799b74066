"""Chart of ``bench/bench_e2e.py --json`` results: latency over a burst, and throughput per stage.

.venv/bin/python bench/plot_performance.py results.json docs/performance.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot(results: dict, out: Path) -> None:
    reports = results["reports"]
    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(13, 5))
    for report in reports:
        series = report["burst"]["series"]
        latency.scatter(
            [t for t, _ in series], [ms for _, ms in series], s=4, alpha=0.5, label=report["database"]
        )
    latency.set_title(f"Burst of {reports[0]['burst']['requests']:,}: POST to decided, per comment")
    latency.set_xlabel("seconds since the first POST")
    latency.set_ylabel("milliseconds")
    latency.legend()
    latency.grid(alpha=0.3)

    names = ["posting (burst)", "decided (burst)", *reports[0]["stages"].keys()]
    width = 0.8 / len(reports)
    for index, report in enumerate(reports):
        values = [
            report["burst"]["posting_per_s"],
            report["burst"]["decided_per_s"],
            *report["stages"].values(),
        ]
        positions = [i + index * width for i in range(len(names))]
        throughput.barh(positions, values, height=width, label=report["database"])
    throughput.set_yticks([i + width * (len(reports) - 1) / 2 for i in range(len(names))], names)
    throughput.set_xscale("log")
    throughput.set_xlabel("comments per second (log scale)")
    throughput.set_title("Throughput, end to end and per stage")
    throughput.invert_yaxis()
    throughput.legend()
    throughput.grid(alpha=0.3, axis="x")
    figure.suptitle(results["machine"][:110], fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=110)


if __name__ == "__main__":
    plot(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
