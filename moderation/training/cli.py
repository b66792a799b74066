"""``moderation train`` and ``moderation evaluate`` (click commands; the main CLI registers them lazily).

Also runnable alone: ``python -m moderation.training.cli train|evaluate``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from moderation.errors import ModelArtifactError
from moderation.settings import DEFAULT_MODEL_DIR
from moderation.training.data import check_datasets_dir, default_datasets_dir, dev_texts, load_all
from moderation.training.release import DEFAULT_VERSION

_DATASETS_HELP = "dataset folder (default: $MODERATION_DATASETS_DIR, else ../shared/datasets)"


def _datasets(path: Path | None) -> Path:
    return check_datasets_dir(Path(path) if path is not None else default_datasets_dir())


@click.command("train")
@click.option("--datasets", "--data", "datasets_dir", type=click.Path(path_type=Path), help=_DATASETS_HELP)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=DEFAULT_MODEL_DIR,
    show_default=True,
    help="models folder; the version is written to OUTPUT/VERSION and OUTPUT/CURRENT is updated",
)
@click.option("--version", "version", default=DEFAULT_VERSION, show_default=True, help="model version")
def train(datasets_dir: Path | None, output: Path, version: str) -> None:
    """Rebuild the shipped models from the datasets' train splits (tuned on dev)."""
    from moderation.scoring.analyzer import Analyzer
    from moderation.scoring.model import LinearModels
    from moderation.training.evaluate import evaluate, measure_speed, metrics_table
    from moderation.training.release import publish, stage_models, training_data
    from moderation.training.train import train_models
    from moderation.training.tuning import calibrate, tune_thresholds

    root = _datasets(datasets_dir)
    if not version or "/" in version or version.startswith("."):
        raise click.BadParameter(f"invalid version {version!r}", param_hint="--version")
    click.echo(f"training models {version} from {root}")
    trained = train_models(root, echo=click.echo)
    models = trained.models
    splits = load_all(root)
    # Calibrate and tune on what will be served: the coefficients as stored (float16).
    models.coef = models.coef.astype(np.float16).astype(np.float32)
    click.echo("calibrating scores and tuning thresholds on the dev splits")
    calibration = calibrate(models, splits)
    models.coef = models.coef.astype(np.float16).astype(np.float32)
    thresholds = tune_thresholds(models, splits)
    output.mkdir(parents=True, exist_ok=True)
    staging = stage_models(models, output, version)
    reloaded = Analyzer(LinearModels.load(staging), {"version": version, "thresholds": thresholds})
    click.echo("evaluating the saved models on the dev splits")
    metrics = evaluate(reloaded, splits)
    metrics["speed"] = measure_speed(reloaded, dev_texts(splits))
    choices = {
        **trained.choices,
        "calibration": calibration,
        "toxicity_override": models.toxicity_override,
    }
    final = publish(
        staging,
        output,
        version,
        thresholds=thresholds,
        metrics=metrics,
        choices=choices,
        data=training_data(splits, root),
        models=models,
        seconds=trained.seconds,
    )
    click.echo(metrics_table(metrics, choices))
    size = sum(p.stat().st_size for p in final.iterdir() if p.is_file())
    click.echo(f"wrote {final} ({size / 1e6:.1f} MB) and {output / 'CURRENT'} -> {version}")


@click.command("evaluate")
@click.option("--datasets", "--data", "datasets_dir", type=click.Path(path_type=Path), help=_DATASETS_HELP)
@click.option(
    "--model",
    "model_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="models folder (with CURRENT) or one version folder; default: the shipped models",
)
@click.option("--json", "as_json", is_flag=True, help="print the metrics as JSON")
def evaluate_command(datasets_dir: Path | None, model_dir: Path | None, as_json: bool) -> None:
    """Print the model card's metrics on the dev splits (with and without diacritics) and the speed."""
    from moderation.scoring.analyzer import load_analyzer
    from moderation.training.evaluate import evaluate, measure_speed, metrics_table

    root = _datasets(datasets_dir)
    try:
        analyzer = load_analyzer(model_dir)
    except ModelArtifactError as exc:
        raise click.ClickException(str(exc)) from exc
    splits = load_all(root)
    metrics = evaluate(analyzer, splits)
    metrics["speed"] = measure_speed(analyzer, dev_texts(splits))
    if as_json:
        click.echo(json.dumps({"model_version": analyzer.model_version, "dev_metrics": metrics}, indent=2))
    else:
        click.echo(f"model {analyzer.model_version}")
        click.echo(metrics_table(metrics, analyzer.manifest.get("choices")))


evaluate = evaluate_command


@click.group()
def main() -> None:
    """Model training and evaluation."""


main.add_command(train)
main.add_command(evaluate_command)

if __name__ == "__main__":
    main()
