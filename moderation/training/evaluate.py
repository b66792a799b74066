"""Dev-split metrics of a loaded analyzer, and the tuning of its thresholds.

Everything is measured through ``Analyzer.score`` (the serving path, with the saved float16
coefficients), on each dataset's dev split as given and stripped of diacritics. Thresholds are tuned
on the same dev splits, so the dev figures are optimistic estimates; the held-out test splits are
measured from outside the project.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_score, recall_score

from moderation.scoring.analyzer import Analyzer
from moderation.scoring.model import LinearModels
from moderation.scoring.policy import Policy, apply_policy
from moderation.scoring.types import HATE_LABELS, ScoredText
from moderation.text.prepare import prepare
from moderation.training.data import Split, strip_diacritics
from moderation.training.span_training import char_macro_f1, spans_to_chars

#: The share of clean news comments that spam may flag on dev (the target is under 1%).
SPAM_FPR_BUDGET = 0.005
_GRID = np.round(np.arange(0.02, 0.985, 0.005), 3)


def _variants(texts: Sequence[str]) -> list[list[str]]:
    return [list(texts), [strip_diacritics(t) for t in texts]]


def _logits(models: LinearModels, texts: Sequence[str]) -> np.ndarray:
    features = [prepare(t, models.expander).features for t in texts]
    return models.logits(models.features(features))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _best_threshold(scores: Sequence[np.ndarray], y: np.ndarray) -> float:
    """The threshold with the best mean macro-F1 over the (original, stripped) score vectors."""
    means = [np.mean([f1_score(y, s >= t, average="macro") for s in scores]) for t in _GRID]
    return float(_GRID[int(np.argmax(means))])


def tune(models: LinearModels, splits: dict[str, Split]) -> dict[str, Any]:
    """Thresholds (toxicity, constructive, hate_speech, spam) and the hate-class biases."""
    ctsd = splits["victsd/dev"]
    ctsd_logits = [_logits(models, v) for v in _variants(ctsd.texts)]
    thresholds: dict[str, float] = {}
    for out, name, column in ((0, "toxicity", "Toxicity"), (1, "constructive", "Constructiveness")):
        y = np.array(ctsd.column(column))
        thresholds[name] = _best_threshold([_sigmoid(z[:, out]) for z in ctsd_logits], y)

    hsd = splits["vihsd/dev"]
    y = np.array(hsd.column("label_id"))
    hsd_logits = [_logits(models, v)[:, 3:6] for v in _variants(hsd.texts)]
    best = (-1.0, np.zeros(3))
    steps = np.arange(-1.0, 1.51, 0.25)
    for b_off in steps:
        for b_hate in steps:
            bias = np.array([0.0, b_off, b_hate])
            score = np.mean([f1_score(y, (z + bias).argmax(axis=1), average="macro") for z in hsd_logits])
            if score > best[0]:
                best = (float(score), bias)
    hate_bias = best[1]
    not_clean = []
    for z in hsd_logits:
        e = np.exp(z + hate_bias - (z + hate_bias).max(axis=1, keepdims=True))
        not_clean.append(1.0 - e[:, 0] / e.sum(axis=1))
    thresholds["hate_speech"] = _best_threshold(not_clean, (y > 0).astype(int))

    news = [t for t in splits["victsd/dev"].texts] + [
        t for t, label in zip(hsd.texts, hsd.column("label_id"), strict=True) if label == 0
    ]
    news_spam = np.concatenate([_sigmoid(_logits(models, v)[:, 2]) for v in _variants(news)])
    allowed = [t for t in _GRID if np.mean(news_spam >= t) <= SPAM_FPR_BUDGET]
    thresholds["spam"] = float(min(allowed)) if allowed else float(_GRID[-1])
    return {"thresholds": thresholds, "hate_bias": [float(b) for b in hate_bias]}


def _scored(analyzer: Analyzer, texts: Sequence[str], batch: int = 512) -> list[ScoredText]:
    out: list[ScoredText] = []
    for i in range(0, len(texts), batch):
        out.extend(analyzer.score(texts[i : i + batch]))
    return out


def _f1(y: Sequence[int], pred: Sequence[int]) -> float:
    return round(float(f1_score(y, pred, average="macro")), 4)


def evaluate(analyzer: Analyzer, splits: dict[str, Split]) -> dict[str, Any]:
    """The model card's metrics on the dev splits."""
    th = analyzer.thresholds
    metrics: dict[str, Any] = {}
    ctsd = splits["victsd/dev"]
    ctsd_scored = [_scored(analyzer, v) for v in _variants(ctsd.texts)]
    for name, column in (("toxicity", "Toxicity"), ("constructive", "Constructiveness")):
        y = ctsd.column(column)
        threshold = th.for_attribute(name)
        f1s = [_f1(y, [int(getattr(s, name) >= threshold) for s in scored]) for scored in ctsd_scored]
        metrics[name] = {
            "dataset": "UIT-ViCTSD dev",
            "n": len(y),
            "macro_f1": f1s[0],
            "macro_f1_stripped": f1s[1],
        }

    hsd = splits["vihsd/dev"]
    y = hsd.column("label_id")
    hsd_scored = [_scored(analyzer, v) for v in _variants(hsd.texts)]
    f1s = [_f1(y, [HATE_LABELS.index(s.hate_label) for s in scored]) for scored in hsd_scored]
    metrics["hate_speech"] = {
        "dataset": "UIT-ViHSD dev",
        "n": len(y),
        "macro_f1": f1s[0],
        "macro_f1_stripped": f1s[1],
    }

    spam = splits["vispam/dev"]
    labels = spam.column("SpamLabel")
    keep = [i for i, label in enumerate(labels) if label in (0, 3)]
    y_spam = [int(labels[i] == 3) for i in keep]
    spam_metrics: dict[str, Any] = {"dataset": "ViSpamReviews dev, SpamLabel 3 vs 0", "n": len(keep)}
    for suffix, variant in zip(("", "_stripped"), _variants([spam.texts[i] for i in keep]), strict=True):
        pred = [int(s.spam >= th.spam) for s in _scored(analyzer, variant)]
        spam_metrics[f"macro_f1{suffix}"] = _f1(y_spam, pred)
        if not suffix:
            spam_metrics["precision"] = round(float(precision_score(y_spam, pred, zero_division=0)), 4)
            spam_metrics["recall"] = round(float(recall_score(y_spam, pred)), 4)
    clean_hsd = [s for s, label in zip(hsd_scored[0], y, strict=True) if label == 0]
    clean_hsd_stripped = [s for s, label in zip(hsd_scored[1], y, strict=True) if label == 0]
    for key, group in (
        ("false_positive_rate_victsd", ctsd_scored[0]),
        ("false_positive_rate_victsd_stripped", ctsd_scored[1]),
        ("false_positive_rate_vihsd_clean", clean_hsd),
        ("false_positive_rate_vihsd_clean_stripped", clean_hsd_stripped),
    ):
        spam_metrics[key] = round(float(np.mean([s.spam >= th.spam for s in group])), 4)
    metrics["spam"] = spam_metrics

    hos = splits["vihos/dev"]
    golds = hos.spans()
    pred = [spans_to_chars(s.spans) for s in _scored(analyzer, hos.texts)]
    seen = set(splits["vihsd/train"].texts)
    fresh = [i for i, t in enumerate(hos.texts) if t not in seen]
    non_toxic = [s for s, t in zip(ctsd_scored[0], ctsd.column("Toxicity"), strict=True) if t == 0]
    same = [i for i, t in enumerate(hos.texts) if len(strip_diacritics(t)) == len(t)]
    stripped_scored = _scored(analyzer, [strip_diacritics(hos.texts[i]) for i in same])
    metrics["spans"] = {
        "dataset": "ViHOS dev",
        "n": len(hos.texts),
        "char_macro_f1": round(char_macro_f1(golds, pred, [len(t) for t in hos.texts]), 4),
        "char_macro_f1_stripped": round(
            char_macro_f1(
                [golds[i] for i in same],
                [spans_to_chars(s.spans) for s in stripped_scored],
                [len(hos.texts[i]) for i in same],
            ),
            4,
        ),
        "n_stripped": len(same),
        "char_macro_f1_not_in_vihsd_train": round(
            char_macro_f1(
                [golds[i] for i in fresh], [pred[i] for i in fresh], [len(hos.texts[i]) for i in fresh]
            ),
            4,
        ),
        "n_not_in_vihsd_train": len(fresh),
        "victsd_dev_non_toxic_with_spans": round(float(np.mean([bool(s.spans) for s in non_toxic])), 4),
    }

    policy = Policy()
    decisions = [apply_policy(s, policy, th)[0] for s in ctsd_scored[0]]
    toxic = ctsd.column("Toxicity")
    clean = [d for d, t in zip(decisions, toxic, strict=True) if t == 0]
    held = [d for d, t in zip(decisions, toxic, strict=True) if t == 1]
    rule_hits = [bool(s.rules) for s in ctsd_scored[0]] + [bool(s.rules) for s in clean_hsd]
    metrics["default_policy_victsd_dev"] = {
        "published_share_of_non_toxic": round(clean.count("publish") / max(len(clean), 1), 4),
        "held_share_of_toxic": round(1 - held.count("publish") / max(len(held), 1), 4),
        "rule_hit_share_of_news_and_clean_social": round(float(np.mean(rule_hits)), 4),
    }
    return metrics


