"""Derive the teencode -> word table shipped in ``moderation/data/teencode.tsv`` from ViLexNorm.

ViLexNorm pairs comments as written with their normalised form. Where both sides have the same
number of words, words are aligned one to one and every (written, normalised) pair that differs is
counted. A spelling enters the table when it was seen at least ``min_count`` times and was normalised
to the same word at least ``min_share`` of the times it occurred. Only the derived mapping is shipped,
never the corpus (it is CC BY-NC-SA). ``check`` measures the table on ViLexNorm dev: how often an
expansion agrees with the human normalisation (precision) and how many of the dev changes it covers.

Run: ``python -m moderation.training.teencode_table [--datasets DIR]``.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import click

from moderation.text.normalize import canonical
from moderation.text.teencode import TEENCODE_PATH, load_teencode

_WORD = re.compile(r"[^\W_]+")

#: Spellings the counts accept but that are ordinary words or too ambiguous in news comments.
EXCLUDED = frozenset(
    [
        "dành",
        "hà",
        "ý",
        "nay",
        "qua",
        "lên",
        "an",
        "minh",
        "tui",
        "thiệt",
        "dị",
        "ó",
        "ma",
        "tide",
        "pink",
        "yang",
        "lim",
        "cubgx",
        "pay",
        "he",
        "hê",
        "đia",
        "see",
        "si",
        "nhin",
        "chin",
        "chèn",
        "cừ",
        "dì",
        "dừa",
        "dòi",
        "lào",
        "lõi",
        "méo",
        "rầu",
        "xao",
        "sài",
        "cai",
        "binh",
        "deo",
        "d",
    ]
)


def _pairs(path: Path) -> list[tuple[list[str], list[str]]]:
    rows: list[tuple[list[str], list[str]]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            written = _WORD.findall(canonical(row.get("original") or ""))
            normal = _WORD.findall(canonical(row.get("normalized") or ""))
            if written and len(written) == len(normal):
                rows.append((written, normal))
    return rows


def derive(train_csv: Path, *, min_count: int = 3, min_share: float = 0.6) -> dict[str, tuple[str, int, int]]:
    """Return {spelling: (word, times normalised to word, times seen)}."""
    seen: Counter[str] = Counter()
    changed: Counter[tuple[str, str]] = Counter()
    for written, normal in _pairs(train_csv):
        for w, n in zip(written, normal, strict=True):
            seen[w] += 1
            if w != n:
                changed[(w, n)] += 1
    best: dict[str, tuple[str, int]] = {}
    for (w, n), count in changed.items():
        if count > best.get(w, ("", 0))[1]:
            best[w] = (n, count)
    table: dict[str, tuple[str, int, int]] = {}
    for w, (n, count) in best.items():
        if count >= min_count and count / seen[w] >= min_share and w not in EXCLUDED and not w.isdigit():
            table[w] = (n, count, seen[w])
    return table


def check(table: dict[str, str], dev_csv: Path) -> dict[str, float]:
    """Precision and coverage of the table against the human normalisation of ViLexNorm dev."""
    applied = agreed = changes = covered = 0
    for written, normal in _pairs(dev_csv):
        for w, n in zip(written, normal, strict=True):
            if w != n:
                changes += 1
            if w in table:
                applied += 1
                if table[w] == n:
                    agreed += 1
                    if w != n:
                        covered += 1
    return {
        "expansions": applied,
        "precision": agreed / applied if applied else 0.0,
        "coverage_of_changes": covered / changes if changes else 0.0,
    }


@click.command()
@click.option(
    "--datasets", "datasets_dir", type=click.Path(path_type=Path), default=Path("../shared/datasets")
)
@click.option("--output", type=click.Path(path_type=Path), default=TEENCODE_PATH)
def main(datasets_dir: Path, output: Path) -> None:
    """Write the derived table and print its check on ViLexNorm dev."""
    table = derive(datasets_dir / "vilexnorm" / "train.csv")
    with output.open("w", encoding="utf-8") as handle:
        handle.write("# spelling\tword\tcount\tseen  (derived from ViLexNorm train; see teencode_table.py)\n")
        for w in sorted(table):
            n, count, seen = table[w]
            handle.write(f"{w}\t{n}\t{count}\t{seen}\n")
    load_teencode.cache_clear()
    result = check({w: v[0] for w, v in table.items()}, datasets_dir / "vilexnorm" / "dev.csv")
    click.echo(f"{len(table)} entries -> {output}")
    click.echo(f"ViLexNorm dev: {result}")


if __name__ == "__main__":
    main()
