"""Scoring: the analyzer that turns comments into the contract's analyses.

Pure (no Flask, Redis or SQLAlchemy; never imports ``moderation.training``) and free of import-time
side effects: models load on the first ``get_analyzer()`` or an explicit ``load_analyzer()``.
"""

from __future__ import annotations

from moderation.scoring.analyzer import Analyzer, analyze, get_analyzer, load_analyzer
from moderation.scoring.artifact import verify_artifact
from moderation.scoring.policy import Policy, apply_policy
from moderation.scoring.types import ModelThresholds, ScoredText, analysis_dict

__all__ = [
    "Analyzer",
    "ModelThresholds",
    "Policy",
    "ScoredText",
    "analysis_dict",
    "analyze",
    "apply_policy",
    "get_analyzer",
    "load_analyzer",
    "verify_artifact",
]
