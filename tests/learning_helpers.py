"""Shared pieces of the learning-loop tests: installed versions, comments, scoring with a registry."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from moderation.scoring.artifact import resolve_version_dir
from moderation.scoring.registry import ModelRegistry
from moderation.settings import DEFAULT_MODEL_DIR
from moderation.storage.db import Database
from moderation.storage.models import Site
from moderation.training.simulate import post


def install_copy(store: Path, version: str) -> Path:
    """The shipped models under another version name (same files, so the same scores)."""
    target = store / version
    if not target.exists():
        shutil.copytree(resolve_version_dir(DEFAULT_MODEL_DIR), target)
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        manifest["version"] = version
        (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return target


def registry_for(store: Path, analyzer=None) -> ModelRegistry:
    return ModelRegistry(DEFAULT_MODEL_DIR, store, default=analyzer)


def add_pending(db: Database, site: Site, texts: Sequence[str], article: str = "a1") -> list[str]:
    return post(db, site.id, texts, article)
