"""Training helpers on tiny inputs: the featuriser, the span metric, the data loaders (fast, no datasets)."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import pytest

from moderation.scoring.hashing import HashedNgrams
from moderation.training.data import check_datasets_dir, strip_diacritics
from moderation.training.span_training import char_macro_f1, spans_to_chars
from moderation.training.teencode_table import check, derive

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
