"""Training helpers on tiny inputs: featuriser, span metric, loaders, folds, calibration (no datasets)."""

from __future__ import annotations

import os
from pathlib import Path

import click
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from moderation.scoring import load_analyzer
from moderation.scoring.hashing import HashedNgrams
from moderation.scoring.spans import SpanTagger, doc_keys
from moderation.training.calibration import expected_calibration_error, platt, temperature
from moderation.training.data import check_datasets_dir, strip_diacritics
from moderation.training.evaluate import measure_speed
from moderation.training.folds import fold_of, out_of_fold_probs
from moderation.training.span_training import build_rows, char_macro_f1, predict_chars, spans_to_chars
from moderation.training.teencode_table import check, derive
from moderation.training.train import fit_binary, nb_ratio

DOCS = ["thằng này ngu quá", "bài viết rất hay", "rất hay và rất ngu", "ngu quá đi", "bài này hay"]


def _folded(texts: list[str]) -> list[str]:
    return [strip_diacritics(t) for t in texts]


def test_hashed_features_are_deterministic_and_block_normalised() -> None:
    featurizer = HashedNgrams(bits=18, min_df=1).fit(DOCS, _folded(DOCS))
    x1 = featurizer.transform(DOCS, _folded(DOCS)).toarray()
    x2 = (
        HashedNgrams.from_config(
            featurizer.config(), kept=featurizer.kept, idf=featurizer.idf, col_block=featurizer.col_block
        )
        .transform(DOCS, _folded(DOCS))
        .toarray()
    )
    assert np.array_equal(x1, x2)
    assert x1.shape == (len(DOCS), featurizer.n_features)
    # four L2-normalised blocks per row
    assert np.allclose((x1**2).sum(axis=1), 4.0, atol=1e-4)


def test_batch_composition_does_not_change_a_row() -> None:
    featurizer = HashedNgrams(bits=18, min_df=1).fit(DOCS, _folded(DOCS))
    alone = featurizer.transform(DOCS[:1], _folded(DOCS[:1])).toarray()
    batch = featurizer.transform(["", *DOCS], ["", *_folded(DOCS)]).toarray()
    assert np.allclose(alone[0], batch[1])
    assert not batch[0].any()


def test_min_df_drops_rare_ngrams() -> None:
    rare = HashedNgrams(bits=18, min_df=1).fit(DOCS, _folded(DOCS))
    common = HashedNgrams(bits=18, min_df=2).fit(DOCS, _folded(DOCS))
    assert 0 < common.n_features < rare.n_features


def test_char_macro_f1() -> None:
    assert char_macro_f1([{0, 1}], [{0, 1}], [4]) == 1.0
    half = char_macro_f1([{0, 1}], [{0}], [4])
    assert 0.5 < half < 1.0
    assert spans_to_chars([(0, 2), (5, 6)]) == {0, 1, 5}


def test_strip_diacritics_keeps_case_and_length() -> None:
    assert strip_diacritics("Đường Phố Hà Nội") == "Duong Pho Ha Noi"
    assert len(strip_diacritics("Thủy")) == 4


def test_teencode_derivation_on_a_tiny_corpus(tmp_path: Path) -> None:
    rows = (
        ["original,normalized"] + ["ko biết,không biết"] * 3 + ["đc rồi,được rồi"] * 2 + ["ko sao,không sao"]
    )
    train = tmp_path / "train.csv"
    train.write_text("\n".join(rows) + "\n", encoding="utf-8")
    table = derive(train, min_count=2)
    assert table["ko"][0] == "không" and table["đc"][0] == "được"
    result = check({k: v[0] for k, v in table.items()}, train)
    assert result["precision"] == 1.0


def test_missing_datasets_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(click.ClickException, match="datasets not found"):
        check_datasets_dir(tmp_path)


def test_nb_ratio_favours_features_of_the_positive_class() -> None:
    x = sp.csr_matrix(np.array([[1, 0, 1], [1, 0, 1], [0, 1, 1], [0, 1, 1]], dtype=np.float32))
    ratio = nb_ratio(x, np.array([1, 1, 0, 0]))
    assert ratio[0] > 0 > ratio[1]
    assert abs(ratio[2]) < 1e-6


def test_feature_scaling_is_folded_into_the_exported_coefficients() -> None:
    rng = np.random.default_rng(0)
    x = sp.random(60, 8, density=0.5, format="csr", random_state=0, dtype=np.float32)
    y = (np.asarray(x[:, 0].todense()).ravel() > 0.3).astype(int)
    scale = rng.uniform(0.5, 2.0, 8).astype(np.float32)
    model = fit_binary(x, y, 1.0, scale=scale)
    reference = LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced", random_state=0)
    reference.fit(x @ sp.diags(scale), y)
    assert np.allclose(model.logits(x), reference.decision_function(x @ sp.diags(scale)), atol=1e-4)


