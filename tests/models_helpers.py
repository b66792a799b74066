"""Model versions for the models page's tests: installed copies of the shipped models under new
names (so promotion finds their files) and their ``ModelVersion`` rows with small reports."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from moderation.storage.db import Database
from moderation.storage.models import Comment, Label, ModelVersion, ShadowScore, utcnow
from moderation.training.simulate import install_copy

GOOD = "2026.11.2-s1-good"
BAD = "2026.11.2-s1-bad"
SPARE = "2026.11.2-s1-spare"


def candidate_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model store holding GOOD, BAD and SPARE (copies of the shipped models)."""
    path = tmp_path_factory.mktemp("model-store")
    for version in (GOOD, BAD, SPARE):
        install_copy(path, version)
    return path


def report(version: str, *, passed: bool) -> dict[str, Any]:
    """A comparison report in ``build_candidate``'s shape; a refused one lost hate speech F1."""
    hate_after = 0.52 if not passed else 0.71
    regressions = (
        []
        if passed
        else [
            {"metric": "site held-out hate_speech", "current": 0.68, "candidate": hate_after, "delta": -0.16}
        ]
    )
    return {
        "version": version,
        "base_version": "2026.11.2",
        "labels": {
            "train": {"toxicity": 80},
            "held_out": {"toxicity": 20},
            "used": ["toxicity"],
            "min_labels": 50,
            "weight": 5.0,
        },
        "current": {
            "held_out": {
                "toxicity": {"n": 20, "macro_f1": 0.61, "agreement": 0.8},
                "hate_speech": {"n": 12, "macro_f1": 0.68, "agreement": 0.75},
            },
            "public_dev": {"toxicity": 0.83},
        },
        "candidate": {
            "held_out": {
                "toxicity": {"n": 20, "macro_f1": 0.74, "agreement": 0.9},
                "hate_speech": {"n": 12, "macro_f1": hate_after, "agreement": 0.7},
            },
            "public_dev": {"toxicity": 0.8312},
        },
        "guard": {"passed": passed, "tolerance": 0.02, "regressions": regressions, "improvements": []},
    }


def add_versions(db: Database, site_id: int) -> None:
    """A candidate the guard passed, one it refused and a spare candidate, newest first."""
    now = utcnow()
    with db.session() as session:
        for offset, (version, status) in enumerate(
            ((GOOD, "candidate"), (BAD, "refused"), (SPARE, "candidate"))
        ):
            session.add(
                ModelVersion(
                    version=version,
                    site_id=site_id,
                    base_version="2026.11.2",
                    status=status,
                    report=report(version, passed=status == "candidate"),
                    created_at=now - timedelta(minutes=offset),
                )
            )


def add_label(db: Database, site_id: int, comment_id: str, attribute: str, value: int) -> None:
    with db.session() as session:
        text = session.get(Comment, comment_id).content
        session.add(
            Label(
                site_id=site_id,
                comment_id=comment_id,
                attribute=attribute,
                value=value,
                source="approve",
                text=text,
            )
        )


def add_shadow(db: Database, site_id: int, comment_id: str, version: str, decision: str, live: str) -> None:
    with db.session() as session:
        session.add(
            ShadowScore(
                comment_id=comment_id, version=version, site_id=site_id, decision=decision, live_decision=live
            )
        )
