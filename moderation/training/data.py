"""Loading the shared datasets (train and dev splits only) into plain Python lists.

Every dataset is read with pandas' default CSV dialect (as the datasets README says); empty texts
(NaN) become "". ``strip_diacritics`` produces the "typed without accents" copies used both to
augment training and to measure the accent gap on dev.
"""

from __future__ import annotations

import ast
import hashlib
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import click
import pandas as pd

DATASET_FILES = {
    "victsd": ("Comment", "UIT-ViCTSD"),
    "vihsd": ("free_text", "UIT-ViHSD"),
    "vihos": ("content", "ViHOS"),
    "vispam": ("Comment", "ViSpamReviews"),
}
_STRIP = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def default_datasets_dir() -> Path:
    """``$MODERATION_DATASETS_DIR``, else ``../shared/datasets`` relative to the current directory."""
    env = os.environ.get("MODERATION_DATASETS_DIR", "").strip()
    return Path(env) if env else Path.cwd().parent / "shared" / "datasets"


def check_datasets_dir(path: Path) -> Path:
    """Fail with a clear message when a dataset file is missing."""
    missing = [
        f"{name}/{split}.csv"
        for name in DATASET_FILES
        for split in ("train", "dev")
        if not (path / name / f"{split}.csv").is_file()
    ]
    if missing:
        raise click.ClickException(
            f"datasets not found under {path} (missing {', '.join(missing[:4])}); pass --datasets DIR "
            "or set MODERATION_DATASETS_DIR"
        )
    return path


def strip_diacritics(text: str) -> str:
    """Remove every diacritic (đ -> d) but keep case: how many readers type."""
    decomposed = unicodedata.normalize("NFD", text.translate(_STRIP))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


@dataclass
class Split:
    """One split of one dataset: its texts and its label columns."""

    name: str
    path: Path
    texts: list[str]
    frame: pd.DataFrame

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    def column(self, name: str) -> list[int]:
        return [int(v) for v in self.frame[name].tolist()]

    def spans(self) -> list[set[int]]:
        return [set(ast.literal_eval(v)) if isinstance(v, str) else set() for v in self.frame["index_spans"]]


def load_split(root: Path, name: str, split: str) -> Split:
    column = DATASET_FILES[name][0]
    path = root / name / f"{split}.csv"
    frame = pd.read_csv(path)
    texts = [t if isinstance(t, str) else "" for t in frame[column].tolist()]
    return Split(name=f"{name}/{split}", path=path, texts=texts, frame=frame)


def load_all(root: Path) -> dict[str, Split]:
    """{"victsd/train": Split, "victsd/dev": ..., ...} for the four labelled datasets."""
    return {f"{n}/{s}": load_split(root, n, s) for n in DATASET_FILES for s in ("train", "dev")}


def dev_texts(splits: dict[str, Split]) -> list[str]:
    """The dev comments of the four datasets, in a fixed order (speed measurements use them)."""
    return [t for name in DATASET_FILES for t in splits[f"{name}/dev"].texts]
