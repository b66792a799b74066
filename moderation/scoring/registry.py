"""Every model version a process can score with, loaded on first use and kept (a few at a time).

Two places hold versions: the installed models (``MODERATION_MODEL_DIR``, whose ``CURRENT`` is the
default for every site) and the model store (``MODERATION_MODEL_STORE``), where retraining writes the
candidates trained on a site's labels. A site names the version that decides its comments (and maybe
one in shadow); workers ask the registry for it per batch, so a promotion or a rollback takes effect
on the next batch, without a restart and without touching a job in flight.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from moderation.errors import ModelArtifactError
from moderation.scoring.analyzer import Analyzer, load_analyzer
from moderation.scoring.artifact import MANIFEST, resolve_version_dir, valid_version

#: Versions kept in memory, the default included: a site's live model and a shadow beside the
#: default. Each adds 76-94 MiB; three make a 336 MiB process (``bench/bench_model_memory.py``).
DEFAULT_CAPACITY = 3


class ModelRegistry:
    """Finds, verifies and caches analyzers by version; thread-safe."""

    def __init__(
        self,
        model_dir: Path,
        store_dir: Path | None = None,
        *,
        default: Analyzer | None = None,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.store_dir = Path(store_dir) if store_dir is not None else None
        self.capacity = max(2, capacity)
        self._lock = threading.Lock()
        self._loaded: OrderedDict[str, Analyzer] = OrderedDict()
        self._default = default

    @property
    def default(self) -> Analyzer:
        """The installed models' current version (what a site without its own version uses)."""
        if self._default is None:
            with self._lock:
                if self._default is None:
                    self._default = load_analyzer(self.model_dir)
        return self._default

    def version_dir(self, version: str) -> Path:
        """The directory of ``version``: the store first, then the installed models."""
        if not valid_version(version):
            raise ModelArtifactError(f"invalid model version {version!r}")
        for root in (self.store_dir, self.model_dir):
            if root is not None and (root / version / MANIFEST).is_file():
                return root / version
        raise ModelArtifactError(f"model version {version!r} is not installed")

    def get(self, version: str | None) -> Analyzer:
        """The analyzer of ``version`` (None or the default's version: the default)."""
        default = self.default
        if version is None or version == default.model_version:
            return default
        with self._lock:
            analyzer = self._loaded.get(version)
            if analyzer is not None:
                self._loaded.move_to_end(version)
                return analyzer
        analyzer = load_analyzer(self.version_dir(version))
        with self._lock:
            self._loaded[version] = analyzer
            while len(self._loaded) > self.capacity - 1:
                self._loaded.popitem(last=False)
        return analyzer

    def installed_default_version(self) -> str:
        return resolve_version_dir(self.model_dir).name
