"""The analyzer that serving uses: texts in, ``ScoredText`` and contract-shaped analyses out.

Batch-first: each text is prepared once (``moderation.text.prepare``), the whole batch becomes one
sparse feature matrix, and one product with the stacked coefficients gives every attribute. Spans and
rules reuse the prepared forms. The analyzer holds no mutable state after loading, so threads can
share it; ``get_analyzer`` loads one per process, lazily, under a lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moderation.errors import ModelArtifactError
from moderation.scoring.artifact import verify_artifact
from moderation.scoring.model import LinearModels
from moderation.scoring.policy import Policy, apply_policy
from moderation.scoring.rules import text_rules
from moderation.scoring.types import HATE_LABELS, ModelThresholds, ScoredText, analysis_dict
from moderation.text.normalize import tracked
from moderation.text.offsets import TrackedText, collapse_spaces_tracked
from moderation.text.patterns import find_links
from moderation.text.prepare import Prepared, prepare

log = logging.getLogger(__name__)
#: Spam scores from which the kind model runs (below, the vocabulary alone names a kind).
KIND_FROM = 0.1


class Analyzer:
    """Scores batches of comments with one loaded model version."""

    def __init__(self, models: LinearModels, manifest: dict[str, Any]) -> None:
        self.models = models
        self.manifest = manifest
        self.model_version: str = str(manifest.get("version", "unknown"))
        raw = manifest.get("thresholds", {})
        fields = ("toxicity", "hate_speech", "spam", "constructive")
        self.thresholds = ModelThresholds(**{k: float(raw[k]) for k in fields if k in raw})

    def score(self, texts: Sequence[str]) -> list[ScoredText]:
        """Scores, spans, rules and normal forms of every text, in order."""
        texts = [t if isinstance(t, str) else "" for t in texts]
        if not texts:
            return []
        models = self.models
        prepared = [prepare(t, models.expander) for t in texts]
        features = [p.features for p in prepared]
        x = models.features(features)
        logits = models.logits(x)
        probs = models.probabilities(logits)
        rules = [text_rules(p.raw, p.canonical) for p in prepared]
        stage = models.spam_stage
        kinds = ["other"] * len(texts)
        if stage is None:
            spam = probs.spam.tolist()
        else:
            signals = stage.signals(prepared, rules)
            vectors = stage.vectors(signals, logits[:, 2])
            spam_array = stage.probabilities(vectors)
            spam = spam_array.tolist()
            # Only comments that could be flagged need a kind (the site's threshold may be lower).
            kinds = stage.kinds(x, vectors, signals, np.flatnonzero(spam_array >= KIND_FROM))
        hate = probs.hate.tolist()
        toxicity, constructive = probs.toxicity.tolist(), probs.constructive.tolist()
        gate = models.spans.gate
        out: list[ScoredText] = []
        for i, (text, prep) in enumerate(zip(texts, prepared, strict=True)):
            scores = dict(zip(HATE_LABELS, hate[i], strict=True))
            not_clean = 1.0 - scores["clean"]
            offensive = not_clean >= gate
            out.append(
                ScoredText(
                    text=text,
                    toxicity=toxicity[i],
                    spam=spam[i],
                    constructive=constructive[i],
                    hate_scores=scores,
                    hate_label=max(scores, key=scores.__getitem__),
                    spans=_outside_links(
                        text, prep.raw, self._spans(text, prep, (not_clean, scores["hate"])), rules[i]
                    )
                    if offensive
                    else [],
                    rules=rules[i],
                    spam_kind=kinds[i],
                    canonical=prep.canonical,
                    folded=prep.folded,
                )
            )
        return out

    def _spans(self, text: str, prep: Prepared, doc: tuple[float, float]) -> list[tuple[int, int]]:
        canonical = prep.canonical
        found = self.models.spans.tag(canonical, prep.folded, doc)
        if not found:
            return []
        mapping = _offsets(text, canonical)
        if mapping.text != canonical:  # cannot happen (same steps); never report wrong offsets
            log.warning("canonical form mismatch; spans dropped")
            return []
        spans: list[tuple[int, int]] = []
        for start, end in found:
            a, b = mapping.to_original(start, end)
            if spans and a <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(b, spans[-1][1]))
            elif b > a:
                spans.append((a, b))
        return spans

    def analyze(
        self,
        texts: Sequence[str],
        ids: Sequence[Any] | None = None,
        policies: Policy | Sequence[Policy] | None = None,
    ) -> list[dict[str, Any]]:
        """Contract-shaped analyses; ``policies`` is None (default policy), one, or one per text."""
        n = len(texts)
        if ids is not None and len(ids) != n:
            raise ValueError(f"got {len(ids)} ids for {n} texts")
        if policies is None or isinstance(policies, Policy):
            per_text: Sequence[Policy] = [policies or Policy()] * n
        else:
            per_text = list(policies)
            if len(per_text) != n:
                raise ValueError(f"got {len(per_text)} policies for {n} texts")
        results = []
        for i, scored in enumerate(self.score(texts)):
            decision, reasons = apply_policy(scored, per_text[i], self.thresholds)
            results.append(
                analysis_dict(
                    scored,
                    comment_id=None if ids is None else ids[i],
                    model_version=self.model_version,
                    thresholds=self.thresholds,
                    decision=decision,
                    reasons=reasons,
                )
            )
        return results


def _outside_links(
    text: str, raw: str, spans: list[tuple[int, int]], rules: list[str]
) -> list[tuple[int, int]]:
    """The spans without the characters of links: an address is not an insult, even with a "/" in it.

    Links are found on the NFKC lower-case text; where that changed the length (rare compatibility
    characters), offsets would not line up and the spans are kept as they are.
    """
    if not spans or "link" not in rules or len(raw) != len(text):
        return spans
    links = [(m.start(), m.end()) for m in find_links(raw)]
    out: list[tuple[int, int]] = []
    for start, end in spans:
        pieces = [(start, end)]
        for a, b in links:
            pieces = [p for s, e in pieces for p in ((s, min(e, a)), (max(s, b), e)) if p[1] > p[0]]
        out += [(s, e) for s, e in pieces if any(ch.isalnum() for ch in text[s:e])]
    return out


def _offsets(text: str, canonical: str) -> TrackedText:
    """The offset map from ``canonical`` back to ``text``.

    Most comments need no rewriting beyond lower case and whitespace; for them the map comes from
    the word positions alone (the full ``tracked`` re-runs every normalisation step).
    """
    low = text.lower()
    if len(low) == len(text) and len(canonical) <= len(low):
        n = len(low)
        if low == canonical:
            return TrackedText(original=text, text=low, starts=list(range(n)), ends=list(range(1, n + 1)))
        if " ".join(low.split()) == canonical:
            collapsed, starts, ends = collapse_spaces_tracked(low, list(range(n)), list(range(1, n + 1)))
            return TrackedText(original=text, text=collapsed, starts=starts, ends=ends)
    return tracked(text)


def load_analyzer(model_dir: Path | None = None) -> Analyzer:
    """Verify the artifact's checksums, then load it (``model_dir`` defaults to the shipped models)."""
    manifest = verify_artifact(model_dir)
    digests = {entry["name"]: entry["sha256"] for entry in manifest["files"]}
    models = LinearModels.load(Path(manifest["path"]), expected_sha256=digests)
    return Analyzer(models, manifest)


_instance: Analyzer | None = None
_instance_lock = threading.Lock()


def get_analyzer() -> Analyzer:
    """The process-wide analyzer, loaded on first use (thread-safe)."""
    global _instance
    analyzer = _instance
    if analyzer is None:
        with _instance_lock:
            if _instance is None:
                _instance = load_analyzer()
            analyzer = _instance
    return analyzer


def analyze(
    texts: Sequence[str],
    ids: Sequence[Any] | None = None,
    policies: Policy | Sequence[Policy] | None = None,
) -> list[dict[str, Any]]:
    """``get_analyzer().analyze(...)``."""
    return get_analyzer().analyze(texts, ids=ids, policies=policies)


__all__ = ["Analyzer", "ModelArtifactError", "analyze", "get_analyzer", "load_analyzer"]
