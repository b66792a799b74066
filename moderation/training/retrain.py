"""A candidate trained on a site's labels, compared with the live model, and the guard's verdict.

The site's labels are split once, by a stable hash of the comment's text, into a training part and a
held-out part (``services.learning``). The candidate learns from the public train splits plus the
training part (each label weighing ``weight`` public rows, an attribute only once it has at least
``min_labels`` labels). Candidate and live model are then scored on the same held-out labels and
the same public figures; the guard passes only if the candidate is nowhere worse than the live
model by more than ``tolerance`` (macro-F1, absolute).

The public figures are those each model never trained on: for toxicity, constructiveness and hate
speech (trained on train + dev) the out-of-fold figures recorded in its manifest at training, for
spam and spans (trained without their dev split) the dev figures. A dev figure of a model that
trained on dev would be in-sample and is not compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklearn.metrics import f1_score

from moderation.scoring.analyzer import Analyzer
from moderation.scoring.types import HATE_LABELS
from moderation.services.learning_report import SECTIONS, render_report
from moderation.training.config import FULL, LABELLED_ATTRIBUTES, SiteRows, TrainConfig
from moderation.training.data import Split, check_datasets_dir
from moderation.training.evaluate import POOLED, evaluate, score_batches
from moderation.training.pipeline import build_version

#: The public dev figures the guard compares (attribute -> path in ``evaluate``'s metrics): those of
#: the models trained without their dev split.
PUBLIC_METRICS = {
    "spam": ("spam", "macro_f1"),
    "spans": ("spans", "char_macro_f1"),
}
REPORT_JSON = "comparison.json"
REPORT_MD = "COMPARISON.md"


class NotEnoughLabels(ValueError):
    """No attribute has the minimum number of labels yet."""


@dataclass
class GuardVerdict:
    passed: bool
    tolerance: float
    regressions: list[dict[str, Any]] = field(default_factory=list)
    improvements: list[dict[str, Any]] = field(default_factory=list)


def predictions(analyzer: Analyzer, attribute: str, texts: list[str]) -> list[int]:
    """What the model decides for an attribute: flagged (0/1), or the hate class (0, 1, 2)."""
    scored = score_batches(analyzer, texts)
    if attribute == "hate_speech":
        return [HATE_LABELS.index(s.hate_label) for s in scored]
    threshold = analyzer.thresholds.for_attribute(attribute)
    return [int(getattr(s, attribute) >= threshold) for s in scored]


def held_out_metrics(analyzer: Analyzer, held: SiteRows) -> dict[str, dict[str, Any]]:
    """Macro-F1 of the model's decisions against the held-out labels, per attribute."""
    out: dict[str, dict[str, Any]] = {}
    for attribute in LABELLED_ATTRIBUTES:
        texts, y = held.rows(attribute)
        if not texts:
            continue
        pred = predictions(analyzer, attribute, texts)
        labels = sorted(set(y.tolist()) | set(pred))
        agree = sum(int(a == b) for a, b in zip(y.tolist(), pred, strict=True))
        out[attribute] = {
            "n": len(texts),
            "macro_f1": round(float(f1_score(y, pred, average="macro", labels=labels)), 4),
            "agreement": round(agree / len(texts), 4),
        }
    return out


def public_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for name, (section, key) in PUBLIC_METRICS.items():
        value = (metrics.get(section) or {}).get(key)
        if value is not None:
            out[name] = float(value)
    return out


def cross_validated_metrics(choices: dict[str, Any] | None) -> dict[str, float]:
    """The out-of-fold macro-F1 recorded at training for the attributes trained on train + dev
    (empty for a model built before cross-validation: nothing to compare then)."""
    recorded = (choices or {}).get("cross_validated") or {}
    return {name: float(recorded[name]["macro_f1"]) for name in POOLED if name in recorded}


#: Held-out figures on fewer decisions than this are reported but do not decide the guard.
MIN_HELD_OUT = 20
#: The most a cross-validated figure may drop, whatever the site's tolerance: those figures come from
#: tens of thousands of out-of-fold decisions (95% intervals about ±0.015 wide), where a site's
#: held-out set of a hundred decisions moves by 0.03 by chance alone and needs a looser tolerance.
CROSS_VALIDATED_TOLERANCE = 0.02


