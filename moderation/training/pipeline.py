"""One model version from datasets to files: train, calibrate, tune, save, evaluate, publish.

``moderation train`` (a release, made live at once) and ``moderation retrain`` (a candidate with a
site's labels, left for the guard or an admin to promote) share this path, so a candidate is built
exactly like a release.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moderation.scoring.analyzer import Analyzer
from moderation.scoring.artifact import valid_version
from moderation.scoring.model import LinearModels
from moderation.scoring.spans import SpanTagger
from moderation.training.config import FULL, SiteRows, TrainConfig, subset, without_texts
from moderation.training.data import Split, dev_texts, load_all


@dataclass
class Built:
    """A published version: its folder, the analyzer loaded from its files, its dev metrics."""

    path: Path
    analyzer: Analyzer
    metrics: dict[str, Any]
    choices: dict[str, Any]
    splits: dict[str, Split]


def build_version(
    root: Path,
    output: Path,
    version: str,
    *,
    echo: Callable[[str], None] = print,
    config: TrainConfig = FULL,
    site: SiteRows | None = None,
    base_spans: SpanTagger | None = None,
    make_current: bool = True,
    extra: dict[str, Any] | None = None,
    measure: bool = True,
    exclude: Collection[str] = (),
) -> Built:
    """Train and publish ``version`` under ``output``; ``make_current`` points CURRENT at it."""
    from moderation.training.evaluate import evaluate, measure_speed
    from moderation.training.release import publish, stage_models, training_data
    from moderation.training.spam_training import corpus_data, train_spam_stage
    from moderation.training.train import train_models
    from moderation.training.tuning import calibrate, cross_validated, tune_thresholds

    if not valid_version(version):
        raise ValueError(f"invalid version {version!r}")
    echo(f"training models {version} from {root} ({config.name} configuration)")
    trained = train_models(root, echo=echo, config=config, site=site, base_spans=base_spans, exclude=exclude)
    models: LinearModels = trained.models
    splits = without_texts(load_all(root), exclude)
    # Calibrate and tune on what will be served: the coefficients as stored (float16).
    models.coef = models.coef.astype(np.float16).astype(np.float32)
    echo("calibrating scores and choosing thresholds on the out-of-fold scores")
    calibration = calibrate(models, splits, trained.oof)
    models.coef = models.coef.astype(np.float16).astype(np.float32)
    thresholds = tune_thresholds(models, splits, trained.oof)
    trained.choices["cross_validated"] = cross_validated(models, trained.oof, thresholds)
    echo("training the news-spam stage (out-of-fold C and threshold)")
    models.spam_stage, thresholds["spam"], spam_choices = train_spam_stage(
        models, subset(splits, config.max_train_rows), echo, folds=config.spam_folds, site=site
    )
    output.mkdir(parents=True, exist_ok=True)
    staging = stage_models(models, output, version)
    reloaded = Analyzer(LinearModels.load(staging), {"version": version, "thresholds": thresholds})
    echo("evaluating the saved models on the dev splits")
    metrics = evaluate(reloaded, splits)
    if measure:
        metrics["speed"] = measure_speed(reloaded, dev_texts(splits))
    choices = {
        **trained.choices,
        "calibration": calibration,
        "toxicity_override": models.toxicity_override,
        "spam_stage": spam_choices,
        "configuration": config.name,
        "cv_folds": config.cv_folds,
    }
    data = training_data(subset(splits, config.max_train_rows), root) + corpus_data()
    if site is not None:
        data.append(
            {
                "file": "site labels",
                "corpus": "this newsroom's moderators",
                "use": f"train (each label weighs {site.weight:g} public rows)",
                "rows": sum(site.count(a) for a in site.texts),
                "sha256": "",
            }
        )
    final = publish(
        staging,
        output,
        version,
        thresholds=thresholds,
        metrics=metrics,
        choices=choices,
        data=data,
        models=models,
        seconds=trained.seconds,
        make_current=make_current,
        extra=extra,
    )
    analyzer = Analyzer(reloaded.models, {**reloaded.manifest, "version": version})
    return Built(path=final, analyzer=analyzer, metrics=metrics, choices=choices, splits=splits)
