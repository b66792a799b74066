"""How long the server takes to render the moderators' queue with 100 held comments on the page.

Fills a fresh database with realistic held comments (ViCTSD dev texts when the datasets are
there, with spans, scores, reasons, replies, reader reports, and a few thousand other comments
so author histories are real), signs in with Flask's test client and times the page: full
server work (session, queries, rendering), no network. Also times an htmx approve, which
re-renders the queue region, and counts the SQL statements per page.

    .venv/bin/python bench/bench_dashboard.py                       # SQLite in a temp dir
    .venv/bin/python bench/bench_dashboard.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.databases import drop_private_schema, private_database  # noqa: E402
from bench.machine import describe, peak_rss_mib  # noqa: E402

BUDGET_MS = 300.0
PASSWORD = "benchmark password"
SAMPLE = [
    "Bọn quan chức ngu như bò, chỉ biết tăng giá để vơ vét của dân.",
    "Vay tiền nhanh lãi suất 0%, liên hệ Zalo 0912 345 678 để được duyệt trong 5 phút",
    "Thằng viết bài này chắc óc chó, đọc mà phát mệt.",
    "khong biet noi gi hon, that la qua te, ai nghi ra cai tro nay vay",
    "Bài viết rất hay, cảm ơn tác giả đã phản ánh kịp thời tình hình ở địa phương.",
]
REASONS = [("toxicity",), ("toxicity", "hate_speech"), ("spam", "phone"), ("spam", "link"), ("suspect_word",)]


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


def analysis(
    comment_id: str, content: str, scores: dict[str, float], reasons: tuple[str, ...]
) -> dict[str, Any]:
    """The contract's analysis, with one or two highlighted words as a span model would mark them."""
    words = [m for m in re.finditer(r"\w{3,}", content)]
    spans = [
        {"start": m.start(), "end": m.end(), "text": m.group()}
        for m in random.sample(words, min(2, len(words)))
    ]
    hate = scores["hate_speech"]
    return {
        "id": comment_id,
        "model_version": "bench",
        "attributes": {
            "toxicity": {"score": scores["toxicity"], "flagged": scores["toxicity"] >= 0.5},
            "hate_speech": {
                "label": "offensive" if hate >= 0.5 else "clean",
                "scores": {
                    "clean": round(1 - hate, 4),
                    "offensive": round(hate * 0.7, 4),
                    "hate": round(hate * 0.3, 4),
                },
            },
            "spam": {"score": scores["spam"], "flagged": scores["spam"] >= 0.5},
            "constructive": {"score": round(random.random() * 0.5, 4), "flagged": False},
        },
        "spans": sorted(spans, key=lambda s: s["start"]),
        "rules": [r for r in reasons if r not in ("toxicity", "hate_speech", "spam")],
        "decision": "review",
        "reasons": list(reasons),
    }


