"""How much training to do, and the site's own labels to add to the public datasets.

``FULL`` is what ``moderation train`` and ``moderation retrain`` do. ``QUICK`` trains on a stable
subset of each public train split with one C per attribute and keeps the span tagger of the model it
starts from: minutes become seconds, for trials and for the test suite, never for a release.

``SiteRows`` carries a site's moderator labels (see ``moderation.services.labels``) into training.
They are few next to the public rows, but they are this newsroom's own standards, so each one
counts ``weight`` times an average public row.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from moderation.scoring.types import DECISION_ATTRIBUTES
from moderation.training.data import Split

FEATURIZER: Mapping[str, Any] = {
    "bits": 22,
    "char_range": (2, 5),
    "word_range": (1, 2),
    "folded_word_range": (1, 3),
    "min_df": 3,
}
C_GRID: Mapping[str, tuple[float, ...]] = {
    "toxicity": (0.5, 1.0, 2.0),
    "constructive": (0.5, 1.0, 2.0),
    "hate": (2.0, 4.0),
    "spam": (1.0, 4.0),
}
#: Weights of the ViHSD rows (offensive or hate = toxic; relative to ViCTSD, both class-balanced)
#: tried in the toxicity model.
VIHSD_TOXICITY_WEIGHTS = (0.0, 0.05)
#: Folds of the out-of-fold hate probabilities the span tagger learns from.
SPAN_FOLDS = 4
#: The attributes a moderator's decision can label: those that decide (constructive never does).
LABELLED_ATTRIBUTES = DECISION_ATTRIBUTES


@dataclass(frozen=True)
class TrainConfig:
    """The knobs of one training run."""

    name: str = "full"
    featurizer: Mapping[str, Any] = field(default_factory=lambda: dict(FEATURIZER))
    c_grid: Mapping[str, tuple[float, ...]] = field(default_factory=lambda: dict(C_GRID))
    vihsd_toxicity_weights: tuple[float, ...] = VIHSD_TOXICITY_WEIGHTS
    #: At most this many rows of each public train split (a fixed random subset); None: all.
    max_train_rows: int | None = None
    #: False keeps the span tagger of the model training starts from (no out-of-fold models).
    train_spans: bool = True
    span_folds: int = SPAN_FOLDS
    #: Folds of the spam model's out-of-fold threshold (``spam_training``).
    spam_folds: int = 4
    #: Folds of the cross-validation over train + dev that chooses C, calibration and thresholds of
    #: toxicity, constructiveness and hate speech (``crossval``).
    cv_folds: int = 5


FULL = TrainConfig()
QUICK = TrainConfig(
    name="quick",
    featurizer={**FEATURIZER, "bits": 20, "min_df": 2},
    c_grid={"toxicity": (1.0,), "constructive": (1.0,), "hate": (1.0,), "spam": (4.0,)},
    vihsd_toxicity_weights=(0.0,),
    max_train_rows=4000,
    train_spans=False,
    spam_folds=2,
    cv_folds=2,
)
PROFILES = {"full": FULL, "quick": QUICK}


def _keep(split: Split, keep: Sequence[int]) -> Split:
    return Split(
        name=split.name,
        path=split.path,
        texts=[split.texts[i] for i in keep],
        frame=split.frame.iloc[list(keep)].reset_index(drop=True),
    )


def subset(splits: dict[str, Split], max_rows: int | None, seed: int = 0) -> dict[str, Split]:
    """The splits with each train split cut to ``max_rows`` rows chosen at random (seeded)."""
    if max_rows is None:
        return splits
    out = dict(splits)
    for key, split in splits.items():
        if not key.endswith("/train") or len(split.texts) <= max_rows:
            continue
        rng = np.random.default_rng(seed)
        out[key] = _keep(split, np.sort(rng.permutation(len(split.texts))[:max_rows]).tolist())
    return out


def without_texts(splits: dict[str, Split], texts: Collection[str]) -> dict[str, Split]:
    """The dev splits without the given comments: a candidate that learnt from a site's labels is
    never tuned or measured on a public dev comment it learnt from (only possible in simulations,
    where a site's comments come from a dev split)."""
    if not texts:
        return splits
    drop = set(texts)
    out = dict(splits)
    for key, split in splits.items():
        if key.endswith("/dev") and drop.intersection(split.texts):
            out[key] = _keep(split, [i for i, t in enumerate(split.texts) if t not in drop])
    return out


@dataclass
class SiteRows:
    """Moderator labels per attribute: texts as scored and values (hate_speech: 0 clean, 1, 2)."""

    texts: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, list[int]] = field(default_factory=dict)
    #: How many average public rows one site label counts for.
    weight: float = 5.0

    def add(self, attribute: str, text: str, value: int) -> None:
        self.texts.setdefault(attribute, []).append(text)
        self.values.setdefault(attribute, []).append(int(value))

    def rows(self, attribute: str) -> tuple[list[str], np.ndarray]:
        return list(self.texts.get(attribute, [])), np.array(self.values.get(attribute, []), dtype=int)

    def count(self, attribute: str) -> int:
        return len(self.texts.get(attribute, []))

    def all_texts(self) -> list[str]:
        return list(dict.fromkeys(t for texts in self.texts.values() for t in texts))

    def only(self, attributes: Sequence[str]) -> SiteRows:
        """The rows of some attributes only (the others had too few labels to be used)."""
        return SiteRows(
            texts={a: list(self.texts[a]) for a in attributes if a in self.texts},
            values={a: list(self.values[a]) for a in attributes if a in self.values},
            weight=self.weight,
        )

    def flipped(self) -> SiteRows:
        """Every label inverted (hate: clean <-> hate): a deliberately wrong set, for the guard's tests."""
        values = {
            a: [(2 if v == 0 else 0) if a == "hate_speech" else 1 - v for v in vs]
            for a, vs in self.values.items()
        }
        return SiteRows(texts={a: list(t) for a, t in self.texts.items()}, values=values, weight=self.weight)
