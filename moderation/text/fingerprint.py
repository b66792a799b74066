"""Fingerprints for repeated and near-duplicate comments (pure).

Two of them: an exact hash of the text reduced to its letters (copies with other digits, emoji or
punctuation), and a 64-bit SimHash of its words and word pairs, folded (without accents or case),
so that a word added or dropped moves it by a few bits while unrelated comments differ by 20 or
more. The SimHash is cut into six bands; fingerprints within 5 bits always share one band exactly
(and most within 10 do), so candidates come from an index and the distance confirms them.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from moderation.text import fold

BAND_WIDTHS = (11, 11, 11, 11, 10, 10)
#: SimHash distance at or under which two comments count as near duplicates.
NEAR_DISTANCE = 10
_MASK64 = (1 << 64) - 1


#: Runs of characters for which ``str.isalnum()`` holds: ``\w`` is exactly that plus "_".
_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def exact_fingerprint(text: str) -> str:
    letters = "".join(filter(str.isalpha, fold(text)))
    return hashlib.blake2b(letters.encode("utf-8"), digest_size=16).hexdigest()


def simhash64(text: str) -> int:
    words = _words(text)
    features = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    if not features:
        return 0
    digests = b"".join(hashlib.blake2b(f.encode("utf-8"), digest_size=8).digest() for f in features)
    # One row of 64 bits per feature, most significant first (column j is bit 63 - j), voted per
    # column; the winning columns packed back into 8 big-endian bytes (a loop over them cost more).
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(-1, 8), axis=1)
    won = 2 * bits.sum(axis=0, dtype=np.int64) > len(features)
    return int.from_bytes(np.packbits(won).tobytes(), "big")


def bands(value: int) -> tuple[int, ...]:
    out, shift = [], 0
    for width in BAND_WIDTHS:
        out.append((value >> shift) & ((1 << width) - 1))
        shift += width
    return tuple(out)


def to_signed(value: int) -> int:
    """Store an unsigned 64-bit value in a signed BIGINT column."""
    return value - (1 << 64) if value >= 1 << 63 else value


def distance(a: int, b: int) -> int:
    return ((a ^ b) & _MASK64).bit_count()


def significant(text: str, min_words: int = 4) -> bool:
    """Short replies ("hay quá", "đúng") repeat naturally across readers: not evidence of a flood."""
    return len(_words(text)) >= min_words
