"""The learning loop on a simulated newsroom: how much a site's own decisions improve its model.

A site whose standard is ViHSD's (offensive or hate speech is rejected as an insult) receives the
first N comments of ViHSD dev; its live model scores them; simulated moderators judge what it held
and what readers reported (``moderation.training.simulate``). ``retrain`` then builds a candidate
from the public train splits plus those labels and compares it with the live model on the held-out
labels and on the public figures (out-of-fold ones for the models trained on train + dev). Prints
the comparison, the guard's verdict, the time each step took and the machine. The live model is
built first, without the comments the site receives.

    .venv/bin/python bench/learning_simulation.py                 # quick: live model and candidate
                                                                  # trained on a subset (about 2 min)
    .venv/bin/python bench/learning_simulation.py --full          # a full live model and a full
                                                                  # candidate (two full trainings)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="full training configuration")
    parser.add_argument("--comments", type=int, default=1600, help="ViHSD dev comments the site receives")
    parser.add_argument("--datasets", type=Path, default=None, help="datasets folder")
    args = parser.parse_args()

    from moderation import services
    from moderation.scoring import load_analyzer
    from moderation.scoring.registry import ModelRegistry
    from moderation.services import learning
    from moderation.services.learning_report import render_report
    from moderation.settings import DEFAULT_MODEL_DIR
    from moderation.storage.db import Database
    from moderation.storage.migrate import upgrade
    from moderation.training.config import FULL, QUICK
    from moderation.training.data import check_datasets_dir, default_datasets_dir, load_all
    from moderation.training.loop import retrain_site
    from moderation.training.simulate import moderate, starting_model

    datasets = check_datasets_dir(args.datasets or default_datasets_dir())
    config = FULL if args.full else QUICK
    shipped = load_analyzer()
    work = Path(tempfile.mkdtemp(prefix="learning-sim-"))
    store = work / "models"
    url = f"sqlite:///{work / 'sim.db'}"
    upgrade(url)
    db = Database(url)
    registry = ModelRegistry(DEFAULT_MODEL_DIR, store, default=shipped)
    dev = load_all(datasets)["vihsd/dev"]
    n = min(args.comments, len(dev.texts))
    started = time.perf_counter()
    # Not the shipped model: it trained on ViHSD dev, so it would score the site's comments in-sample.
    print(
        f"training the site's starting model ({config.name} configuration, public data without the "
        f"{n} comments the site receives)",
        flush=True,
    )
    live_version = starting_model(
        datasets, store, shipped.models.spans, f"{config.name}-base", config=config, exclude=dev.texts[:n]
    )
    base_seconds = time.perf_counter() - started
    with db.session() as session:
        site, _ = services.create_site(session, "bao-tinh")
        services.update_abuse_settings(
            session, site.id, {"duplicate_window_minutes": 0, "flood_window_minutes": 0}, actor="bench"
        )
        moderator = services.create_moderator(session, "bien-tap", "benchmark password", "admin", ())
        boss = services.ModeratorIdentity(moderator.id, "bien-tap", "admin", None)
        learning.promote(session, site, live_version, actor="bench", versions=registry)
        site_id = site.id
    t0 = time.perf_counter()
    decided = moderate(db, site_id, boss, shipped, registry, dev.texts[:n], dev.column("label_id")[:n])
    moderate_seconds = time.perf_counter() - t0
    with db.session() as session:
        labels = learning.label_summary(session, site_id)
    print(f"{n} comments posted and scored, {decided} moderator decisions, labels {labels}", flush=True)
    t0 = time.perf_counter()
    result = retrain_site(
        db,
        registry,
        site_id,
        datasets=datasets,
        store=store,
        config=config,
        promote=False,
        echo=lambda _l: None,
    )
    retrain_seconds = time.perf_counter() - t0
    print()
    print(render_report(result.report))
    print(
        f"timings: starting model {base_seconds:.0f} s, posting+scoring+deciding {moderate_seconds:.1f} s, "
        f"retrain ({config.name}) with both comparisons {retrain_seconds:.0f} s"
    )
    print(describe())
    db.dispose()


if __name__ == "__main__":
    main()
