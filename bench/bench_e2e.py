"""End-to-end throughput and latency of the whole service, started as the README starts it.

For each database (SQLite under a temporary instance directory; PostgreSQL with ``--postgres``):
``moderation up`` (gunicorn web, workers, embedded Redis), a site, then a separate load-generator
process (``bench/loadgen.py``) posting real comment texts over HTTP:

- steady: 100 comments/s for 20 s;
- burst: 2,000 comments as fast as 16 connections allow;
- scaling: the burst again with 1 and 2 workers;
- stages alone: HTTP accept and store (workers paused with SIGSTOP), enqueue, the model, the
  database update, so the bottleneck shows.

Prints the figures and the machine, and writes them as JSON (``--json``) for
``bench/plot_performance.py``. Run: ``.venv/bin/python bench/bench_e2e.py [--postgres URL]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import describe, speed_check  # noqa: E402
from bench.reference import reference_cpu_ms  # noqa: E402
from bench.stages import backlog, measure_stages  # noqa: E402
from bench.stats import latency, rate  # noqa: E402

DATASETS = Path(os.environ.get("MODERATION_DATASETS_DIR", ROOT.parent / "shared" / "datasets"))


def real_texts() -> list[str]:
    import csv

    texts: list[str] = []
    for name, column in (("victsd", "Comment"), ("vihsd", "free_text")):
        for split in ("dev", "train"):
            path = DATASETS / name / f"{split}.csv"
            if path.exists():
                with path.open(encoding="utf-8") as handle:
                    texts += [row[column] for row in csv.DictReader(handle) if row.get(column)]
    # Distinct texts only: a repeat from another reader within minutes is (rightly) held as a flood.
    texts = list(dict.fromkeys(t.strip() for t in texts if len(t.split()) >= 3 and len(t) <= 4000))
    return texts or ["Bài viết rất hay, cảm ơn tác giả.", "Chính quyền cần vào cuộc xử lý dứt điểm."]


class Stack:
    """``moderation up`` in its own instance directory, and the processes it started."""

    def __init__(self, workdir: Path, database_url: str | None, workers: int, web: int) -> None:
        self.port = _free_port()
        self.instance = workdir / f"instance-{uuid.uuid4().hex[:6]}"
        self.env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        self.env.update(
            {
                "MODERATION_INSTANCE_DIR": str(self.instance),
                "MODERATION_WEB_PROCESSES": str(web),
                "LOG_LEVEL": "WARNING",
                "MODERATION_DEMO": "0",
            }
        )
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "moderation",
                "up",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("moderation up did not become ready")

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "moderation", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise RuntimeError(result.stderr)
        return result.stdout

    def processes(self) -> dict[str, list[int]]:
        """Children by role, found by the instance directory in their environment."""
        roles: dict[str, list[int]] = {"web": [], "worker": [], "redis": []}
        marker = f"MODERATION_INSTANCE_DIR={self.instance}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or self.process is None or int(entry.name) == self.process.pid:
                continue
            try:
                if marker not in (entry / "environ").read_bytes():
                    continue
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "redis-server" in command:
                roles["redis"].append(int(entry.name))
            elif "moderation worker" in command:
                roles["worker"].append(int(entry.name))
            elif "gunicorn" in command:
                roles["web"].append(int(entry.name))
        return roles

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time so far of the stack's processes by role, and of every PostgreSQL process."""
        tick = os.sysconf("SC_CLK_TCK")
        roles = self.processes()
        totals: dict[str, float] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            pid, ppid, seconds = int(entry.name), int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
            role = next((r for r, pids in roles.items() if pid in pids), None)
            if role is None and name.startswith("redis-server") and self.process and ppid == self.process.pid:
                role = "redis"
            if role is None and name == "postgres":
                role = "postgres"
            if role:
                totals[role] = totals.get(role, 0.0) + seconds
        return totals

    def peak_memory_mib(self) -> dict[str, float]:
        """The largest peak RSS (VmHWM) of one process per role."""
        peaks: dict[str, float] = {}
        for role, pids in self.processes().items():
            for pid in pids:
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            peaks[role] = max(peaks.get(role, 0.0), int(line.split()[1]) / 1024)
                except OSError:
                    continue
        return peaks

    def signal_workers(self, sig: int) -> None:
        for pid in self.processes()["worker"]:
            os.kill(pid, sig)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=60)


def _free_port() -> int:
    from moderation.supervisor import free_port

    return free_port()


#: Each load-generator run starts at its own text and reader index: no repeats, no floods.
OFFSETS = itertools.count(0, 20_000)