def metrics_table(metrics: dict[str, Any]) -> str:
    """A plain-text table of the headline figures."""
    rows = [("attribute", "dev set", "macro-F1", "stripped")]
    for name in ("toxicity", "constructive", "hate_speech", "spam"):
        m = metrics[name]
        rows.append((name, m["dataset"], f"{m['macro_f1']:.4f}", f"{m['macro_f1_stripped']:.4f}"))
    s = metrics["spans"]
    rows.append(
        ("spans (char)", s["dataset"], f"{s['char_macro_f1']:.4f}", f"{s['char_macro_f1_stripped']:.4f}")
    )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    sm = metrics["spam"]
    lines.append("")
    lines.append(
        f"spam precision {sm['precision']:.4f}, recall {sm['recall']:.4f}; flags "
        f"{sm['false_positive_rate_victsd']:.2%} of ViCTSD dev comments "
        f"({sm['false_positive_rate_victsd_stripped']:.2%} stripped) and "
        f"{sm['false_positive_rate_vihsd_clean']:.2%} of clean ViHSD dev comments "
        f"({sm['false_positive_rate_vihsd_clean_stripped']:.2%} stripped)"
    )
    fresh_f1, n_fresh = s["char_macro_f1_not_in_vihsd_train"], s["n_not_in_vihsd_train"]
    clean_spans = s["victsd_dev_non_toxic_with_spans"]
    lines.append(
        f"spans: char macro-F1 {fresh_f1:.4f} on the {n_fresh} ViHOS dev comments not in ViHSD train; "
        f"spans in {clean_spans:.2%} of non-toxic ViCTSD dev comments"
    )
    d = metrics["default_policy_victsd_dev"]
    lines.append(
        f"default policy on ViCTSD dev: publishes {d['published_share_of_non_toxic']:.2%} of non-toxic "
        "comments, "
        f"holds {d['held_share_of_toxic']:.2%} of toxic ones; rules fire on "
        f"{d['rule_hit_share_of_news_and_clean_social']:.2%} of news and clean social comments"
    )
    return "\n".join(lines)
