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


def machine_info(
    packages: tuple[str, ...] = ("scikit-learn", "numpy", "scipy", "rq", "redis", "SQLAlchemy"),
) -> dict[str, str]:
    memory = memory_gib()
    info = {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "ram": f"{memory:.1f} GiB" if memory else "unknown",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    for name in packages:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return info


def describe(packages: tuple[str, ...] | None = None) -> str:
    info = machine_info(packages) if packages is not None else machine_info()
    return "machine: " + ", ".join(f"{key} {value}" for key, value in info.items())


def speed_check() -> float:
    """Milliseconds of CPU for a fixed pure-Python workload (best of three).

    A shared virtual machine's speed drifts between runs (by a fifth, seen here); printed before
    and after a benchmark, it says whether two runs were made at the same speed.
    """
    import hashlib
    import time

    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        total = 0
        for i in range(200_000):
            total += len(hashlib.blake2b(str(i).encode(), digest_size=8).digest()) + (i * i) % 7
        best = min(best, time.process_time() - start)
    return best * 1000


def pin_to_one_core() -> str:
    """Run on one core when the OS allows it, so figures are per core."""
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned (no sched_setaffinity)"
