"""Hashed character and word n-gram TF-IDF features for a whole batch at once, in numpy.

scikit-learn's vectorizers build n-grams one document at a time in Python, which caps a model with
accented and folded char+word features at a few thousand comments per second. Here the batch is
joined into one code-point array and every n-gram's hash is computed with vectorised prefix sums:
a polynomial hash modulo 2**64 of the substring [s, e) is ``P**(e-1) * (S[e] - S[s])`` with
``S[k] = sum(c_j * P**-j for j < k)``, so all n-grams of all documents cost a handful of array
operations. Hashes are stable across processes (no Python ``hash``).

Four blocks, each L2-normalised like a ``FeatureUnion`` of ``TfidfVectorizer(sublinear_tf=True)``:
characters (``char_wb``-style, n-grams never cross a space) and words of the canonical feature text,
and the same of its diacritic-free fold. Only buckets seen in at least ``min_df`` training documents
get a column, which keeps the coefficient matrices small.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from moderation.text.normalize import fold_same_length
from moderation.text.prepare import folded_view

_P = np.uint64(0x100000001B3)  # odd, so invertible modulo 2**64
_Q = np.uint64(pow(int(_P), -1, 2**64))
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_GOLDEN = 0x9E3779B97F4A7C15
_S33 = np.uint64(33)
_SEP = 10  # "\n" separates documents (feature texts contain no newline)
_SPACE = 32
BLOCKS = ("char", "word", "char_folded", "word_folded")


def _mix(x: np.ndarray, salt: int, bits: int) -> np.ndarray:
    """Finalise 64-bit hashes (murmur3 fmix64) and keep the top ``bits`` bits as bucket numbers."""
    x = x + np.uint64(salt % 2**64)
    x ^= x >> _S33
    x *= _M1
    x ^= x >> _S33
    x *= _M2
    x ^= x >> _S33
    return (x >> np.uint64(64 - bits)).astype(np.int64)


def _powers(base: np.uint64, n: int) -> np.ndarray:
    out = np.full(n, base, dtype=np.uint64)
    out[0] = 1
    return np.cumprod(out, dtype=np.uint64)


@dataclass
class _Batch:
    """Code points of one batch and the prefix sums every n-gram hash needs."""

    codes: np.ndarray
    prefix: np.ndarray
    ppow: np.ndarray
    seps: np.ndarray
    spaces: np.ndarray
    doc_of: np.ndarray

    @classmethod
    def build(cls, texts: Sequence[str], ppow: np.ndarray, qpow: np.ndarray) -> _Batch:
        joined = "\n".join(f" {t} " for t in texts)
        codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
        n = len(codes)
        prefix = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum(codes * qpow[:n], out=prefix[1:])
        is_sep = codes == _SEP
        seps = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(is_sep, out=seps[1:])
        spaces = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(codes == _SPACE, out=spaces[1:])
        return cls(codes, prefix, ppow, seps, spaces, seps[:-1])

    def hash(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        return self.ppow[end - 1] * (self.prefix[end] - self.prefix[start])


@dataclass
class HashedNgrams:
    """Batch featuriser; ``fit`` learns which buckets get a column and their IDF."""

    bits: int = 22
    char_range: tuple[int, int] = (1, 5)
    word_range: tuple[int, int] = (1, 2)
    folded_word_range: tuple[int, int] = (1, 3)
    min_df: int = 2
    max_features: int | None = None
    #: 1 + log(tf) like scikit-learn's sublinear_tf (needs a per-row sort); else raw counts, where a
    #: repeated n-gram simply appears twice in the row (no sort, faster).
    sublinear: bool = True
    #: What the folded view sees: "unaccented_words" (words typed with diacritics are replaced by a
    #: placeholder, see ``moderation.text.prepare.folded_view``) or "all" (the fold of every word).
    folded_mode: str = "all"
    kept: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    col_block: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))

    def __post_init__(self) -> None:
        self._col_map: np.ndarray | None = None
        self._pow: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.uint64), np.zeros(0, np.uint64))
        self._grow_lock: threading.Lock | None = None

    def config(self) -> dict[str, Any]:
        """The JSON-serialisable settings (the learnt arrays are saved separately)."""
        return {
            "bits": self.bits,
            "char_range": list(self.char_range),
            "word_range": list(self.word_range),
            "folded_word_range": list(self.folded_word_range),
            "min_df": self.min_df,
            "max_features": self.max_features,
            "sublinear": self.sublinear,
            "folded_mode": self.folded_mode,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], **arrays: np.ndarray) -> HashedNgrams:
        ranges = {k: tuple(config[k]) for k in ("char_range", "word_range", "folded_word_range")}
        scalars = {k: config[k] for k in ("bits", "min_df", "max_features", "sublinear", "folded_mode")}
        return cls(
            **ranges,
            **scalars,
            kept=arrays["kept"].astype(np.int64),
            idf=arrays["idf"].astype(np.float32),
            col_block=arrays["col_block"].astype(np.int8),
        )

    @property
    def n_features(self) -> int:
        return len(self.kept)

    def warm_up(self, lock: threading.Lock, chars: int = 1 << 20) -> None:
        """Build the lookup tables now (not on the first request) and make later growth thread-safe."""
        self._grow_lock = lock
        self._column_map()
        self._tables(chars)

    def _tables(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        tables = self._pow  # one attribute read: threads see an old or a new pair, never a mix
        if len(tables[0]) >= n:
            return tables
        lock = self._grow_lock or threading.Lock()
        with lock:
            tables = self._pow
            if len(tables[0]) < n:
                size = max(n, 2 * len(tables[0]), 1 << 16)
                tables = (_powers(_P, size), _powers(_Q, size))
                self._pow = tables
        return tables

    def _grams(
        self, batch: _Batch, block: int, char_range: tuple[int, int], word_range: tuple[int, int]
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (document, bucket) arrays for one view of the batch."""
        n_total = len(batch.codes)
        lo, hi = char_range
        for n in range(lo, hi + 1):
            if n_total < n:
                break
            start = np.arange(n_total - n + 1)
            end = start + n
            ok = batch.seps[end] == batch.seps[start]
            if n == 1:
                ok &= batch.codes[start] != _SPACE
            elif n > 2:
                ok &= batch.spaces[end - 1] == batch.spaces[start + 1]
            start, end = start[ok], end[ok]
            yield batch.doc_of[start], _mix(batch.hash(start, end), (block * 16 + n) * _GOLDEN, self.bits)
        space_at = np.flatnonzero(batch.codes == _SPACE)
        t_start, t_end = space_at[:-1] + 1, space_at[1:]
        ok = (t_end > t_start) & (batch.seps[t_end] == batch.seps[t_start])
        t_start, t_end = t_start[ok], t_end[ok]
        t_doc = batch.doc_of[t_start]
        lo, hi = word_range
        for n in range(lo, hi + 1):
            if len(t_start) < n:
                break
            first = t_start[: len(t_start) - n + 1]
            last = t_end[n - 1 :]
            same = t_doc[: len(t_doc) - n + 1] == t_doc[n - 1 :]
            yield (
                t_doc[: len(t_doc) - n + 1][same],
                _mix(batch.hash(first[same], last[same]), (block * 16 + 8 + n) * _GOLDEN, self.bits),
            )

    def _hash_all(
        self, texts: Sequence[str], folded: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        docs: list[np.ndarray] = []
        buckets: list[np.ndarray] = []
        blocks: list[np.ndarray] = []
        longest = max(sum(len(t) + 3 for t in view) for view in (texts, folded)) + 1
        ppow, qpow = self._tables(longest)
        for view, view_texts in enumerate((texts, folded)):
            batch = _Batch.build(view_texts, ppow, qpow)
            word_range = self.word_range if view == 0 else self.folded_word_range
            for kind, ranges in ((0, (self.char_range, (1, 0))), (1, ((1, 0), word_range))):
                block = view * 2 + kind
                for d, b in self._grams(batch, block, *ranges):
                    docs.append(d)
                    buckets.append(b)
                    blocks.append(np.full(len(d), block, dtype=np.int8))
        return np.concatenate(docs), np.concatenate(buckets), np.concatenate(blocks)

    def fit(self, texts: Sequence[str], folded: Sequence[str], chunk: int = 4096) -> HashedNgrams:
        """Keep buckets present in at least ``min_df`` documents (at most ``max_features``), learn IDF."""
        size = 1 << self.bits
        df = np.zeros(size, dtype=np.int64)
        votes = np.zeros(size * len(BLOCKS), dtype=np.int64)
        for lo in range(0, len(texts), chunk):
            docs, buckets, blocks = self._hash_all(texts[lo : lo + chunk], folded[lo : lo + chunk])
            pairs = np.unique(docs.astype(np.int64) << self.bits | buckets)
            df += np.bincount(pairs & (size - 1), minlength=size)
            votes += np.bincount(buckets * len(BLOCKS) + blocks, minlength=size * len(BLOCKS))
        candidates = np.flatnonzero(df >= self.min_df)
        if self.max_features is not None and len(candidates) > self.max_features:
            order = np.argsort(-df[candidates], kind="stable")[: self.max_features]
            candidates = np.sort(candidates[order])
        self.kept = candidates.astype(np.int64)
        self.idf = (np.log((1 + len(texts)) / (1 + df[candidates])) + 1).astype(np.float32)
        self.col_block = votes.reshape(size, len(BLOCKS))[candidates].argmax(axis=1).astype(np.int8)
        self._col_map = None
        return self

    def folded(self, texts: Sequence[str]) -> list[str]:
        """The folded view of each feature text, as configured."""
        if self.folded_mode == "all":
            return [fold_same_length(t) for t in texts]
        return [folded_view(t) for t in texts]

    def fit_texts(self, texts: Sequence[str]) -> HashedNgrams:
        return self.fit(texts, self.folded(texts))

    def transform_texts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """``transform`` of feature texts, with their folded views computed here."""
        return self.transform(texts, self.folded(texts))

    def _column_map(self) -> np.ndarray:
        col_map = self._col_map
        if col_map is None:
            col_map = np.full(1 << self.bits, -1, dtype=np.int32)
            col_map[self.kept] = np.arange(len(self.kept), dtype=np.int32)
            self._col_map = col_map
        return col_map

    def transform(self, texts: Sequence[str], folded: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF matrix (n_docs x n_features, float32), each block of each row L2-normalised."""
        n_docs = len(texts)
        docs, buckets, _ = self._hash_all(texts, folded)
        cols = self._column_map()[buckets]
        keep = cols >= 0
        docs, cols = docs[keep], cols[keep]
        if self.sublinear:
            # Count each (document, column) pair: one flat sort of combined keys is several times
            # faster than scipy's COO -> CSR conversion with duplicate summing.
            keys = docs.astype(np.int64) * self.n_features + cols
            keys.sort()
            first = np.ones(len(keys), dtype=bool)
            np.not_equal(keys[1:], keys[:-1], out=first[1:])
            starts = np.flatnonzero(first)
            unique = keys[starts]
            counts = np.diff(np.append(starts, len(keys))).astype(np.float32)
            rows = unique // self.n_features
            indices = unique - rows * self.n_features
            indptr = np.zeros(n_docs + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows, minlength=n_docs), out=indptr[1:])
            data = (1.0 + np.log(counts)) * self.idf[indices]
        else:
            order = np.argsort(docs, kind="stable")
            rows, indices = docs[order], cols[order]
            indptr = np.zeros(n_docs + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows, minlength=n_docs), out=indptr[1:])
            data = self.idf[indices]
        slot = rows * len(BLOCKS) + self.col_block[indices]
        norms = np.sqrt(np.bincount(slot, weights=data * data, minlength=n_docs * len(BLOCKS)))
        data = data / np.maximum(norms[slot], 1e-12).astype(np.float32)
        return sp.csr_matrix(
            (data, indices.astype(np.int32, copy=False), indptr.astype(np.int32, copy=False)),
            shape=(n_docs, self.n_features),
        )