def fill(db: Any, site: Any, texts: list[str], held: int, background: int) -> None:
    """``background`` decided comments (author histories), then ``held`` comments waiting for review."""
    from moderation import services
    from moderation.storage.models import Report, utcnow

    now = utcnow()
    with db.session() as session:
        published: list[str] = []
        for index in range(background):
            comment = services.submit_comment(
                session,
                site,
                services.CommentSubmission(
                    article_id=f"a-{index % 40}",
                    article_title=f"Bài viết số {index % 40} về thời sự trong ngày",
                    article_url=f"https://bao.example.vn/thoi-su/{index % 40}.html",
                    content=texts[index % len(texts)],
                    author_name=f"Bạn đọc {index % 300}",
                ),
            )
            comment.status = random.choices(["published", "rejected"], weights=[85, 15])[0]
            comment.decided_by, comment.decision_reasons = "model", []
            comment.created_at = comment.scored_at = comment.decided_at = now - timedelta(minutes=index)
            if comment.status == "published":
                published.append(comment.id)
        for index in range(held):
            article = f"a-{index % 40}"
            parent = published[index] if index % 10 == 0 and index < len(published) else None
            if parent is not None:
                article = session.get(type(comment), parent).article.external_id  # type: ignore[union-attr]
            content = texts[(background + index) % len(texts)]
            comment = services.submit_comment(
                session,
                site,
                services.CommentSubmission(
                    article_id=article,
                    content=content,
                    author_name=f"Bạn đọc {index % 300}",
                    parent_id=parent,
                ),
            )
            scores = {
                "toxicity": random.random(),
                "hate_speech": random.random() * 0.8,
                "spam": random.random(),
            }
            reasons = random.choice(REASONS)
            comment.status, comment.decided_by, comment.decision_reasons = "review", "model", list(reasons)
            comment.analysis = analysis(comment.id, content, scores, reasons)
            comment.score_toxicity, comment.score_hate_speech = scores["toxicity"], scores["hate_speech"]
            comment.score_spam, comment.score_max = scores["spam"], max(scores.values())
            comment.created_at = comment.scored_at = comment.decided_at = now - timedelta(
                seconds=held - index
            )
        for comment_id in published[:25]:
            session.add(Report(comment_id=comment_id, site_id=site.id, reason="xúc phạm"))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--held", type=int, default=100, choices=(25, 50, 100, 200), help="held comments, all on one page"
    )
    parser.add_argument("--background", type=int, default=3000, help="other comments, for author histories")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database-url", help="default: SQLite in a temporary directory")
    parser.add_argument(
        "--datasets", type=Path, default=Path(os.environ.get("MODERATION_DATASETS_DIR", "../shared/datasets"))
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    random.seed(7)

    from sqlalchemy import event

    from moderation import services
    from moderation.app import create_app
    from moderation.settings import Settings
    from moderation.storage.db import Database
    from moderation.storage.migrate import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    database_url, schema = private_database(args.database_url, workdir)
    try:
        upgrade(database_url)
        db = Database(database_url)
        with db.session() as session:
            site, _key = services.create_site(session, "bench")
            services.create_moderator(session, "bench", PASSWORD, "moderator")
        started = time.perf_counter()
        fill(db, site, comment_texts(args.datasets, args.held + args.background), args.held, args.background)
        fill_seconds = time.perf_counter() - started
        db.dispose()

        settings = Settings(env="test", database_url=database_url, instance_dir=workdir, log_level="WARNING")
        app = create_app(settings=settings)
        client = app.test_client()
        login = client.get("/dashboard/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', login).group(1)  # type: ignore[union-attr]
        client.post("/dashboard/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
        path = f"/dashboard/queue?tab=review&order=oldest&per_page={args.held}"

        statements: list[str] = []
        engine = app.extensions["moderation"].db.engine
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        for _ in range(3):  # warm up: templates compiled, connections pooled
            page = client.get(path)
        html = page.get_data(as_text=True)
        cards = html.count('class="card depth-')
        if page.status_code != 200 or cards != args.held:
            sys.exit(f"unexpected page: status {page.status_code}, {cards} cards")
        statements.clear()
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        queries = len(statements) / args.runs

        token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        ids = re.findall(r'data-comment-id="([0-9a-f]{32})"', html)
        actions = []
        for comment_id in ids[: min(20, len(ids))]:
            started = time.perf_counter()
            response = client.post(
                f"/dashboard/comments/{comment_id}/decision?tab=review&per_page={args.held}",
                data={"action": "approve"},
                headers={"HX-Request": "true", "X-CSRFToken": token},
            )
            actions.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code

        print(describe(("Flask", "Jinja2", "SQLAlchemy", "Flask-Babel", "psycopg")))
        print(
            f"database: {engine.dialect.name}; {args.held} held comments on the page, "
            f"{args.background:,} other comments (filled in {fill_seconds:.1f} s)"
        )
        print(f"queue page: {len(html) / 1024:.0f} KiB of HTML, {cards} cards, {queries:.0f} SQL statements")
        median, p95 = statistics.median(timings), percentile(timings, 0.95)
        print(
            f"GET queue page x{args.runs}: median {median:.1f} ms, p95 {p95:.1f} ms, "
            f"min {min(timings):.1f} ms, max {max(timings):.1f} ms"
        )
        print(
            f"htmx approve + re-rendered region x{len(actions)}: median {statistics.median(actions):.1f} ms, "
            f"p95 {percentile(actions, 0.95):.1f} ms"
        )
        print(f"peak memory (this process): {peak_rss_mib():.0f} MiB")
        verdict = "within" if p95 < BUDGET_MS else "OVER"
        print(f"budget: p95 {p95:.1f} ms is {verdict} the {BUDGET_MS:.0f} ms budget")
        app.extensions["moderation"].close()
        if p95 >= BUDGET_MS:
            sys.exit(1)
    finally:
        drop_private_schema(args.database_url, schema)


if __name__ == "__main__":
    main()
