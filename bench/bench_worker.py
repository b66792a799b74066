"""How many comments per second one worker process scores and decides, database writes included.

Stores N real comments (ViCTSD dev texts), queues them as the API does, then runs one RQ worker
in this process (burst mode) until the queue is empty, and prints the rate.

    .venv/bin/python bench/bench_worker.py                       # SQLite in a temp dir
    .venv/bin/python bench/bench_worker.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import drop_private_schema, private_database  # noqa: E402
from bench.machine import describe, peak_rss_mib  # noqa: E402

SAMPLE = [
    "Bài viết rất hay, cảm ơn tác giả.",
    "Chính quyền địa phương cần vào cuộc xử lý dứt điểm tình trạng này.",
    "Đ.m bọn này ngu thật",
    "Vay tiền nhanh lãi suất thấp, liên hệ zalo 0912 345 678",
    "khong biet noi gi hon, that dang buon",
]


def comment_texts(datasets: Path, count: int) -> list[str]:
    path = datasets / "victsd" / "dev.csv"
    texts: list[str] = []
    if path.exists():
        with path.open(encoding="utf-8") as handle:
            texts = [row["Comment"] for row in csv.DictReader(handle) if row.get("Comment")]
    if not texts:
        print(f"(no {path}; using built-in sample texts)")
        texts = SAMPLE
    return [texts[i % len(texts)] for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--comments", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument("--redis-url", help="default: a private embedded redis-server")
    parser.add_argument(
        "--datasets", type=Path, default=Path(os.environ.get("MODERATION_DATASETS_DIR", "../shared/datasets"))
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from rq import Queue, SimpleWorker
    from rq.registry import FailedJobRegistry, FinishedJobRegistry
    from sqlalchemy import func, select

    from moderation import services
    from moderation.scoring import load_analyzer
    from moderation.settings import Settings
    from moderation.storage.migrate import upgrade
    from moderation.storage.models import Comment
    from moderation.supervisor import EmbeddedRedis
    from workers.context import WorkerContext, set_context

    workdir = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    redis_server = None
    redis_url = args.redis_url
    if redis_url is None:
        redis_server = EmbeddedRedis(workdir / "redis")
        redis_server.start()
        redis_url = redis_server.url
    database_url, schema = private_database(args.database_url, workdir)
    upgrade(database_url)
    settings = Settings(
        env="test",
        database_url=database_url,
        redis_url=redis_url,
        queue_name=f"bench-{uuid.uuid4().hex[:6]}",
        batch_size=args.batch_size,
        instance_dir=workdir,
    )
    try:
        started = time.perf_counter()
        analyzer = load_analyzer(settings.model_dir)
        load_seconds = time.perf_counter() - started
        context = WorkerContext.build(settings, analyzer=analyzer)
        set_context(context)
        context.redis.flushdb()
        texts = comment_texts(args.datasets, args.comments)
        with context.db.session() as session:
            site, _ = services.create_site(session, f"bench-{uuid.uuid4().hex[:6]}")
            ids = []
            for index, content in enumerate(texts):
                submission = services.CommentSubmission(
                    article_id=f"a{index % 50}", content=content, author_name=f"reader {index % 500}"
                )
                ids.append(services.submit_comment(session, site, submission).id)
        for start in range(0, len(ids), 1000):
            context.queue.push(ids[start : start + 1000])

        started = time.perf_counter()
        model_only = analyzer.analyze(texts[: min(len(texts), 2000)])
        model_rate = len(model_only) / (time.perf_counter() - started)

        queue = Queue(settings.queue_name, connection=context.redis)
        worker = SimpleWorker([queue], connection=context.redis)
        started = time.perf_counter()
        worker.work(burst=True, logging_level="WARNING")
        elapsed = time.perf_counter() - started
        jobs_run = FinishedJobRegistry(queue=queue).count + FailedJobRegistry(queue=queue).count
        with context.db.session() as session:
            pending = session.scalar(
                select(func.count()).select_from(Comment).where(Comment.status == "pending")
            )
            by_status = dict(
                session.execute(select(Comment.status, func.count()).group_by(Comment.status)).all()
            )
        print(describe())
        print(f"database: {context.db.dialect}; batch size {args.batch_size}; model {analyzer.model_version}")
        print(f"model load: {load_seconds:.2f} s")
        print(f"analyze() alone: {model_rate:,.0f} comments/s")
        print(
            f"one worker: {len(ids):,} comments scored, decided and stored in {elapsed:.2f} s "
            f"= {len(ids) / elapsed:,.0f} comments/s ({jobs_run} RQ jobs)"
        )
        print(f"outcome: {by_status}; still pending: {pending}")
        print(f"peak memory (this process): {peak_rss_mib():.0f} MiB")
        if pending:
            sys.exit("some comments were not decided")
    finally:
        set_context(None)
        drop_private_schema(args.database_url, schema)
        if redis_server is not None and redis_server.process is not None:
            redis_server.process.terminate()
            redis_server.process.wait()


if __name__ == "__main__":
    main()
