"""A simulated newsroom, to try the learning loop without real moderators (tests and ``bench/``).

Comments with known labels (a dataset's dev split) are posted to a site and scored by its live model;
simulated moderators then do what real ones do: judge what the model held, and handle readers'
reports on published comments that break the rules. Their decisions go through the real review path,
so they become labels exactly like a newsroom's.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from moderation import services
from moderation.scoring.artifact import resolve_version_dir
from moderation.scoring.spans import SpanTagger
from moderation.services import review
from moderation.services.scoring import AnalyzerLike, ModelSource
from moderation.settings import DEFAULT_MODEL_DIR
from moderation.storage.db import Database
from moderation.storage.models import Comment, Report, Site

if TYPE_CHECKING:
    from moderation.training.config import TrainConfig

#: ViHSD labels -> the newsroom's rejection reason (0: clean, approve).
REASONS = {0: None, 1: "Xúc phạm", 2: "Thù ghét"}


def post(db: Database, site_id: int, texts: Sequence[str], article: str = "a1") -> list[str]:
    """Store comments as readers would post them (pending), one reader each."""
    ids = []
    with db.session() as session:
        site = session.get(Site, site_id)
        for i, text in enumerate(texts):
            comment = services.submit_comment(
                session,
                site,
                services.CommentSubmission(article_id=article, content=text, author_name=f"Bạn đọc {i}"),
            )
            ids.append(comment.id)
    return ids


def moderate(
    db: Database,
    site_id: int,
    moderator: services.ModeratorIdentity,
    analyzer: AnalyzerLike,
    models: ModelSource,
    texts: Sequence[str],
    truths: Sequence[int],
) -> int:
    """Post, score with the site's live model, and decide like moderators; returns the decisions made."""
    ids = post(db, site_id, texts)
    for start in range(0, len(ids), 200):
        services.score_comments(db, analyzer, ids[start : start + 200], models=models)
    decided = 0
    with db.session() as session:
        for comment_id, truth in zip(ids, truths, strict=True):
            comment = session.get(Comment, comment_id)
            if comment.status == "published":
                if not truth:
                    continue
                session.add(Report(comment_id=comment_id, site_id=site_id, reason="xúc phạm"))
                session.flush()
            review.decide(session, moderator, comment_id, "reject" if truth else "approve", REASONS[truth])
            decided += 1
    return decided


def starting_model(
    datasets: Path,
    store: Path,
    spans: SpanTagger,
    version: str = "quick-base",
    *,
    config: TrainConfig | None = None,
    exclude: Collection[str] = (),
) -> str:
    """A build from the public data only (quick by default), as a site's live model before it has
    labels. ``exclude``: the comments the simulated site will receive. The public models train on
    the dev splits too, and a live model that had seen the site's comments would score them
    in-sample, as no real site's model does."""
    from moderation.training.config import QUICK
    from moderation.training.pipeline import build_version

    build_version(
        datasets,
        store,
        version,
        config=config or QUICK,
        exclude=exclude,
        base_spans=spans,
        make_current=False,
        measure=False,
        echo=lambda _line: None,
    )
    return version


def install_copy(store: Path, version: str) -> Path:
    """The shipped models under another version name: same files, so their sha256 stay valid and
    they score the same (tests and benchmarks that only need a second version to switch to)."""
    target = store / version
    if not target.exists():
        shutil.copytree(resolve_version_dir(DEFAULT_MODEL_DIR), target)
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        manifest["version"] = version
        (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return target
