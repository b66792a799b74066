"""CPU time of one POST /api/v1/comments in-process, and where it goes: the posting path's profile.

The end-to-end benchmark (``bench_e2e.py``) names the web tier as the bottleneck; this measures its
hot path alone, without gunicorn or a load generator: the app with a real Redis and a throw-away
PostgreSQL database (or SQLite with ``--sqlite``), the Flask test client posting real comment texts
from distinct readers and authors, CPU time (``time.process_time``) per post. ``--profile`` adds a
cProfile by package and the project's own functions, and the Python function calls per post, a
figure that hardly moves with the machine's speed (its CPU seconds do, on a shared virtual machine). Run:

    .venv/bin/python bench/bench_posting_cpu.py [--posts 2000] [--postgres URL | --sqlite] [--profile]
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_e2e import real_texts  # noqa: E402
from bench.machine import describe, speed_check  # noqa: E402
from bench.stages import temporary_postgres  # noqa: E402


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    if args.sqlite:
        yield f"sqlite:///{tempfile.mkdtemp()}/moderation.db"
    else:
        with temporary_postgres(args.postgres) as url:
            yield url


def by_package(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own time per library (or project package), as shares of the total."""
    totals: collections.Counter[str] = collections.Counter()
    for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "site-packages/" in filename:
            key = filename.split("site-packages/")[1].split("/")[0]
        elif str(ROOT) in filename:
            key = "/".join(Path(filename).relative_to(ROOT).parts[:2])
        elif filename.startswith(("~", "<")):
            key = "builtins"
        else:
            key = "stdlib"
        totals[key] += own
    whole = sum(totals.values()) or 1.0
    return [(key, value / whole) for key, value in totals.most_common(15)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="a Redis database it may empty")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    import redis

    from moderation import services
    from moderation.app import create_app
    from moderation.settings import Settings
    from moderation.storage.migrate import upgrade

    texts = real_texts()
    random.Random(1).shuffle(texts)
    warmup = 200
    if len(texts) < warmup + args.posts:
        raise SystemExit(f"only {len(texts)} distinct texts; ask for fewer --posts")
    print(describe())
    with database(args) as url:
        upgrade(url)
        redis.Redis.from_url(args.redis).flushdb()
        settings = Settings(
            env="test",
            secret_key="bench-" * 8,
            instance_dir=Path(tempfile.mkdtemp()),
            database_url=url,
            redis_url=args.redis,
            queue_name="bench-posting",
            log_level="WARNING",
        )
        app = create_app(settings=settings)
        with app.extensions["moderation"].db.session() as session:
            _, key = services.create_site(session, "bench-posting")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}

        def post(i: int) -> None:
            body = {
                "article_id": f"a{i % 20}",
                "content": texts[i],
                "author": {"name": f"Bạn đọc {i}"},
                "client": {"ip": f"10.{i // 62500}.{i // 250 % 250}.{i % 250}"},
            }
            response = client.post("/api/v1/comments", json=body, headers=headers)
            if response.status_code != 202:
                raise SystemExit(f"post {i}: {response.status_code} {response.get_data(as_text=True)}")

        for i in range(warmup):
            post(i)
        profiler = cProfile.Profile(time.process_time) if args.profile else None
        start = time.process_time()
        if profiler:
            profiler.enable()
        for i in range(warmup, warmup + args.posts):
            post(i)
        if profiler:
            profiler.disable()
        per_post = (time.process_time() - start) / args.posts * 1000
        backend = "SQLite" if args.sqlite else "PostgreSQL"
        label = "profiled, so slower" if profiler else "Flask test client, no gunicorn"
        print(f"{backend}: {per_post:.2f} ms of CPU per post over {args.posts} posts ({label})")
        print(f"machine speed: a fixed Python workload takes {speed_check():.0f} ms of CPU")
        if profiler:
            stats = pstats.Stats(profiler)
            # Unlike seconds, the count hardly moves with the machine's speed: compare code with it.
            calls = stats.total_calls / args.posts  # type: ignore[attr-defined]
            print(f"Python function calls per post: {calls:,.0f} (cProfile)")
            print("own time by package:")
            for name, share in by_package(stats):
                print(f"  {share:6.1%}  {name}")
            stats.sort_stats("cumulative").print_stats(str(ROOT / "moderation"), 25)
        app.extensions["moderation"].close()


if __name__ == "__main__":
    main()
