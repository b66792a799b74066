"""The news-spam corpus: well-formed, every kind present, and its evaluation file kept apart.

The evaluation figure ("news spam stopped") means something only if no training row is a
near-copy of an evaluation row: a paraphrase with other numbers would be scored almost in-sample.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from itertools import combinations

from moderation.scoring.spam import KINDS
from moderation.text.normalize import fold
from moderation.training.spam_training import EVAL_FILE, TRAIN_FILE, read_corpus

#: Share of shared character 5-grams (of the lower-cased, accent-free text) above which two rows
#: are near-copies.
NEAR_COPY = 0.5


def _grams(text: str) -> frozenset[str]:
    plain = " ".join(fold(text.lower()).split())
    return frozenset(plain[i : i + 5] for i in range(max(len(plain) - 4, 1)))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def test_every_row_is_well_formed_nfc_and_every_kind_is_present() -> None:
    for path in (TRAIN_FILE, EVAL_FILE):
        rows = read_corpus(path)
        assert all(r.text == unicodedata.normalize("NFC", r.text) and r.text.strip() for r in rows), path
        kinds = Counter(r.kind for r in rows if r.label == 1)
        assert set(kinds) == set(KINDS), (path, kinds)
        assert min(kinds.values()) >= 25, (path, kinds)
        assert sum(1 for r in rows if r.label == 0) >= 200, path
        assert all(r.kind is None for r in rows if r.label == 0), path


def test_no_text_is_written_twice_within_a_file() -> None:
    for path in (TRAIN_FILE, EVAL_FILE):
        texts = Counter(" ".join(fold(r.text.lower()).split()) for r in read_corpus(path))
        assert [t for t, n in texts.items() if n > 1] == [], path


def test_no_training_row_is_a_near_copy_of_an_evaluation_row() -> None:
    train = [(r.text, _grams(r.text)) for r in read_corpus(TRAIN_FILE)]
    evaluation = [(r.text, _grams(r.text)) for r in read_corpus(EVAL_FILE)]
    close = [
        (round(_jaccard(a, b), 2), t, e)
        for (t, a), (e, b) in ((x, y) for x in train for y in evaluation)
        if _jaccard(a, b) > NEAR_COPY
    ]
    assert close == [], close[:5]


def test_the_near_copy_measure_tells_a_paraphrase_from_another_text() -> None:
    """The check above can fail: a copy with other numbers is caught, a different offer is not."""
    one = _grams("Vay tiền online không cần thế chấp, giải ngân trong 5 phút, lh 0912 345 678")
    copy = _grams("vay tien online khong can the chap, giai ngan trong 10 phut, lh 0987 654 321")
    other = _grams("Nhận làm cộng tác viên chốt đơn tại nhà, lương 300k/ngày, ib zalo")
    assert _jaccard(one, copy) > NEAR_COPY > _jaccard(one, other)
    assert max(_jaccard(a, b) for a, b in combinations([one, other, _grams("Bài viết hay")], 2)) < NEAR_COPY
