"""News-site spam: the signals a spammer cannot avoid, their kind, and a small learnt combination.

A spam comment on a news site sells something (an offer: betting, a loan, a job...) and says how to
get it (a link, a phone number, a chat handle, "ib", "link ở bio"), often with money and rate
patterns ("100k", "lãi 0.8%/tháng", "1 ăn 99"). ``SpamSignals`` measures each of these once per
comment from the prepared forms (accented and unaccented, spaced letters joined, numbers written in
words), using the vocabulary in ``moderation/data/spam-lexicon.json``. ``SpamStage`` combines them
with the text model's spam logit in one logistic regression learnt by ``moderation train``
(``moderation.training.spam_training``), and names the kind (``betting``, ``loan``...) from the
vocabulary that fired. Pure: no I/O after the lexicon is read.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from moderation.text.normalize import fold
from moderation.text.patterns import EMAIL, SHORTENERS
from moderation.text.prepare import ACCENTED, Prepared

LEXICON_PATH = Path(__file__).resolve().parent.parent / "data" / "spam-lexicon.json"
KINDS = (
    "betting",
    "loan",
    "investment",
    "job",
    "counterfeit",
    "health",
    "accounts",
    "phishing",
    "adult",
    "other",
)
_MONEY = re.compile(
    r"\d+(?:[.,]\d+)?\s?(?:k|tr|trieu|triệu|củ|cu|tỷ|ty|tỉ|usd|\$|đ|d|vnđ|vnd|đồng|dong|m)(?![^\W\d_])"
)
_RATE = re.compile(r"\d+(?:[.,]\d+)?\s?%(?:\s?/\s?(?:tháng|thang|ngày|ngay|năm|nam|tuần|tuan))?")
_PER_TIME = re.compile(r"/\s?(?:ngày|ngay|tháng|thang|tuần|tuan|giờ|gio|h|day|month)(?![^\W\d_])")
_RANGE = re.compile(r"\d+\s?[-–~]\s?\d+\s?(?:k|tr|triệu|trieu|củ|%)")
_MULTIPLY = re.compile(r"(?<![^\W\d_])(?:x\s?[2-9]|x10|1\s?ăn\s?\d+|1\s?an\s?\d+|\d+\s?ăn\s?\d+)(?![^\W\d_])")
_HANDLE = re.compile(r"(?<![\w.])@[a-z0-9_.]{3,}")
_SHORT = re.compile(rf"\b(?:{SHORTENERS.replace('.', chr(92) + '.')})\b")
_SPACED = re.compile(r"(?<![^\W_])(?:[^\W\d_][\s.*_\-]){3,}[^\W\d_](?![^\W_])")
_DIGIT_WORDS = (
    "không|khong|một|mot|hai|ba|bốn|bon|tư|năm|nam|lăm|sáu|sau|bảy|bay|tám|tam|chín|chin|linh|mươi|muoi"
)
_NUMBER_WORDS = re.compile(rf"(?<!\w)(?:(?:{_DIGIT_WORDS})[\s,.\-]+){{6,}}(?:{_DIGIT_WORDS})(?!\w)")
#: A promised delay ("giải ngân trong 5 phút", "duyệt trong vòng 24h"): what offers say, news rarely.
_WITHIN = re.compile(
    r"(?<!\w)trong\s(?:vòng\s|vong\s)?\d+\s?(?:phút|phut|giờ|gio|h|tiếng|tieng|p|s|giây|giay)(?!\w)"
)
_EMOJI_RUN = re.compile(r"(?:[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF][\ufe0f\u200d]?\s?){3,}")


_DIGIT = re.compile(r"\d")
_DIGIT_WORD_SET = frozenset(_DIGIT_WORDS.split("|"))


def _has_letter_run(words: list[str]) -> bool:
    """Four or more one-letter tokens in a row ("v a y t i e n")."""
    run = 0
    for w in words:
        run = run + 1 if len(w) == 1 else 0
        if run >= 4:
            return True
    return False


_EMOJI = re.compile(r"[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]")


_TOKEN = re.compile(r"\d+:\d+|[^\W_]+\+?|[%$+□]")
#: Pseudo-kinds of the vocabulary: ways to get in touch, and a seller's guarantees.
CONTACT, PROMISE = -1, -2
#: Longest phrase of the vocabulary, in tokens.
_MAX_TOKENS = 6


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class Lexicon:
    """The vocabulary as two phrase tables: accented phrases, and phrases as typed without accents.

    Phrases are looked up by token n-grams (a dict lookup per n-gram), not by one regex alternation
    of every phrase, which costs hundreds of microseconds per comment.
    """

    accented: dict[str, tuple[tuple[int, bool], ...]]
    folded: dict[str, tuple[tuple[int, bool], ...]]
    #: first token of a phrase -> the most tokens of a phrase starting with it
    starts: dict[str, int]
    #: offer phrases without spaces or diacritics, for letters typed one by one ("v a y t i e n")
    joined: tuple[tuple[str, int], ...]

    @classmethod
    def load(cls, path: Path = LEXICON_PATH) -> Lexicon:
        return cls.from_data(read_lexicon(path))

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Lexicon:
        entries: list[tuple[str, int, bool]] = []
        for index, kind in enumerate(KINDS):
            groups = data["kinds"][kind]
            entries += [(t, index, True) for t in groups["offer"]]
            entries += [(t, index, False) for t in groups["topic"]]
        entries += [(t, CONTACT, False) for t in data["contact"]]
        # Lexicons written before "promise" existed still load (their stages have no such weight).
        entries += [(t, PROMISE, False) for t in data.get("promise", ())]
        accented: dict[str, list[tuple[int, bool]]] = {}
        folded: dict[str, list[tuple[int, bool]]] = {}
        joined: dict[str, int] = {}
        for term, kind, offer in entries:
            words = tokens(unicodedata.normalize("NFC", term.lower()))
            normal = " ".join(words)
            plain = fold(normal)
            table = accented if plain != normal else folded
            for key, bucket in ((normal, table), (plain, folded)):
                meanings = bucket.setdefault(key, [])
                if (kind, offer) not in meanings:
                    meanings.append((kind, offer))
            if offer and len(plain.replace(" ", "")) >= 5:
                joined.setdefault(plain.replace(" ", ""), kind)
        starts: dict[str, int] = {}
        for key in (*accented, *folded):
            words = key.split(" ")
            starts[words[0]] = max(starts.get(words[0], 0), min(len(words), _MAX_TOKENS))
        return cls(
            accented={k: tuple(v) for k, v in accented.items()},
            folded={k: tuple(v) for k, v in folded.items()},
            starts=starts,
            joined=tuple(sorted(joined.items())),
        )

    def matches(self, words: list[str], table: dict[str, tuple[tuple[int, bool], ...]]) -> dict[str, Any]:
        """Phrases of ``table`` found in ``words`` (longest first at each position, no overlap)."""
        found: dict[str, Any] = {}
        starts = self.starts
        free, n = 0, len(words)
        for i in [i for i, w in enumerate(words) if w in starts]:
            if i < free:
                continue
            for size in range(min(starts[words[i]], n - i), 0, -1):
                key = words[i] if size == 1 else " ".join(words[i : i + size])
                meaning = table.get(key)
                if meaning is not None:
                    found[key] = meaning
                    free = i + size
                    break
        return found


def read_lexicon(path: Path = LEXICON_PATH) -> dict[str, Any]:
    """The vocabulary as JSON data (training copies it into the model files)."""
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return Lexicon.load()


#: The features of ``SpamSignals.vector``, in order (the stage's weights follow this order).
FEATURES = (
    "text_model_logit",
    *(f"offer_{k}" for k in KINDS),
    *(f"topic_{k}" for k in KINDS),
    "contact_words",
    "link",
    "shortener",
    "phone",
    "chat_handle",
    "email",
    "handle",
    "money",
    "rate",
    "per_time",
    "range",
    "multiply",
    "spaced_letters",
    "number_words",
    "emoji",
    "emoji_run",
    "offer_and_contact",
    "offer_and_money",
    "offers_total",
    "offers_one_kind_2",
    "offers_one_kind_3",
    "promise_words",
    "offer_and_promise",
    "log_length",
)


@dataclass(frozen=True, slots=True)
class SpamSignals:
    offers: tuple[int, ...]
    topics: tuple[int, ...]
    contact_words: int
    #: a seller's guarantees ("cam kết", "uy tín") and promised delays ("trong 5 phút")
    promise_words: int
    flags: dict[str, bool]
    length: int

    @classmethod
    def of(cls, prep: Prepared, rules: list[str], lexicon: Lexicon | None = None) -> SpamSignals:
        lexicon = lexicon or default_lexicon()
        offers = [0] * len(KINDS)
        topics = [0] * len(KINDS)
        contact = promise = 0
        canonical = prep.canonical
        words = tokens(canonical)
        folded = prep.folded
        if folded == canonical:
            view = words
            found = {}
        else:
            # ``folded`` has the same length as ``canonical``, so its tokens line up one to one.
            view = [f if f == w else ACCENTED for w, f in zip(words, tokens(folded), strict=True)]
            found = lexicon.matches(words, lexicon.accented)
        found.update(lexicon.matches(view, lexicon.folded))
        for meanings in found.values():
            for kind, offer in meanings:
                if kind == CONTACT:
                    contact += 1
                elif kind == PROMISE:
                    promise += 1
                elif offer:
                    offers[kind] += 1
                else:
                    topics[kind] += 1
        raw = prep.raw
        if "trong" in raw and _WITHIN.search(raw):
            promise += 1
        spaced = _SPACED.findall(canonical) if _has_letter_run(words) else []
        if spaced:
            letters = " ".join(re.sub(r"[\s.*_\-]", "", fold(s)) for s in spaced)
            for phrase, kind in lexicon.joined:
                if phrase in letters:
                    offers[kind] += 1
        digits = _DIGIT.search(raw) is not None
        emoji = _EMOJI.search(raw) is not None
        flags = {
            "link": "link" in rules,
            "shortener": ("." in raw or "/" in raw) and bool(_SHORT.search(raw)),
            "phone": "phone" in rules,
            "chat_handle": "chat_handle" in rules,
            "email": "@" in raw and bool(EMAIL.search(raw)),
            "handle": "@" in raw and bool(_HANDLE.search(raw)),
            "money": digits and bool(_MONEY.search(raw)),
            "rate": "%" in raw and bool(_RATE.search(raw)),
            "per_time": "/" in raw and bool(_PER_TIME.search(raw)),
            "range": digits and bool(_RANGE.search(raw)),
            "multiply": digits and bool(_MULTIPLY.search(raw)),
            "spaced_letters": bool(spaced),
            "number_words": len(_DIGIT_WORD_SET.intersection(view)) >= 3
            and bool(_NUMBER_WORDS.search(" ".join(view))),
            "emoji": emoji,
            "emoji_run": emoji and bool(_EMOJI_RUN.search(raw)),
        }
        return cls(tuple(offers), tuple(topics), contact, promise, flags, len(raw))

    def vector(self, text_logit: float) -> list[float]:
        f = self.flags
        any_offer = sum(self.offers) > 0
        contact = self.contact_words > 0 or f["link"] or f["phone"] or f["chat_handle"] or f["handle"]
        money = f["money"] or f["rate"] or f["per_time"] or f["range"] or f["multiply"]
        return [
            max(min(text_logit, 12.0), -12.0),
            *(math.log1p(v) for v in self.offers),
            *(math.log1p(v) for v in self.topics),
            math.log1p(self.contact_words),
            *(float(f[name]) for name in FEATURES[22:37]),
            float(any_offer and contact),
            float(any_offer and money),
            math.log1p(sum(self.offers)),
            float(max(self.offers) >= 2),
            float(max(self.offers) >= 3),
            math.log1p(self.promise_words),
            float(any_offer and self.promise_words > 0),
            math.log1p(self.length) / 5.0,
        ]

    def kind(self) -> str:
        """The kind whose offer vocabulary fired most (topic words break ties); else ``other``."""
        best, best_score = "other", 0.0
        for index, kind in enumerate(KINDS):
            score = 2.0 * self.offers[index] + 0.5 * self.topics[index]
            if self.offers[index] and score > best_score:
                best, best_score = kind, score
        if best_score == 0.0:
            for index, kind in enumerate(KINDS[:-1]):
                if self.topics[index] > best_score:
                    best, best_score = kind, float(self.topics[index])
        return best


@dataclass(frozen=True)
class SpamStage:
    """The learnt combination: P(spam) = sigmoid(weights · features + bias), with its vocabulary.

    The vocabulary travels with the weights (in the model files): the weights mean something only
    for the phrases they were learnt with. ``kinds`` is a multinomial regression over a few thousand
    n-gram columns and the signals, learnt on the corpus' spam, that names the kind of a comment
    the stage flags; without it the kind comes from the vocabulary alone (``SpamSignals.kind``).
    """

    weights: np.ndarray
    bias: float
    vocabulary: dict[str, Any]
    kind_columns: np.ndarray | None = None
    kind_coef: np.ndarray | None = None
    kind_bias: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "lexicon", Lexicon.from_data(self.vocabulary))

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> SpamStage:
        """Read a stage; one learnt before a signal existed gives that signal no weight."""
        names = list(doc.get("features", []))
        unknown = sorted(set(names) - set(FEATURES))
        if unknown or not names or names[0] != FEATURES[0]:
            raise ValueError(f"spam stage features do not match this code's FEATURES: {unknown or names[:1]}")
        where = np.array([FEATURES.index(n) for n in names])
        weights = np.zeros(len(FEATURES))
        weights[where] = np.asarray(doc["weights"], dtype=np.float64)
        kinds = doc.get("kinds")
        kind_coef = None
        if kinds is not None:
            learnt = np.asarray(kinds["coef"], dtype=np.float64)
            n = len(kinds["columns"])
            kind_coef = np.zeros((n + len(FEATURES) - 1, learnt.shape[1]))
            kind_coef[:n] = learnt[:n]
            kind_coef[n + where[1:] - 1] = learnt[n:]
        return cls(
            weights=weights,
            bias=float(doc["bias"]),
            vocabulary=doc["lexicon"],
            kind_columns=None if kinds is None else np.asarray(kinds["columns"], dtype=np.int64),
            kind_coef=kind_coef,
            kind_bias=None if kinds is None else np.asarray(kinds["bias"], dtype=np.float64),
        )

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "features": list(FEATURES),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "lexicon": self.vocabulary,
        }
        if self.kind_coef is not None and self.kind_columns is not None and self.kind_bias is not None:
            doc["kinds"] = {
                "labels": list(KINDS),
                "columns": [int(c) for c in self.kind_columns],
                "coef": np.round(self.kind_coef, 4).tolist(),
                "bias": np.round(self.kind_bias, 4).tolist(),
            }
        return doc

    def signals(self, prepared: list[Prepared], rules: list[list[str]]) -> list[SpamSignals]:
        lexicon: Lexicon = self.lexicon  # type: ignore[attr-defined]
        return [SpamSignals.of(p, r, lexicon) for p, r in zip(prepared, rules, strict=True)]

    def vectors(self, signals: list[SpamSignals], text_logits: np.ndarray) -> np.ndarray:
        if not signals:
            return np.zeros((0, len(FEATURES)))
        return np.array([s.vector(z) for s, z in zip(signals, text_logits.tolist(), strict=True)])

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        z = vectors @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))

    def kinds(self, x: Any, vectors: np.ndarray, signals: list[SpamSignals], rows: np.ndarray) -> list[str]:
        """The kind of each text; ``rows`` (indices) are those worth the kind model (likely spam)."""
        out = [s.kind() for s in signals]
        if self.kind_coef is None or self.kind_columns is None or self.kind_bias is None or not len(rows):
            return out
        n = len(self.kind_columns)
        grams = np.asarray(x[rows][:, self.kind_columns] @ self.kind_coef[:n])
        z = grams + vectors[rows, 1:] @ self.kind_coef[n:]
        for i, k in zip(rows.tolist(), np.argmax(z + self.kind_bias, axis=1).tolist(), strict=True):
            out[i] = KINDS[k]
        return out
