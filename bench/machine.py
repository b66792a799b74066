"""What a benchmark ran on, printed with its figures so they can be compared and rerun."""

from __future__ import annotations

import os
import platform
import resource
import sys
from importlib import metadata


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def peak_rss_mib() -> float:
    """Peak resident memory of this process (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def describe(
    packages: tuple[str, ...] = ("scikit-learn", "numpy", "scipy", "rq", "redis", "SQLAlchemy"),
) -> str:
    memory = memory_gib()
    versions = []
    for name in packages:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    lines = [
        f"machine: {cpu_model()}, {os.cpu_count()} cores"
        + (f", {memory:.1f} GiB RAM" if memory else "")
        + f", {platform.system()} {platform.release()}",
        f"python: {platform.python_version()}; " + ", ".join(versions),
    ]
    return "\n".join(lines)


def pin_to_one_core() -> str:
    """Run on one core when the OS allows it, so figures are per core."""
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned (no sched_setaffinity)"
