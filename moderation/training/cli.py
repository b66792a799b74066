"""``moderation train`` and ``moderation evaluate`` (click commands; the main CLI registers them lazily).

Also runnable alone: ``python -m moderation.training.cli train|evaluate``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from moderation.errors import ModelArtifactError
from moderation.scoring.artifact import MANIFEST, valid_version
from moderation.services.learning_report import render_report
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
@click.option(
    "--card-only",
    is_flag=True,
    help="only render OUTPUT/VERSION/MODEL_CARD.md again from its manifest (no training)",
)
def train(datasets_dir: Path | None, output: Path, version: str, card_only: bool) -> None:
    """Rebuild the shipped models from the datasets' train and dev splits (chosen by cross-validation)."""
    from moderation.training.evaluate import metrics_table
    from moderation.training.pipeline import build_version
    from moderation.training.release import refresh_model_card

    if not valid_version(version):
        raise click.BadParameter(f"invalid version {version!r}", param_hint="--version")
    if card_only:
        if not (output / version / MANIFEST).is_file():
            raise click.ClickException(f"no model {version} in {output} (no {MANIFEST} there)")
        try:
            click.echo(f"wrote {refresh_model_card(output / version)}")
        except ModelArtifactError as exc:
            raise click.ClickException(str(exc)) from exc
        return
    root = _datasets(datasets_dir)
    built = build_version(root, output, version, echo=click.echo)
    click.echo(metrics_table(built.metrics, built.choices))
    size = sum(p.stat().st_size for p in built.path.iterdir() if p.is_file())
    click.echo(f"wrote {built.path} ({size / 1e6:.1f} MB) and {output / 'CURRENT'} -> {version}")


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


@click.command("retrain")
@click.option("--site", "site_name", required=True, help="site whose moderators' labels to learn from")
@click.option("--datasets", "--data", "datasets_dir", type=click.Path(path_type=Path), help=_DATASETS_HELP)
@click.option(
    "--quick",
    is_flag=True,
    help="train on a subset with one setting per attribute (seconds, for trials; never for a release)",
)
@click.option(
    "--promote/--no-promote",
    default=None,
    help="promote the candidate if the guard passes (default: the site's auto_promote setting)",
)
def retrain(site_name: str, datasets_dir: Path | None, quick: bool, promote: bool | None) -> None:
    """Train a candidate on the public datasets plus the site's labels; compare it with the live model."""
    from moderation.cli import load_settings
    from moderation.errors import ModerationError
    from moderation.scoring.registry import ModelRegistry
    from moderation.services.sites import site_named
    from moderation.storage.db import Database
    from moderation.training.config import FULL, QUICK
    from moderation.training.loop import retrain_site
    from moderation.training.retrain import NotEnoughLabels

    # Checked once the labels are known to be enough: without them there is nothing to train.
    root = Path(datasets_dir) if datasets_dir is not None else default_datasets_dir()
    settings = load_settings()
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            site_id = site_named(session, site_name).id
        result = retrain_site(
            db,
            ModelRegistry(settings.model_dir, settings.model_store_dir),
            site_id,
            datasets=root,
            store=settings.model_store_dir,
            config=QUICK if quick else FULL,
            promote=promote,
            echo=lambda line: click.echo(line, err=True),
        )
    except NotEnoughLabels as exc:
        raise click.ClickException(str(exc)) from None
    except (ModerationError, ModelArtifactError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from None
    finally:
        db.dispose()
    click.echo(render_report(result.report), nl=False)
    if result.promoted:
        click.echo(f"{result.version} is live for {site_name}")
    elif result.passed:
        click.echo(f"promote it with: moderation model promote --site {site_name} {result.version}")
    else:
        click.echo(
            f"{result.version} stays a candidate (refused); an admin may still promote it with --force"
        )


@click.group()
def main() -> None:
    """Model training and evaluation."""


main.add_command(train)
main.add_command(evaluate_command)
main.add_command(retrain)

if __name__ == "__main__":
    main()
