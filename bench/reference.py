"""Run ``bench/reference_app.py`` under ``moderation up``'s gunicorn settings and measure the CPU
its web processes spend per request in the same burst as the real service's."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _group_cpu_seconds(group: int) -> float:
    """CPU time of every process in a process group (gunicorn's master leads its own)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == group:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def reference_cpu_ms(
    database_url: str | None, texts: Path, workdir: Path, web: int, count: int, connections: int,
    load: Callable[..., list[dict[str, Any]]],
) -> dict[str, float]:  # fmt: skip
    """CPU ms per request of the reference app's web processes over a burst of ``count`` posts."""
    from moderation.settings import Settings
    from moderation.supervisor import EmbeddedRedis, free_port, web_argv

    port = free_port()
    redis_server = EmbeddedRedis(Path(tempfile.mkdtemp(dir=workdir, prefix="reference-redis-")))
    redis_server.start()
    url = database_url or f"sqlite:///{workdir / f'reference-{port}.db'}"
    settings = Settings(port=port, web_processes=web, database_url=url)
    argv = [*web_argv(settings)[:-1], "bench.reference_app:create_app()"]
    env = {
        **os.environ,
        "REFERENCE_DATABASE_URL": Settings.from_env({"DATABASE_URL": url}).database_url,
        "REFERENCE_REDIS_URL": redis_server.url,
    }
    server = subprocess.Popen(
        argv, env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the reference app did not start") from None
                time.sleep(0.2)
        target = _Target(f"http://127.0.0.1:{port}")
        load(target, "none", texts, workdir / f"reference-{port}.jsonl", "--mode", "burst",
             "--count", str(count), "--connections", str(connections))  # fmt: skip
        before = _group_cpu_seconds(server.pid)
        results = load(target, "none", texts, workdir / f"reference-{port}-2.jsonl", "--mode", "burst",
                       "--count", str(count), "--connections", str(connections))  # fmt: skip
        spent = _group_cpu_seconds(server.pid) - before
        accepted = sum(1 for r in results if r["status"] == 202)
        return {"cpu_ms_per_request": 1000 * spent / max(1, accepted), "accepted": accepted}
    finally:
        server.terminate()
        server.wait(timeout=30)
        if redis_server.process is not None:
            redis_server.process.terminate()
            redis_server.process.wait(timeout=10)


class _Target:
    """What ``bench_e2e.load`` needs of a stack: its URL."""

    def __init__(self, url: str) -> None:
        self.url = url
