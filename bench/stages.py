"""Each stage of the pipeline alone, so the end-to-end benchmark can name its bottleneck."""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def temporary_postgres(server_url: str) -> Iterator[str]:
    """A throw-away database on the given PostgreSQL server."""
    from moderation.settings import normalize_database_url

    admin_url = make_url(normalize_database_url(server_url))
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _redis_url(stack: Any) -> str:
    """The stack's Redis, as ``moderation up`` told its workers (redis-server rewrites its own title)."""
    for pid in stack.processes()["worker"]:
        for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
            if item.startswith(b"REDIS_URL="):
                return item.split(b"=", 1)[1].decode()
    raise RuntimeError("no worker found to read REDIS_URL from")


def _enqueue_rate(redis_url: str, count: int = 5000) -> float:
    """Pushes of one id at a time, as the API does, on a Redis database of their own."""
    from moderation.queueing import ScoringQueue, connect

    connection = connect(redis_url.rsplit("/", 1)[0] + "/9")
    connection.flushdb()
    queue = ScoringQueue(connection, queue_name="stage-enqueue")
    started = time.perf_counter()
    for index in range(count):
        queue.push([f"id-{index}"])
    elapsed = time.perf_counter() - started
    connection.flushdb()
    connection.close()
    return count / elapsed


def _model_rate(texts: list[str]) -> float:
    from moderation.scoring import load_analyzer

    analyzer = load_analyzer()
    analyzer.analyze(texts[:256])
    started = time.perf_counter()
    for start in range(0, len(texts), 256):
        analyzer.analyze(texts[start : start + 256])
    return len(texts) / (time.perf_counter() - started)


def _database_update_rate(database_url: str, texts: list[str]) -> float:
    """Writing decisions for stored comments in batches of 256 (what a worker does after scoring)."""
    from moderation import services
    from moderation.settings import Settings
    from moderation.storage import repositories as repo
    from moderation.storage.db import Database
    from moderation.storage.models import utcnow

    database = Database(Settings.from_env({"DATABASE_URL": database_url}).database_url)
    with database.session() as session:
        site, _ = services.create_site(session, f"stage-{uuid.uuid4().hex[:6]}")
        services.update_abuse_settings(
            session, site.id, {"duplicate_window_minutes": 0, "flood_window_minutes": 0}, actor="bench"
        )
        ids = [
            services.submit_comment(
                session, site, services.CommentSubmission(article_id="s", content=t, author_name=f"s{i}")
            ).id
            for i, t in enumerate(texts)
        ]
    analysis = {"decision": "publish", "reasons": [], "attributes": {}, "spans": []}
    started = time.perf_counter()
    for start in range(0, len(ids), 256):
        rows = [
            {
                "b_id": cid,
                "b_status": "published",
                "b_analysis": analysis,
                "b_model_version": "stage",
                "b_reasons": [],
                "b_at": utcnow(),
                "b_toxicity": 0.1,
                "b_hate_speech": 0.1,
                "b_spam": 0.1,
                "b_max": 0.1,
            }
            for cid in ids[start : start + 256]
        ]
        with database.session() as session:
            repo.save_model_decisions(session, rows)
    elapsed = time.perf_counter() - started
    database.dispose()
    return len(ids) / elapsed


def backlog(
    stack: Any,
    database_url: str,
    key: str,
    texts_file: Path,
    workdir: Path,
    count: int,
    load: Callable[..., list[dict]],
    decided_times: Callable[[str, list[str]], dict[str, float]],
) -> tuple[float, float]:
    """Post ``count`` comments with the workers paused (SIGSTOP), then resume them.

    Returns the posting rate with no scoring competing for the CPU, and the rate at which the
    workers then drain the backlog with no posting competing: each half of the pipeline alone.
    """
    stack.signal_workers(signal.SIGSTOP)
    try:
        results = load(
            stack, key, texts_file, workdir / f"backlog-{time.time():.0f}.jsonl",
            "--mode", "burst", "--count", str(count), "--connections", "16",
        )  # fmt: skip
    finally:
        resumed = time.time()
        stack.signal_workers(signal.SIGCONT)
    accepted = [r for r in results if r["status"] == 202]
    first, last = min(r["sent"] for r in results), max(r["answered"] for r in results)
    decided = decided_times(database_url, [r["id"] for r in accepted])
    return len(accepted) / (last - first), len(accepted) / (max(decided.values()) - resumed)


def measure_stages(
    stack: Any,
    database_url: str,
    key: str,
    texts_file: Path,
    workdir: Path,
    count: int,
    load: Callable[..., list[dict]],
    decided_times: Callable[[str, list[str]], dict[str, float]],
) -> dict:
    import json

    accept, drain = backlog(stack, database_url, key, texts_file, workdir, count, load, decided_times)
    texts = json.loads(texts_file.read_text(encoding="utf-8"))[:2000]
    return {
        "HTTP accept and store (workers paused)": accept,
        "workers draining a backlog (no posting)": drain,
        "enqueue (Redis, one id per push)": _enqueue_rate(_redis_url(stack)),
        "model (analyze, one process)": _model_rate(texts),
        "database update (batches of 256)": _database_update_rate(database_url, texts),
    }
