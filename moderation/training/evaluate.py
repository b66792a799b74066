"""Dev-split metrics of a loaded analyzer, and its speed.

Everything is measured through ``Analyzer.score`` (the serving path, with the saved float16
coefficients), on each dataset's dev split as given and stripped of diacritics. Thresholds are tuned
on the same dev splits (``tuning``), so the dev figures are optimistic estimates; the held-out test
splits are measured from outside the project. Where a dev split shares comments with a train split
(ViHSD dev repeats some ViHSD train comments; most ViHOS dev comments are ViHSD train comments, which
the hate model that gates and informs the spans has seen), the figure on the comments that are not
in any train split is reported too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_score, recall_score

from moderation.scoring.analyzer import Analyzer
from moderation.scoring.policy import Policy, apply_policy
from moderation.scoring.types import HATE_LABELS, ModelThresholds, ScoredText
from moderation.training.calibration import expected_calibration_error
from moderation.training.data import Split, strip_diacritics
from moderation.training.intervals import bootstrap, macro_f1_interval, share_interval
from moderation.training.spam_training import EVAL_FILE, CorpusRow, held_apart, read_corpus
from moderation.training.span_training import char_macro_f1, spans_to_chars
from moderation.training.tuning import variants


def score_batches(analyzer: Analyzer, texts: Sequence[str], batch: int = 512) -> list[ScoredText]:
    out: list[ScoredText] = []
    for i in range(0, len(texts), batch):
        out.extend(analyzer.score(texts[i : i + batch]))
    return out


def _fresh(texts: Sequence[str], train: Sequence[str]) -> list[int]:
    """Indices of the texts that do not occur in ``train`` (a leak-free subset of a dev split)."""
    seen = set(train)
    return [i for i, t in enumerate(texts) if t not in seen]


def _f1(y: Sequence[int], pred: Sequence[int]) -> float:
    return round(float(f1_score(y, pred, average="macro")), 4)


def evaluate(analyzer: Analyzer, splits: dict[str, Split]) -> dict[str, Any]:
    """The model card's metrics on the dev splits."""
    th = analyzer.thresholds
    metrics: dict[str, Any] = {}
    ctsd = splits["victsd/dev"]
    ctsd_scored = [score_batches(analyzer, v) for v in variants(ctsd.texts)]
    ctsd_fresh = _fresh(ctsd.texts, splits["victsd/train"].texts)
    for name, column in (("toxicity", "Toxicity"), ("constructive", "Constructiveness")):
        y = ctsd.column(column)
        threshold = th.for_attribute(name)
        preds = [[int(getattr(s, name) >= threshold) for s in scored] for scored in ctsd_scored]
        metrics[name] = {
            "dataset": "UIT-ViCTSD dev",
            "n": len(y),
            "macro_f1": _f1(y, preds[0]),
            "macro_f1_ci95": macro_f1_interval(y, preds[0]),
            "macro_f1_stripped": _f1(y, preds[1]),
            "macro_f1_stripped_ci95": macro_f1_interval(y, preds[1]),
            "macro_f1_not_in_train": _f1([y[i] for i in ctsd_fresh], [preds[0][i] for i in ctsd_fresh]),
            "n_not_in_train": len(ctsd_fresh),
            "calibration_error": round(
                expected_calibration_error(np.array([getattr(s, name) for s in ctsd_scored[0]]), y), 4
            ),
        }

    hsd = splits["vihsd/dev"]
    y = hsd.column("label_id")
    hsd_scored = [score_batches(analyzer, v) for v in variants(hsd.texts)]
    preds = [[HATE_LABELS.index(s.hate_label) for s in scored] for scored in hsd_scored]
    hsd_fresh = _fresh(hsd.texts, splits["vihsd/train"].texts)
    metrics["hate_speech"] = {
        "dataset": "UIT-ViHSD dev",
        "n": len(y),
        "macro_f1": _f1(y, preds[0]),
        "macro_f1_ci95": macro_f1_interval(y, preds[0]),
        "macro_f1_stripped": _f1(y, preds[1]),
        "macro_f1_stripped_ci95": macro_f1_interval(y, preds[1]),
        "macro_f1_not_in_train": _f1([y[i] for i in hsd_fresh], [preds[0][i] for i in hsd_fresh]),
        "n_not_in_train": len(hsd_fresh),
        "calibration_error_not_clean": round(
            expected_calibration_error(
                np.array([1 - s.hate_scores["clean"] for s in hsd_scored[0]]), [int(v > 0) for v in y]
            ),
            4,
        ),
    }

    spam = splits["vispam/dev"]
    labels = spam.column("SpamLabel")
    keep = [i for i, label in enumerate(labels) if label in (0, 3)]
    y_spam = [int(labels[i] == 3) for i in keep]
    spam_metrics: dict[str, Any] = {"dataset": "ViSpamReviews dev, SpamLabel 3 vs 0", "n": len(keep)}
    for suffix, variant in zip(("", "_stripped"), variants([spam.texts[i] for i in keep]), strict=True):
        pred = [int(s.spam >= th.spam) for s in score_batches(analyzer, variant)]
        spam_metrics[f"macro_f1{suffix}"] = _f1(y_spam, pred)
        spam_metrics[f"macro_f1{suffix}_ci95"] = macro_f1_interval(y_spam, pred)
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
    pred = [spans_to_chars(s.spans) for s in score_batches(analyzer, hos.texts)]
    seen = set(splits["vihsd/train"].texts)
    fresh = [i for i, t in enumerate(hos.texts) if t not in seen]
    non_toxic = [s for s, t in zip(ctsd_scored[0], ctsd.column("Toxicity"), strict=True) if t == 0]
    same = [i for i, t in enumerate(hos.texts) if len(strip_diacritics(t)) == len(t)]
    stripped_scored = score_batches(analyzer, [strip_diacritics(hos.texts[i]) for i in same])
    metrics["spans"] = {
        "dataset": "ViHOS dev",
        "n": len(hos.texts),
        "char_macro_f1": round(char_macro_f1(golds, pred, [len(t) for t in hos.texts]), 4),
        "char_macro_f1_ci95": bootstrap(
            lambda i: char_macro_f1(
                [golds[j] for j in i], [pred[j] for j in i], [len(hos.texts[j]) for j in i]
            ),
            len(golds),
            resamples=300,
        ),
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

    metrics["news_spam"] = news_spam(analyzer, splits)
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


def stopped_by_policy(scored: Sequence[ScoredText], thresholds: ModelThresholds) -> list[bool]:
    """Held or rejected by the default policy, for any reason (the spam score, a link, a phone
    number...): what a reader sees of a spam comment."""
    policy = Policy()
    return [apply_policy(s, policy, thresholds)[0] != "publish" for s in scored]


def news_spam(
    analyzer: Analyzer, splits: dict[str, Split], rows: list[CorpusRow] | None = None
) -> dict[str, Any]:
    """Spam on comments the spam stage never saw: the corpus' evaluation part (or ``rows``) and the
    held-apart halves of ViCTSD dev and clean ViHSD dev (``spam_training.held_apart``).

    "Stopped" is ``stopped_by_policy``; "flagged" is the spam score at its threshold.
    """
    th = analyzer.thresholds
    if rows is None:
        rows = read_corpus(EVAL_FILE) if EVAL_FILE.is_file() else []
    spam_rows = [r for r in rows if r.label == 1]
    clean_rows = [r for r in rows if r.label == 0]
    out: dict[str, Any] = {
        "evaluation_file": EVAL_FILE.name,
        "spam": len(spam_rows),
        "clean": len(clean_rows),
    }
    for suffix, strip in (("", False), ("_stripped", True)):
        texts = [strip_diacritics(r.text) if strip else r.text for r in spam_rows]
        scored = score_batches(analyzer, texts)
        stopped = stopped_by_policy(scored, th)
        flagged = [s.spam >= th.spam for s in scored]
        out[f"spam_stopped{suffix}"] = round(float(np.mean(stopped)), 4) if stopped else None
        out[f"spam_stopped{suffix}_ci95"] = share_interval(stopped)
        out[f"spam_flagged{suffix}"] = round(float(np.mean(flagged)), 4) if flagged else None
        if not strip and scored:
            out["kind_accuracy_of_flagged"] = round(
                float(
                    np.mean(
                        [
                            s.spam_kind == r.kind
                            for s, r, f in zip(scored, spam_rows, flagged, strict=True)
                            if f
                        ]
                        or [0.0]
                    )
                ),
                4,
            )
            out["stopped_by_kind"] = {
                kind: round(
                    float(np.mean([h for h, r in zip(stopped, spam_rows, strict=True) if r.kind == kind])), 4
                )
                for kind in sorted({r.kind for r in spam_rows if r.kind})
            }
    news = [t for t in splits["victsd/dev"].texts if held_apart(t)]
    hsd = splits["vihsd/dev"]
    news += [t for t, y in zip(hsd.texts, hsd.column("label_id"), strict=True) if y == 0 and held_apart(t)]
    for name, texts in (("corpus_clean", [r.text for r in clean_rows]), ("news_held_apart", news)):
        for suffix, strip in (("", False), ("_stripped", True)):
            scored = score_batches(analyzer, [strip_diacritics(t) for t in texts] if strip else texts)
            flagged = [s.spam >= th.spam for s in scored]
            out[f"{name}_n"] = len(texts)
            out[f"{name}_flagged{suffix}"] = round(float(np.mean(flagged)), 4) if flagged else None
            out[f"{name}_flagged{suffix}_ci95"] = share_interval(flagged)
            if not strip:
                held = stopped_by_policy(scored, th)
                out[f"{name}_held_any_reason"] = round(float(np.mean(held)), 4) if held else None
    return out


def measure_speed(analyzer: Analyzer, texts: Sequence[str], batch: int = 1000) -> dict[str, Any]:
    """Comments per second of ``analyze`` (all attributes, spans, rules, default policy) on one core.

    Pins the process to one CPU for the measurement where the OS allows it (and restores the
    previous affinity); BLAS threads are not limited here, see ``bench/bench_scoring.py`` for the
    benchmark proper.
    """
    pinned = hasattr(os, "sched_getaffinity")
    before = os.sched_getaffinity(0) if pinned else set()
    if pinned:
        os.sched_setaffinity(0, {min(before)})
    try:
        analyzer.analyze(list(texts[:256]))  # warm-up
        started = time.perf_counter()
        for i in range(0, len(texts), batch):
            analyzer.analyze(list(texts[i : i + batch]))
        seconds = time.perf_counter() - started
    finally:
        if pinned:
            os.sched_setaffinity(0, before)
    return {
        "comments": len(texts),
        "batch": batch,
        "comments_per_s": round(len(texts) / seconds),
        "one_core": pinned,
    }


def _with_interval(value: float, interval: Sequence[float] | None) -> str:
    if not interval:
        return f"{value:.4f}"
    return f"{value:.4f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def _pct(value: float | None, interval: Sequence[float] | None = None) -> str:
    if value is None:
        return "-"
    text = f"{value:.2%}"
    return f"{text} [{interval[0]:.2%}, {interval[1]:.2%}]" if interval else text


def news_spam_lines(m: dict[str, Any] | None, stage: dict[str, Any] | None) -> list[str]:
    """News spam on the held-apart evaluation set, and the stage's cross-validated figures."""
    lines: list[str] = []
    if m and m.get("spam"):
        lines.append(
            f"news spam, evaluation set ({m['spam']} spam, {m['clean']} clean, never trained on): "
            f"stopped (held or rejected) {_pct(m['spam_stopped'], m['spam_stopped_ci95'])}, "
            f"stripped {_pct(m['spam_stopped_stripped'], m['spam_stopped_stripped_ci95'])}; "
            f"flagged as spam {_pct(m['spam_flagged'])}; "
            f"kind right for {_pct(m['kind_accuracy_of_flagged'])} of the flagged"
        )
        lines.append(
            "  stopped by kind: " + ", ".join(f"{k} {v:.0%}" for k, v in m["stopped_by_kind"].items())
        )
        lines.append(
            f"  clean comments of the evaluation set flagged as spam: "
            f"{_pct(m['corpus_clean_flagged'], m['corpus_clean_flagged_ci95'])} (held for any reason "
            f"{_pct(m['corpus_clean_held_any_reason'])})"
        )
    if m:
        lines.append(
            f"  held-apart news comments (half of ViCTSD dev and of clean ViHSD dev, n="
            f"{m['news_held_apart_n']}) flagged as spam: "
            f"{_pct(m['news_held_apart_flagged'], m['news_held_apart_flagged_ci95'])}, stripped "
            f"{_pct(m['news_held_apart_flagged_stripped'], m['news_held_apart_flagged_stripped_ci95'])}"
        )
    cv = (stage or {}).get("cross_validated")
    if cv:
        lines.append(
            f"  spam stage, {stage['folds']}-fold cross-validated at training "
            f"(threshold {stage['threshold']}): "
            f"corpus spam recall {_pct(cv['recall_corpus_spam'], cv['recall_corpus_spam_ci95'])}, "
            f"ViSpamReviews spam {_pct(cv['recall_vispam_spam'], cv['recall_vispam_spam_ci95'])}; "
            f"news flagged {_pct(cv['flagged_news'], cv['flagged_news_ci95'])}, corpus clean "
            f"{_pct(cv['flagged_corpus_clean'], cv['flagged_corpus_clean_ci95'])}"
        )
    return lines


#: The attributes whose models are trained on the dev split too (chosen by cross-validation).
POOLED = ("toxicity", "constructive", "hate_speech")


def _cv_cells(cv: dict[str, Any] | None) -> tuple[str, str, str]:
    if not cv:
        return ("-", "-", "-")
    return (
        _with_interval(cv["macro_f1"], cv["macro_f1_ci95"]),
        _with_interval(cv["macro_f1_stripped"], cv["macro_f1_stripped_ci95"]),
        _with_interval(cv["macro_f1_dev_rows"], cv["macro_f1_dev_rows_ci95"]),
    )


def metrics_table(metrics: dict[str, Any], recorded: dict[str, Any] | None = None) -> str:
    """A plain-text table of the headline figures (``recorded``: the manifest's training choices).

    For the attributes trained on train + dev the honest figures are the out-of-fold ones recorded
    at training (every row scored by a model that never saw it); the served model's dev figure is
    then in-sample and shown only for reference. Spam and spans are trained without their dev split.
    """
    cross = (recorded or {}).get("cross_validated") or {}
    rows = [
        (
            "attribute",
            "cross-validated, train+dev [95%]",
            "stripped [95%]",
            "dev rows, out of fold [95%]",
            "dev, served model [95%]",
            "dev stripped",
        )
    ]
    for name in ("toxicity", "constructive", "hate_speech", "spam"):
        m = metrics[name]
        seen = " (trained on)" if name in cross or name == "spam" else ""
        rows.append(
            (
                name,
                *_cv_cells(cross.get(name)),
                _with_interval(m["macro_f1"], m.get("macro_f1_ci95")) + seen,
                f"{m['macro_f1_stripped']:.4f}",
            )
        )
    s = metrics["spans"]
    rows.append(
        (
            "spans (char)",
            "-",
            "-",
            "-",
            _with_interval(s["char_macro_f1"], s.get("char_macro_f1_ci95")),
            f"{s['char_macro_f1_stripped']:.4f}",
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    sets = "toxicity and constructive: UIT-ViCTSD; hate_speech: UIT-ViHSD; spam: ViSpamReviews"
    lines.append(f"({sets}, SpamLabel 3 vs 0; spans: ViHOS dev)")
    if cross:
        n = ", ".join(f"{a} {cross[a]['n']} ({cross[a]['n_dev']} dev)" for a in POOLED if a in cross)
        lines.append(
            f"cross-validated rows: {n}; the spam stage has its own folds (below), the span tagger is "
            "tuned on ViHOS dev"
        )
    sm = metrics["spam"]
    lines.append("")
    lines.append(
        f"spam precision {sm['precision']:.4f}, recall {sm['recall']:.4f}; flags "
        f"{sm['false_positive_rate_victsd']:.2%} of ViCTSD dev comments "
        f"({sm['false_positive_rate_victsd_stripped']:.2%} stripped) and "
        f"{sm['false_positive_rate_vihsd_clean']:.2%} of clean ViHSD dev comments "
        f"({sm['false_positive_rate_vihsd_clean_stripped']:.2%} stripped)"
    )
    clean_spans = s["victsd_dev_non_toxic_with_spans"]
    line = f"spans in {clean_spans:.2%} of non-toxic ViCTSD dev comments"
    leak_free = (recorded or {}).get("spans", {}).get("dev_char_macro_f1_out_of_fold_docs")
    if leak_free is not None:
        line += (
            f"; ViHOS dev char macro-F1 {leak_free:.4f} with hate probabilities from models that never saw "
            "ViHOS dev (measured at training)"
        )
    lines.append(line)
    lines.append(
        f"calibration error (ECE, dev): toxicity {metrics['toxicity']['calibration_error']:.4f}, "
        f"constructive {metrics['constructive']['calibration_error']:.4f}, "
        f"hate_speech not clean {metrics['hate_speech']['calibration_error_not_clean']:.4f}"
    )
    d = metrics["default_policy_victsd_dev"]
    lines.append(
        f"default policy on ViCTSD dev: publishes {d['published_share_of_non_toxic']:.2%} of non-toxic "
        "comments, "
        f"holds {d['held_share_of_toxic']:.2%} of toxic ones; rules fire on "
        f"{d['rule_hit_share_of_news_and_clean_social']:.2%} of news and clean social comments"
        + (" (in-sample: the model was trained on ViCTSD dev)" if cross else "")
    )
    policy_cv = cross.get("default_policy_victsd")
    if policy_cv:
        lines.append(
            f"  out of fold, ViCTSD train+dev ({policy_cv['n']}), toxicity and hate-speech scores alone: "
            f"publishes {policy_cv['published_share_of_non_toxic']:.2%} of non-toxic comments, holds "
            f"{policy_cv['held_share_of_toxic']:.2%} of toxic ones"
        )
    lines += news_spam_lines(metrics.get("news_spam"), (recorded or {}).get("spam_stage"))
    speed = metrics.get("speed")
    if speed:
        lines.append(
            f"speed: {speed['comments_per_s']} comments/s for analyze() with everything, batches of "
            f"{speed['batch']}, {speed['comments']} dev comments, "
            f"{'one core' if speed['one_core'] else 'not pinned'}"
        )
    return "\n".join(lines)
