"""A small character CNN (PyTorch for training, plain numpy for scoring).

Input: the feature text (``prepare(...).features``), cut to ``MAX_CHARS`` characters, each mapped to an
index (0 pad, 1 unknown; the vocabulary is the characters seen at least ``MIN_COUNT`` times in the
training rows of the fold). Embedding -> Conv1d of widths 2..5 -> ReLU -> max over the valid positions
-> dropout -> one hidden layer -> logits. A text shorter than 5 characters is padded to 5; positions
whose window runs past that length are masked before the max, so a text's score does not depend on
the other texts of its batch (the numpy forward scores each text alone and matches).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

MAX_CHARS = 256
MIN_COUNT = 5
EMBED = 48
WIDTHS = (2, 3, 4, 5)
FILTERS = 96
HIDDEN = 64
DROPOUT = 0.3
BATCH = 64
LR = 2e-3
MAX_EPOCHS = 6
PATIENCE = 1
SEED = 0
MIN_LEN = max(WIDTHS)


def vocabulary(texts: Sequence[str]) -> dict[str, int]:
    counts = Counter(ch for t in texts for ch in t[:MAX_CHARS])
    chars = sorted(ch for ch, n in counts.items() if n >= MIN_COUNT)
    return {ch: i + 2 for i, ch in enumerate(chars)}


def encode(texts: Sequence[str], vocab: dict[str, int]) -> list[np.ndarray]:
    return [np.array([vocab.get(ch, 1) for ch in t[:MAX_CHARS]], dtype=np.int64) for t in texts]


def pad(batch: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = np.array([max(len(a), MIN_LEN) for a in batch])
    out = np.zeros((len(batch), lengths.max()), dtype=np.int64)
    for i, a in enumerate(batch):
        out[i, : len(a)] = a
    return torch.from_numpy(out), torch.from_numpy(lengths)


class CharCNN(nn.Module):
    def __init__(self, vocab_size: int, n_out: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, EMBED, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(EMBED, FILTERS, w) for w in WIDTHS)
        self.drop = nn.Dropout(DROPOUT)
        self.hidden = nn.Linear(FILTERS * len(WIDTHS), HIDDEN)
        self.out = nn.Linear(HIDDEN, n_out)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids).transpose(1, 2)  # (B, E, L)
        pooled = []
        for w, conv in zip(WIDTHS, self.convs, strict=True):
            h = torch.relu(conv(x))  # (B, F, L - w + 1)
            valid = torch.arange(h.shape[2])[None, :] < (lengths[:, None] - w + 1)
            pooled.append(h.masked_fill(~valid[:, None, :], 0.0).amax(dim=2))  # ReLU >= 0: 0 is neutral
        z = self.drop(torch.cat(pooled, dim=1))
        z = self.drop(torch.relu(self.hidden(z)))
        out = self.out(z)
        return out[:, 0] if out.shape[1] == 1 else out


def _batches(encoded: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar lengths (chunks of 50 batches sorted by length)."""
    order = rng.permutation(len(encoded))
    chunk = BATCH * 50
    out = []
    for s in range(0, len(order), chunk):
        part = order[s : s + chunk]
        part = part[np.argsort([len(encoded[i]) for i in part], kind="stable")]
        out += [part[i : i + BATCH] for i in range(0, len(part), BATCH)]
    rng.shuffle(out)
    return out


@torch.no_grad()
def predict(model: CharCNN, encoded: list[np.ndarray], batch: int = 256) -> np.ndarray:
    """Logits ((n,) binary, (n, 3) multiclass), in input order."""
    model.eval()
    order = np.argsort([len(a) for a in encoded], kind="stable")
    outs: list[np.ndarray] = [None] * len(encoded)  # type: ignore[list-item]
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        ids, lengths = pad([encoded[i] for i in idx])
        z = model(ids, lengths).numpy()
        for j, i in enumerate(idx):
            outs[i] = z[j]
    return np.stack(outs).astype(np.float64)


@dataclass
class Trained:
    model: CharCNN
    vocab: dict[str, int]
    epochs: int
    best_epoch: int
    val_losses: list[float]
    seconds: float


def train(
    texts: Sequence[str],
    y: np.ndarray,
    val_texts: Sequence[str],
    val_y: np.ndarray,
    n_classes: int,
    log=print,
) -> Trained:
    """Fit on (texts, y); early stop on the validation loss (patience ``PATIENCE``), keep the best."""
    started = time.perf_counter()
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    vocab = vocabulary(texts)
    enc, val_enc = encode(texts, vocab), encode(val_texts, vocab)
    model = CharCNN(len(vocab) + 2, 1 if n_classes == 2 else n_classes)
    if n_classes == 2:
        pos = float(y.mean())
        loss_fn: nn.Module = nn.BCEWithLogitsLoss(pos_weight=torch.tensor((1 - pos) / pos))
        target = torch.from_numpy(y.astype(np.float32))
        val_target = torch.from_numpy(val_y.astype(np.float32))
    else:
        loss_fn = nn.CrossEntropyLoss()
        target, val_target = torch.from_numpy(y.astype(np.int64)), torch.from_numpy(val_y.astype(np.int64))
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=1e-4)
    best: tuple[float, int, dict] | None = None
    losses: list[float] = []
    epoch = 0
    for epoch in range(1, MAX_EPOCHS + 1):
        model.train()
        t0 = time.perf_counter()
        for idx in _batches(enc, rng):
            ids, lengths = pad([enc[i] for i in idx])
            opt.zero_grad()
            loss = loss_fn(model(ids, lengths), target[idx])
            loss.backward()
            opt.step()
        val = float(loss_fn(torch.from_numpy(predict(model, val_enc)).float(), val_target))
        losses.append(round(val, 5))
        log(f"    epoch {epoch}: val loss {val:.4f} ({time.perf_counter() - t0:.0f}s)")
        if best is None or val < best[0]:
            best = (val, epoch, {k: v.clone() for k, v in model.state_dict().items()})
        elif epoch - best[1] >= PATIENCE:
            break
    assert best is not None
    model.load_state_dict(best[2])
    model.eval()
    return Trained(model, vocab, epoch, best[1], losses, time.perf_counter() - started)


