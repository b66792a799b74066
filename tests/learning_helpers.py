"""Shared pieces of the learning-loop tests: installed versions, comments, scoring with a registry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from moderation.scoring.registry import ModelRegistry
from moderation.settings import DEFAULT_MODEL_DIR
from moderation.storage.db import Database
from moderation.storage.models import Site
from moderation.training.simulate import install_copy as install_copy
from moderation.training.simulate import post


def registry_for(store: Path, analyzer=None) -> ModelRegistry:
    return ModelRegistry(DEFAULT_MODEL_DIR, store, default=analyzer)


def add_pending(db: Database, site: Site, texts: Sequence[str], article: str = "a1") -> list[str]:
    return post(db, site.id, texts, article)
