"""A simulated newsroom: moderators' decisions on ViHSD dev comments retrain the site's model.

The site's standard is ViHSD's (offensive or hate speech is an insult to reject), which is not quite
the public toxicity corpus' (ViCTSD). The site's live model is a quick build from the public data;
a few hundred decisions through the real review path become labels; ``retrain`` builds a candidate
(quick configuration) that must beat the live model on the held-out decisions and pass the guard.
The same labels inverted must be refused. Rolling back must give the previous outputs exactly.
Slow (about two minutes: three quick trainings), and on SQLite only: the storage it touches is
tested on both databases in test_learning.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import case, select, update

from moderation import services
from moderation.services import learning
from moderation.storage.models import Comment, Label, ModelVersion, Site
from moderation.training.config import QUICK
from moderation.training.data import check_datasets_dir, default_datasets_dir, load_all
from moderation.training.loop import retrain_site
from moderation.training.simulate import moderate, post, starting_model
from tests.learning_helpers import registry_for

SITE_COMMENTS = 1600
PROBES = 60
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def datasets() -> Path:
    try:
        return check_datasets_dir(default_datasets_dir())
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"datasets not available ({exc}); set MODERATION_DATASETS_DIR")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, datasets: Path, analyzer) -> Path:
    """A store holding the site's starting model: a quick build from the public data only, without
    the ViHSD dev comments the site will receive (the public models train on dev too)."""
    root = tmp_path_factory.mktemp("model-store")
    received = load_all(datasets)["vihsd/dev"].texts[: SITE_COMMENTS + PROBES]
    starting_model(datasets, root, analyzer.models.spans, exclude=received)
    return root


@pytest.fixture
def newsroom(db, store, analyzer):
    """The site, its admin, and the quick base model live for it."""
    registry = registry_for(store, analyzer)
    with db.session() as session:
        site, _ = services.create_site(session, "bao-tinh")
        moderator = services.create_moderator(session, "bien-tap", "correct horse battery", "admin", ())
        learning.promote(session, site, "quick-base", actor="test", versions=registry)
        # Tolerance 0.05: the held-out sets here are ~85 decisions per attribute (2 for spam), whose
        # macro-F1 moves by 3 points by chance alone (the candidate of 2026.12.1 lost 0.03 on hate
        # speech and 0.33 on 2 spam labels while gaining 0.34 on toxicity); the inverted labels
        # below lose far more than that.
        learning.update_learning_settings(
            session, site.id, {"min_labels": 50, "tolerance": 0.05}, actor="test"
        )
        # The probe texts are posted three times: the door's repeat and flood checks stay out of the way.
        services.update_abuse_settings(
            session, site.id, {"duplicate_window_minutes": 0, "flood_window_minutes": 0}, actor="test"
        )
        boss = services.ModeratorIdentity(moderator.id, "bien-tap", "admin", None)
    return site, boss, registry


def test_moderators_decisions_make_a_better_model_and_wrong_labels_are_refused(
    db, newsroom, analyzer, datasets, store
):
    site, boss, registry = newsroom
    dev = load_all(datasets)["vihsd/dev"]
    texts, truths = dev.texts[:SITE_COMMENTS], dev.column("label_id")[:SITE_COMMENTS]
    decided = moderate(db, site.id, boss, analyzer, registry, texts, truths)
    with db.session() as session:
        counts = learning.label_summary(session, site.id)
    assert decided >= 250 and sum(counts["toxicity"].values()) >= 250, counts

    result = retrain_site(
        db,
        registry,
        site.id,
        datasets=datasets,
        store=store,
        config=QUICK,
        promote=False,
        echo=lambda _: None,
    )
    current = result.report["current"]["held_out"]["toxicity"]
    candidate = result.report["candidate"]["held_out"]["toxicity"]
    assert current["n"] == candidate["n"] >= 40
    assert candidate["macro_f1"] > current["macro_f1"], result.report
    assert result.passed and not result.promoted, result.report["guard"]
    assert (result.path / "COMPARISON.md").is_file()
    with db.session() as session:
        assert session.get(ModelVersion, result.version).status == "candidate"
        assert session.get(Site, site.id).model_version == "quick-base"

    # A moderator who got everything backwards: the guard must refuse what they taught.
    with db.session() as session:
        session.execute(
            update(Label)
            .where(Label.site_id == site.id)
            .values(value=case((Label.attribute == "hate_speech", 2 - Label.value), else_=1 - Label.value))
        )
    wrong = retrain_site(
        db, registry, site.id, datasets=datasets, store=store, config=QUICK, promote=True, echo=lambda _: None
    )
    assert not wrong.passed and not wrong.promoted
    assert any(r["metric"].startswith("site held-out") for r in wrong.report["guard"]["regressions"])
    with db.session() as session:
        assert session.get(ModelVersion, wrong.version).status == "refused"
        assert session.get(Site, site.id).model_version == "quick-base"

    # Promote the good candidate, then roll back: the previous outputs come back exactly.
    probe = dev.texts[SITE_COMMENTS : SITE_COMMENTS + PROBES]

    def analyses() -> list[dict]:
        ids = post(db, site.id, probe, article=f"probe-{len(outputs)}")
        services.score_comments(db, analyzer, ids, models=registry)
        with db.session() as session:
            rows = [session.get(Comment, comment_id).analysis for comment_id in ids]
        return [{k: v for k, v in row.items() if k != "id"} for row in rows]

    outputs: list[list[dict]] = []
    outputs.append(analyses())
    with db.session() as session:
        learning.promote(session, session.get(Site, site.id), result.version, actor="test", versions=registry)
    outputs.append(analyses())
    with db.session() as session:
        assert learning.rollback(session, session.get(Site, site.id), actor="test") == (
            result.version,
            "quick-base",
        )
    outputs.append(analyses())
    assert outputs[1] != outputs[0]
    assert {a["model_version"] for a in outputs[1]} == {result.version}
    assert outputs[2] == outputs[0]


def test_retrain_refuses_to_run_without_enough_labels(db, newsroom, datasets, store):
    from moderation.training.retrain import NotEnoughLabels

    site, _, registry = newsroom
    with pytest.raises(NotEnoughLabels, match="toxicity 0"):
        retrain_site(db, registry, site.id, datasets=datasets, store=store, config=QUICK, echo=lambda _: None)
    with db.session() as session:
        assert session.scalars(select(ModelVersion).where(ModelVersion.site_id == site.id)).all() == []