def load(stack: Stack, key: str, texts_file: Path, out: Path, *extra: str) -> list[dict[str, Any]]:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            "--offset",
            str(next(OFFSETS)),
            "--url",
            stack.url,
            "--key",
            key,
            "--texts",
            str(texts_file),
            "--out",
            str(out),
            *extra,
        ],
        check=True,
        cwd=ROOT,
    )
    return [json.loads(line) for line in out.read_text().splitlines()]


def decided_times(database_url: str, ids: list[str], timeout: float = 300) -> dict[str, float]:
    """Wait until every comment is decided; their ``decided_at`` as epoch seconds.

    Fails if more than 5% were decided at the door (repeats or floods) instead of scored: that
    would flatter the figures. A few distinct real texts do look alike (they are then held as a
    flood, as in service); they are counted and printed.
    """
    from sqlalchemy import select

    from moderation.settings import Settings
    from moderation.storage.db import Database
    from moderation.storage.models import Comment

    database = Database(Settings.from_env({"DATABASE_URL": database_url}).database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with database.session(read_only=True) as session:
                rows = dict(
                    session.execute(select(Comment.id, Comment.decided_at).where(Comment.id.in_(ids))).all()
                )
            if len(rows) == len(ids) and all(rows.values()):
                unscored = session_count_unscored(database, ids)
                if unscored > 0.05 * len(ids):
                    raise RuntimeError(f"{unscored} comments were decided at the door, not scored")
                return {cid: at.timestamp() for cid, at in rows.items()}
            if time.monotonic() > deadline:
                raise RuntimeError(f"{sum(1 for v in rows.values() if v is None)} comments still pending")
            time.sleep(0.2)
    finally:
        database.dispose()


def session_count_unscored(database: Any, ids: list[str]) -> int:
    from sqlalchemy import select

    from moderation.storage.models import Comment

    with database.session() as session:
        reasons = session.scalars(
            select(Comment.decision_reasons).where(Comment.id.in_(ids), Comment.scored_at.is_(None))
        ).all()
    if reasons:
        counts: dict[str, int] = {}
        for value in reasons:
            counts[",".join(value or [])] = counts.get(",".join(value or []), 0) + 1
        print("decided at the door:", counts)
    return len(reasons)


def scenario(stack: Stack, database_url: str, key: str, texts: Path, workdir: Path, name: str, *extra: str):
    cpu_before, client_before = stack.cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    results = load(stack, key, texts, workdir / f"{name}.jsonl", *extra)
    accepted = [r for r in results if r["status"] == 202]
    decided = decided_times(database_url, [r["id"] for r in accepted])
    cpu_after, client_after = stack.cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {role: cpu_after.get(role, 0.0) - cpu_before.get(role, 0.0) for role in cpu_after}
    # RUSAGE_CHILDREN grows by the load generator (and the CLI calls, none during a scenario).
    cpu["load generator"] = (client_after.ru_utime + client_after.ru_stime) - (
        client_before.ru_utime + client_before.ru_stime
    )
    end_to_end = [decided[r["id"]] - r["sent"] for r in accepted]
    first_sent = min(r["sent"] for r in results)
    return {
        "requests": len(results),
        "accepted": len(accepted),
        "other_statuses": sorted({r["status"] for r in results} - {202}),
        "posting_per_s": rate(len(accepted), first_sent, max(r["answered"] for r in accepted)),
        "posting_ms": latency([(r["answered"] - r["sent"]) * 1000 for r in accepted]),
        "decided_per_s": rate(len(accepted), first_sent, max(decided.values())),
        "end_to_end_ms": latency([value * 1000 for value in end_to_end]),
        "series": [[r["sent"] - first_sent, (decided[r["id"]] - r["sent"]) * 1000] for r in accepted],
        "cpu_ms_per_comment": {role: 1000 * seconds / max(1, len(accepted)) for role, seconds in cpu.items()},
    }


def run_database(label: str, database_url: str | None, workdir: Path, texts: Path, args: argparse.Namespace):
    report: dict[str, Any] = {"database": label}
    for workers in args.scaling:
        stack = Stack(workdir, database_url, workers=workers, web=args.web)
        stack.start()
        try:
            url = database_url or f"sqlite:///{stack.instance / 'moderation.db'}"
            site = json.loads(stack.cli("site", "create", f"bench-{uuid.uuid4().hex[:6]}"))
            key = site["api_key"]
            if workers == args.workers:
                report["steady"] = scenario(
                    stack,
                    url,
                    key,
                    texts,
                    workdir,
                    "steady",
                    "--mode",
                    "steady",
                    "--rate",
                    str(args.rate),
                    "--seconds",
                    str(args.seconds),
                    "--connections",
                    "16",
                )
                report["burst"] = scenario(
                    stack,
                    url,
                    key,
                    texts,
                    workdir,
                    "burst",
                    "--mode",
                    "burst",
                    "--count",
                    str(args.burst),
                    "--connections",
                    str(args.connections),
                )
                report["memory_mib"] = stack.peak_memory_mib()
                report["reference"] = reference_cpu_ms(
                    database_url, texts, workdir, args.web, args.burst, args.connections, load
                )
                web_ms = report["burst"]["cpu_ms_per_comment"].get("web", 0.0)
                report["reference"]["ratio"] = web_ms / max(1e-9, report["reference"]["cpu_ms_per_request"])
                if not args.no_stages:
                    report["stages"] = measure_stages(
                        stack, url, key, texts, workdir, args.burst, load, decided_times
                    )
            burst = report["burst"]["decided_per_s"] if workers == args.workers else None
            if burst is None:
                burst = scenario(
                    stack, url, key, texts, workdir, f"scale-{workers}",
                    "--mode", "burst", "--count", str(args.burst), "--connections", str(args.connections),
                )["decided_per_s"]  # fmt: skip
            scaling = report.setdefault("scaling", {})
            if args.no_stages:
                scaling[workers] = {"burst_decided_per_s": burst}
            else:
                _, drain = backlog(stack, url, key, texts, workdir, args.burst, load, decided_times)
                scaling[workers] = {"burst_decided_per_s": burst, "drain_per_s": drain}
        finally:
            stack.stop()
    return report


def print_report(report: dict[str, Any]) -> None:
    print(f"\n== {report['database']}")
    for name in ("steady", "burst"):
        r = report[name]
        post, e2e = r["posting_ms"], r["end_to_end_ms"]
        print(
            f"{name:>6}: {r['accepted']}/{r['requests']} accepted; posting {r['posting_per_s']:.0f}/s, "
            f"p50/p95/p99 {post['p50']:.0f}/{post['p95']:.0f}/{post['p99']:.0f} ms; "
            f"decided {r['decided_per_s']:.0f}/s, POST->decided p50/p95/p99 "
            f"{e2e['p50']:.0f}/{e2e['p95']:.0f}/{e2e['p99']:.0f} ms"
        )
    cpu = report["burst"]["cpu_ms_per_comment"]
    print("CPU per comment in the burst (ms):", {k: round(v, 2) for k, v in sorted(cpu.items())})
    print(
        "peak memory (MiB, largest process per role):", {k: round(v) for k, v in report["memory_mib"].items()}
    )
    ref = report["reference"]
    print(
        f"posting path, web CPU per comment in the burst: {cpu.get('web', 0.0):.2f} ms; the reference "
        f"(bench/reference_app.py, one Core INSERT + one RPUSH, same gunicorn): "
        f"{ref['cpu_ms_per_request']:.2f} ms; ratio {ref['ratio']:.2f}"
    )
    print(
        "by workers: decided/s in the burst, and draining a backlog alone:",
        {k: {name: round(v) for name, v in r.items()} for k, r in sorted(report["scaling"].items())},
    )
    if "stages" not in report:
        return
    print("stages alone:")
    for stage, value in report["stages"].items():
        print(f"  {stage:<34} {value:>10,.0f} per s")
    slowest = min(report["stages"], key=report["stages"].get)
    print(f"bottleneck: {slowest}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="also run on this PostgreSQL server (a database is created)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scaling", type=int, nargs="+", default=None, help="worker counts to compare")
    parser.add_argument("--web", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--no-stages", action="store_true", help="skip the stages and the backlog drains")
    args = parser.parse_args()
    args.scaling = sorted(set(args.scaling or [1, args.workers]) | {args.workers})
    workdir = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    texts = workdir / "texts.json"
    texts.write_text(json.dumps(real_texts(), ensure_ascii=False), encoding="utf-8")
    print(describe())
    speed_before = speed_check()
    print(f"machine speed: a fixed Python workload takes {speed_before:.0f} ms of CPU (bench/machine.py)")
    # CPU time does not show the other tenants of a shared machine; the run queue does.
    print("load average (1, 5, 15 min) before:", ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    reports = []
    if not args.skip_sqlite:
        reports.append(run_database("sqlite", None, workdir, texts, args))
        print_report(reports[-1])
    if args.postgres:
        from bench.stages import temporary_postgres

        with temporary_postgres(args.postgres) as url:
            reports.append(run_database("postgresql", url, workdir, texts, args))
        print_report(reports[-1])
    speed_after = speed_check()
    print(f"machine speed: the same workload takes {speed_after:.0f} ms after the runs")
    print("load average (1, 5, 15 min) after:", ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    if args.json:
        speed = {"before_ms": round(speed_before), "after_ms": round(speed_after)}
        figures = {"machine": describe(), "speed": speed, "reports": reports}
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