def test_fold_of_depends_only_on_the_text() -> None:
    assert fold_of("bài viết hay", 4) == fold_of("bài viết hay", 4)
    assert {fold_of(f"comment {i}", 4) for i in range(200)} == {0, 1, 2, 3}


def test_out_of_fold_models_never_saw_the_comment_they_score() -> None:
    texts = [f"text {i}" for i in range(40)]
    x = sp.identity(40, format="csr", dtype=np.float32)  # row i has column i only
    x2 = sp.vstack([x, x]).tocsr()  # a second (e.g. stripped) copy of every row
    y = np.arange(80) % 3

    def fit(xs: sp.csr_matrix, _y: np.ndarray):
        seen = set(np.flatnonzero(np.asarray(xs.sum(axis=0)).ravel()))

        def predict(z: sp.csr_matrix) -> np.ndarray:
            ids = [row.indices[0] for row in z]
            return np.array([[1.0, 0.0, 0.0] if i in seen else [0.0, 1.0, 0.0] for i in ids])

        return predict

    targets = [(texts[:30], [x[:30]])]
    held = [(texts[30:], [x[30:]])]
    (target_probs,), (held_probs,) = out_of_fold_probs(texts, x2, y, fit, targets, held, k=4)
    assert np.all(target_probs[0][:, 1] == 1.0)  # never scored by a model that saw it
    assert np.allclose(held_probs[0][:, 1], 1.0)  # held-out comments left out of every model


def test_platt_and_temperature_calibrate() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=4000)
    y = (rng.uniform(size=4000) < 1 / (1 + np.exp(-(2.0 * z - 1.0)))).astype(int)
    a, b = platt(z, y)
    assert abs(a - 2.0) < 0.3 and abs(b + 1.0) < 0.3
    calibrated = 1 / (1 + np.exp(-(a * z + b)))
    assert expected_calibration_error(calibrated, y) < expected_calibration_error(1 / (1 + np.exp(-z)), y)
    logits = rng.normal(size=(3000, 3)) * 3
    p = np.exp(logits / 3) / np.exp(logits / 3).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(3, p=row) for row in p])
    assert abs(temperature(logits, labels) - 3.0) < 0.5


def test_doc_keys_bin_the_comment_probabilities() -> None:
    assert doc_keys(0.0, 0.0) == [("docb", "0"), ("hateb", "0")]
    assert doc_keys(1.0, 1.0) == [("docb", "9"), ("hateb", "4")]
    assert doc_keys(0.55, 0.3) == [("docb", "5"), ("hateb", "1")]


def test_span_rows_carry_the_comment_evidence_and_stripped_copies() -> None:
    text = "thằng ngu"
    gold = set(range(6, 9))
    rows = build_rows([text], [gold], [(0.9, 0.1)], [(0.8, 0.1)], {}, ["ngu"])
    assert rows.labels == [0, 1, 0, 1]  # the text and its stripped copy
    assert "docb=9" in rows.keys[0] and "docb=8" in rows.keys[2]
    assert "bad=1" in rows.keys[1]


def test_comment_evidence_moves_every_token_of_a_comment() -> None:
    weights = {"u": {"ngu": 1.0}, "docb": {"9": 3.0}}
    tagger = SpanTagger(weights=weights, bias=-2.0, threshold=0.5)
    assert tagger.tag("nó ngu", "no ngu", (0.1, 0.0)) == []
    assert tagger.tag("nó ngu", "no ngu", (0.95, 0.0)) == [(0, 6)]
    assert predict_chars(tagger, ["Nó NGU"], [(0.95, 0.0)], 0.5) == [set(range(6))]


def test_speed_measurement_restores_the_cpu_affinity() -> None:
    before = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    speed = measure_speed(load_analyzer(), ["Bài viết hay quá", "đm thằng ngu"] * 20, batch=8)
    assert speed["comments"] == 40 and speed["comments_per_s"] > 0
    if before is not None:
        assert os.sched_getaffinity(0) == before


def test_card_only_renders_the_card_again_and_keeps_the_artifact_checked(tmp_path: Path) -> None:
    """``moderation train --card-only``: a card's text fixed after a long training, without retraining."""
    import shutil

    from click.testing import CliRunner

    from moderation.scoring.artifact import resolve_version_dir, verify_artifact
    from moderation.training.cli import train

    shipped = resolve_version_dir()
    version = shipped.name
    shutil.copytree(shipped, tmp_path / version)
    card = tmp_path / version / "MODEL_CARD.md"
    card.write_text("stale\n", encoding="utf-8")
    result = CliRunner().invoke(train, ["--output", str(tmp_path), "--version", version, "--card-only"])
    assert result.exit_code == 0, result.output
    assert "## What changed" in card.read_text(encoding="utf-8")
    assert verify_artifact(tmp_path / version)["version"] == version
    missing = CliRunner().invoke(train, ["--output", str(tmp_path), "--version", "2001.1.1", "--card-only"])
    assert missing.exit_code != 0 and "no model 2001.1.1" in missing.output