def guard(current: dict[str, Any], candidate: dict[str, Any], tolerance: float) -> GuardVerdict:
    """Compare every figure both reports have; any drop beyond ``tolerance`` refuses the candidate."""
    verdict = GuardVerdict(passed=True, tolerance=tolerance)
    pairs: list[tuple[str, float, float, float]] = []
    for attribute, figures in candidate["held_out"].items():
        # A macro-F1 on a handful of decisions is no evidence either way (2 labels move it by 0.33).
        if attribute in current["held_out"] and figures.get("n", MIN_HELD_OUT) >= MIN_HELD_OUT:
            pairs.append(
                (
                    f"site held-out {attribute}",
                    current["held_out"][attribute]["macro_f1"],
                    figures["macro_f1"],
                    tolerance,
                )
            )
    for section, title in SECTIONS[1:]:
        allowed = min(tolerance, CROSS_VALIDATED_TOLERANCE) if section == "public_cv" else tolerance
        for name, value in candidate.get(section, {}).items():
            if name in current.get(section, {}):
                pairs.append((f"{title} {name}", current[section][name], value, allowed))
    for metric, before, after, allowed in pairs:
        entry = {"metric": metric, "current": before, "candidate": after, "delta": round(after - before, 4)}
        if after < before - allowed:
            verdict.regressions.append(entry)
        elif after > before:
            verdict.improvements.append(entry)
    verdict.passed = not verdict.regressions
    return verdict


def measure(analyzer: Analyzer, held: SiteRows, splits: dict[str, Split]) -> dict[str, Any]:
    return {
        "held_out": held_out_metrics(analyzer, held),
        "public_cv": cross_validated_metrics(analyzer.manifest.get("choices")),
        "public_dev": public_metrics(evaluate(analyzer, splits)),
    }


@dataclass
class Candidate:
    version: str
    path: Path
    report: dict[str, Any]
    verdict: GuardVerdict


def usable(train: SiteRows, min_labels: int) -> list[str]:
    return [a for a in LABELLED_ATTRIBUTES if train.count(a) >= min_labels]


def build_candidate(
    datasets: Path,
    store: Path,
    version: str,
    *,
    current: Analyzer,
    train: SiteRows,
    held: SiteRows,
    min_labels: int,
    tolerance: float,
    config: TrainConfig = FULL,
    echo: Callable[[str], None] = print,
    extra: dict[str, Any] | None = None,
) -> Candidate:
    """Train, publish (not live) and compare a candidate; the report is written next to its files."""
    used = usable(train, min_labels)
    if not used:
        counts = ", ".join(f"{a} {train.count(a)}" for a in LABELLED_ATTRIBUTES)
        raise NotEnoughLabels(
            f"not enough labels to learn from: {counts} (each attribute needs {min_labels})"
        )
    check_datasets_dir(datasets)
    echo(f"site labels used for {', '.join(used)} ({sum(train.count(a) for a in used)} labels)")
    built = build_version(
        datasets,
        store,
        version,
        echo=echo,
        config=config,
        site=train.only(used),
        base_spans=current.models.spans,
        make_current=False,
        extra={"base_version": current.model_version, **(extra or {})},
        measure=False,
        exclude=set(train.all_texts()) | set(held.all_texts()),
    )
    splits = built.splits
    echo("scoring the held-out labels and the public dev splits with the live model and the candidate")
    before = measure(current, held, splits)
    after = {
        "held_out": held_out_metrics(built.analyzer, held),
        "public_cv": cross_validated_metrics(built.choices),
        "public_dev": public_metrics(built.metrics),
    }
    verdict = guard(before, after, tolerance)
    report = {
        "version": version,
        "base_version": current.model_version,
        "configuration": config.name,
        "labels": {
            "train": {a: train.count(a) for a in LABELLED_ATTRIBUTES},
            "held_out": {a: held.count(a) for a in LABELLED_ATTRIBUTES},
            "used": used,
            "min_labels": min_labels,
            "weight": train.weight,
        },
        "current": before,
        "candidate": after,
        "guard": {
            "passed": verdict.passed,
            "tolerance": tolerance,
            "regressions": verdict.regressions,
            "improvements": verdict.improvements,
        },
        **(extra or {}),
    }
    write_report(built.path, report)
    return Candidate(version=version, path=built.path, report=report, verdict=verdict)


def write_report(directory: Path, report: dict[str, Any]) -> None:
    (directory / REPORT_JSON).write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (directory / REPORT_MD).write_text(render_report(report), encoding="utf-8")
