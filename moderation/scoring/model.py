"""The trained models as plain data: one featuriser, one stacked coefficient matrix, one span tagger.

All attributes come out of one sparse product ``X @ W``: the columns of ``W`` are, in ``OUTPUTS``
order, the logistic regressions for toxicity, constructive and spam and the three classes of the
multinomial hate-speech model. ``save``/``load`` use a compressed ``.npz`` of arrays and a gzipped
JSON document; nothing is pickled.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from moderation.errors import ModelArtifactError
from moderation.scoring.hashing import HashedNgrams
from moderation.scoring.spam import SpamStage
from moderation.scoring.spans import SpanTagger
from moderation.text.teencode import TeencodeExpander

OUTPUTS = ("toxicity", "constructive", "spam", "hate_clean", "hate_offensive", "hate_hate")
ARRAYS_FILE = "model.npz"
DOCUMENT_FILE = "model.json.gz"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _write_npz(path: Path, **arrays: np.ndarray) -> None:
    """Like ``np.savez_compressed`` but with fixed timestamps, so the same model gives the same bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(info, buffer.getvalue())


@dataclass
class Probabilities:
    """Per-text probabilities of one batch (arrays of length n, hate is n x 3)."""

    toxicity: np.ndarray
    constructive: np.ndarray
    spam: np.ndarray
    hate: np.ndarray


@dataclass
class LinearModels:
    featurizer: HashedNgrams
    coef: np.ndarray
    intercept: np.ndarray
    hate_bias: np.ndarray
    spans: SpanTagger
    teencode: dict[str, str] = field(default_factory=dict)
    #: A comment the hate-speech model finds offensive with P(not clean) at or above this is at least
    #: that toxic: ViCTSD news comments rarely swear, so its model alone scores plain abuse low.
    #: Above 1 it is off. Chosen on dev (``moderation.training.tuning``).
    toxicity_override: float = 2.0
    #: News-site spam: lexical and contact signals combined with the text model's spam logit (see
    #: ``moderation.scoring.spam``); without it the spam score is the text model's alone.
    spam_stage: SpamStage | None = None

    def __post_init__(self) -> None:
        self.coef = np.ascontiguousarray(self.coef, dtype=np.float32)
        self.intercept = np.asarray(self.intercept, dtype=np.float32)
        self.hate_bias = np.asarray(self.hate_bias, dtype=np.float64)
        self.expander = TeencodeExpander(self.teencode)
        self._lock = threading.Lock()
        self.featurizer.warm_up(self._lock)

    def features(self, feature_texts: list[str]) -> sp.csr_matrix:
        return self.featurizer.transform_texts(feature_texts)

    def logits(self, x: sp.csr_matrix) -> np.ndarray:
        """(n x 6) raw scores, hate bias not yet applied."""
        return np.asarray(x @ self.coef, dtype=np.float64) + self.intercept

    def probabilities(self, logits: np.ndarray) -> Probabilities:
        hate = _softmax(logits[:, 3:6] + self.hate_bias)
        toxicity = _sigmoid(logits[:, 0])
        if self.toxicity_override <= 1.0:
            not_clean = 1.0 - hate[:, 0]
            toxicity = np.where(
                not_clean >= self.toxicity_override, np.maximum(toxicity, not_clean), toxicity
            )
        return Probabilities(
            toxicity=toxicity,
            constructive=_sigmoid(logits[:, 1]),
            spam=_sigmoid(logits[:, 2]),
            hate=hate,
        )

    def save(self, directory: Path) -> list[Path]:
        """Write the two model files; returns their paths."""
        fz = self.featurizer
        arrays_path = directory / ARRAYS_FILE
        _write_npz(
            arrays_path,
            kept=fz.kept.astype(np.int32),
            idf=fz.idf.astype(np.float32),
            col_block=fz.col_block.astype(np.int8),
            coef=self.coef.astype(np.float16),
            intercept=self.intercept.astype(np.float32),
            hate_bias=self.hate_bias.astype(np.float64),
        )
        document = {
            "outputs": list(OUTPUTS),
            "featurizer": fz.config(),
            "spans": {
                "bias": self.spans.bias,
                "threshold": self.spans.threshold,
                "weights": self.spans.weights,
                "lexicon": list(self.spans.lexicon),
                "gate": self.spans.gate,
            },
            "teencode": self.teencode,
            "toxicity_override": self.toxicity_override,
        }
        if self.spam_stage is not None:
            document["spam_stage"] = self.spam_stage.document()
        document_path = directory / DOCUMENT_FILE
        with gzip.open(document_path, "wt", encoding="utf-8", compresslevel=9) as handle:
            json.dump(document, handle, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        # gzip stores a timestamp; zero it so identical models give identical bytes.
        raw = bytearray(document_path.read_bytes())
        raw[4:8] = b"\0\0\0\0"
        document_path.write_bytes(bytes(raw))
        return [arrays_path, document_path]

    @classmethod
    def load(cls, directory: Path, expected_sha256: dict[str, str] | None = None) -> LinearModels:
        """Read the model files of a version directory.

        With ``expected_sha256`` ({file name: digest}, from the manifest) the bytes actually parsed
        are checked, so a file swapped after ``verify_artifact`` is still refused.
        """
        try:
            blobs = {name: (directory / name).read_bytes() for name in (ARRAYS_FILE, DOCUMENT_FILE)}
            for name, blob in blobs.items():
                if expected_sha256 is not None and hashlib.sha256(blob).hexdigest() != expected_sha256.get(
                    name
                ):
                    raise ModelArtifactError(
                        f"model file {directory / name} does not match its sha256 in the manifest"
                    )
            with np.load(io.BytesIO(blobs[ARRAYS_FILE]), allow_pickle=False) as arrays:
                data = {name: arrays[name] for name in arrays.files}
            document: dict[str, Any] = json.loads(gzip.decompress(blobs[DOCUMENT_FILE]).decode("utf-8"))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelArtifactError(f"model files in {directory} are unreadable: {exc}") from exc
        if tuple(document.get("outputs", ())) != OUTPUTS:
            raise ModelArtifactError(
                f"model in {directory} has outputs {document.get('outputs')}, expected {OUTPUTS}"
            )
        featurizer = HashedNgrams.from_config(
            document["featurizer"], kept=data["kept"], idf=data["idf"], col_block=data["col_block"]
        )
        span_doc = document["spans"]
        teencode = document.get("teencode", {})
        tagger = SpanTagger(
            weights=span_doc["weights"],
            bias=float(span_doc["bias"]),
            threshold=float(span_doc["threshold"]),
            lexicon=tuple(span_doc.get("lexicon", ())),
            teencode=teencode,
            gate=float(span_doc.get("gate", 0.0)),
        )
        if data["coef"].shape != (featurizer.n_features, len(OUTPUTS)):
            raise ModelArtifactError(
                f"model in {directory}: coefficient shape {data['coef'].shape} does not fit"
            )
        try:
            stage = SpamStage.from_document(document["spam_stage"]) if "spam_stage" in document else None
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelArtifactError(f"model in {directory}: unreadable spam stage: {exc}") from exc
        return cls(
            spam_stage=stage,
            featurizer=featurizer,
            coef=data["coef"],
            intercept=data["intercept"],
            hate_bias=data["hate_bias"],
            spans=tagger,
            teencode=teencode,
            toxicity_override=float(document.get("toxicity_override", 2.0)),
        )
