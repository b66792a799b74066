"""Writing a model version: model files, ``manifest.json``, ``MODEL_CARD.md`` and ``CURRENT``."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

from moderation.scoring.artifact import CURRENT, FORMAT, MANIFEST, file_digest, read_manifest
from moderation.scoring.model import OUTPUTS, LinearModels
from moderation.training.data import DATASET_FILES, Split
from moderation.training.model_card import render_model_card

DEFAULT_VERSION = "2026.12.3"


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("scikit-learn", "numpy", "scipy", "joblib"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def training_data(splits: dict[str, Split], root: Path) -> list[dict[str, Any]]:
    """Every dataset file the models were trained or tuned on, with row counts and checksums."""
    out = []
    for key, split in sorted(splits.items()):
        name = key.split("/")[0]
        out.append(
            {
                "file": f"{key}.csv",
                "corpus": DATASET_FILES[name][1],
                "use": "train" if key.endswith("/train") else "tuning (thresholds, C) and metrics",
                "rows": len(split.texts),
                "sha256": split.sha256,
            }
        )
    return out


def stage_models(models: LinearModels, output_root: Path, version: str) -> Path:
    """Write the model files into a fresh staging directory next to the final one."""
    staging = output_root / f".{version}.staging"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    models.save(staging)
    return staging


def _write_card_and_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """The card is part of the artifact (checked like the model files): rendered first, from
    everything but the file list, then every file's digest goes into the manifest."""
    manifest.pop("files", None)
    (directory / "MODEL_CARD.md").write_text(render_model_card(manifest), encoding="utf-8")
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.name != MANIFEST)
    manifest["files"] = [{"name": p.name, "size": p.stat().st_size, "sha256": file_digest(p)} for p in files]
    (directory / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def refresh_model_card(version_dir: Path) -> Path:
    """Render the card of a built version again from its manifest (after the card's text changed),
    without retraining; the card's digest in the manifest follows."""
    manifest = read_manifest(version_dir)
    _write_card_and_manifest(version_dir, manifest)
    return version_dir / "MODEL_CARD.md"


def publish(
    staging: Path,
    output_root: Path,
    version: str,
    *,
    thresholds: dict[str, float],
    metrics: dict[str, Any],
    choices: dict[str, Any],
    data: list[dict[str, Any]],
    models: LinearModels,
    seconds: float,
    make_current: bool = True,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Add manifest and model card, move the staging directory into place and point CURRENT at it.

    A candidate (``make_current=False``) is only put in place: promoting it is a separate, guarded
    step (``moderation.scoring.registry``). ``extra`` adds keys to the manifest (the site labels a
    candidate learnt from).
    """
    manifest: dict[str, Any] = {
        "version": version,
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "libraries": library_versions(),
        # Libraries whose own serialisation the model files depend on (checked at load); the
        # files are plain arrays and JSON, so none: any scikit-learn version can load them.
        "requires": {},
        "outputs": list(OUTPUTS),
        "featurizer": {**models.featurizer.config(), "n_features": models.featurizer.n_features},
        "training_data": data,
        "choices": choices,
        "training_seconds": round(seconds, 1),
        "thresholds": thresholds,
        "dev_metrics": metrics,
        **(extra or {}),
    }
    _write_card_and_manifest(staging, manifest)
    final = output_root / version
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    if not make_current:
        return final
    current_tmp = output_root / f".{CURRENT}.tmp"
    current_tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(current_tmp, output_root / CURRENT)
    return final