# ---- plain numpy scoring from exported weights ----


def export(trained: Trained) -> dict[str, np.ndarray]:
    """float32 arrays: everything the numpy forward needs (vocabulary as code points)."""
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in trained.model.state_dict().items()}
    chars = sorted(trained.vocab, key=trained.vocab.get)
    arrays = {
        "vocab_codepoints": np.array([ord(c) for c in chars], dtype=np.int32),  # index i + 2
        "embed": sd["embed.weight"],
        "hidden_w": sd["hidden.weight"].T.copy(),
        "hidden_b": sd["hidden.bias"],
        "out_w": sd["out.weight"].T.copy(),
        "out_b": sd["out.bias"],
    }
    for j, w in enumerate(WIDTHS):
        # (F, E, w) -> (w * E, F), matching windows laid out as [pos0 emb | pos1 emb | ...]
        arrays[f"conv{w}_w"] = sd[f"convs.{j}.weight"].transpose(2, 1, 0).reshape(w * EMBED, FILTERS).copy()
        arrays[f"conv{w}_b"] = sd[f"convs.{j}.bias"]
    return arrays


class NumpyCharCNN:
    """The same forward pass in numpy (one text at a time, or a list)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.a = {k: np.asarray(v) for k, v in arrays.items()}
        self.index = {chr(int(c)): i + 2 for i, c in enumerate(self.a["vocab_codepoints"])}
        self.convs = [(w, self.a[f"conv{w}_w"], self.a[f"conv{w}_b"]) for w in WIDTHS]

    def ids(self, text: str) -> np.ndarray:
        ids = [self.index.get(ch, 1) for ch in text[:MAX_CHARS]]
        return np.array(ids + [0] * (MIN_LEN - len(ids)), dtype=np.int64)

    def logits_one(self, text: str) -> np.ndarray:
        e = self.a["embed"][self.ids(text)]  # (L, E)
        n = len(e)
        pooled = []
        for w, cw, cb in self.convs:
            windows = np.lib.stride_tricks.sliding_window_view(e, (w, EMBED))[:, 0]
            windows = windows.reshape(n - w + 1, w * EMBED)
            pooled.append(np.maximum(windows @ cw + cb, 0.0).max(axis=0))
        h = np.maximum(np.concatenate(pooled) @ self.a["hidden_w"] + self.a["hidden_b"], 0.0)
        return h @ self.a["out_w"] + self.a["out_b"]

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        out = np.stack([self.logits_one(t) for t in texts])
        return out[:, 0] if out.shape[1] == 1 else out


def batched_logits(net: NumpyCharCNN, texts: Sequence[str], batch: int = 256) -> np.ndarray:
    """The numpy forward on batches of similar lengths (padded, invalid positions masked as in torch)."""
    a = net.a
    ids = [net.ids(t) for t in texts]
    order = np.argsort([len(i) for i in ids], kind="stable")
    n_out = a["out_b"].shape[0]
    out = np.zeros((len(texts), n_out), dtype=np.float32)
    for s in range(0, len(order), batch):
        idx = order[s : s + batch]
        lengths = np.array([len(ids[i]) for i in idx])
        x = np.zeros((len(idx), lengths.max()), dtype=np.int64)
        for j, i in enumerate(idx):
            x[j, : lengths[j]] = ids[i]
        e = a["embed"][x]  # (B, L, E)
        pooled = []
        for w, cw, cb in net.convs:
            n_pos = e.shape[1] - w + 1
            windows = np.lib.stride_tricks.sliding_window_view(e, w, axis=1)  # (B, n_pos, E, w)
            windows = windows.transpose(0, 1, 3, 2).reshape(len(idx), n_pos, w * EMBED)
            h = np.maximum(windows @ cw + cb, 0.0)
            h[np.arange(n_pos)[None, :] >= (lengths[:, None] - w + 1)] = 0.0
            pooled.append(h.max(axis=1))
        hid = np.maximum(np.concatenate(pooled, axis=1) @ a["hidden_w"] + a["hidden_b"], 0.0)
        out[idx] = hid @ a["out_w"] + a["out_b"]
    return out[:, 0] if n_out == 1 else out


def torch_from_arrays(arrays: dict[str, np.ndarray]) -> tuple[CharCNN, dict[str, int]]:
    """Rebuild the torch model from the exported arrays (to check the numpy forward against torch)."""
    vocab = {chr(int(c)): i + 2 for i, c in enumerate(arrays["vocab_codepoints"])}
    model = CharCNN(len(vocab) + 2, arrays["out_b"].shape[0])
    sd = {
        "embed.weight": arrays["embed"],
        "hidden.weight": arrays["hidden_w"].T,
        "hidden.bias": arrays["hidden_b"],
        "out.weight": arrays["out_w"].T,
        "out.bias": arrays["out_b"],
    }
    for j, w in enumerate(WIDTHS):
        sd[f"convs.{j}.weight"] = arrays[f"conv{w}_w"].reshape(w, EMBED, FILTERS).transpose(2, 1, 0)
        sd[f"convs.{j}.bias"] = arrays[f"conv{w}_b"]
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()})
    model.eval()
    return model, vocab
