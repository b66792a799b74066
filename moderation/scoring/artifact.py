"""The model artifact on disk: where it is, what its manifest says, and whether the files match it.

Layout: ``<model_dir>/CURRENT`` holds one line, the version; ``<model_dir>/<version>/`` holds
``manifest.json``, ``MODEL_CARD.md`` and the model files. The manifest lists every model file with
its size and sha256; ``verify_artifact`` checks them before anything is loaded. The model files are
a compressed ``.npz`` of plain arrays (read with ``allow_pickle=False``) and a gzipped JSON document,
so loading never unpickles anything.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from moderation.errors import ModelArtifactError
from moderation.settings import DEFAULT_MODEL_DIR

MANIFEST = "manifest.json"
CURRENT = "CURRENT"
#: The layout of the model files this code reads; bumped whenever it changes (2: the span tagger reads
#: the comment's hate probabilities, and the toxicity override; format-1 files would load but score
#: spans differently, so they are refused).
FORMAT = 2


def valid_version(version: str) -> bool:
    """A version names one directory under a models folder: no path separators, not hidden, and
    short enough for the ``model_version`` columns."""
    return (
        bool(version)
        and len(version) <= 40
        and "/" not in version
        and "\\" not in version
        and not version.startswith(".")
    )


def file_digest(path: Path) -> str:
    """sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_version_dir(model_dir: Path | None = None) -> Path:
    """The directory of the current version (``model_dir`` may also be a version directory itself)."""
    root = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    if (root / MANIFEST).is_file() and not (root / CURRENT).is_file():
        return root
    current = root / CURRENT
    if not current.is_file():
        raise ModelArtifactError(f"no model installed: {current} is missing (run `moderation train`)")
    version = current.read_text(encoding="utf-8").strip()
    if not valid_version(version):
        raise ModelArtifactError(f"{current} does not name a model version: {version!r}")
    version_dir = root / version
    if not version_dir.is_dir():
        raise ModelArtifactError(f"{current} names version {version!r} but {version_dir} does not exist")
    return version_dir


def read_manifest(version_dir: Path) -> dict[str, Any]:
    path = version_dir / MANIFEST
    if not path.is_file():
        raise ModelArtifactError(f"model manifest missing: {path}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelArtifactError(f"model manifest unreadable: {path}: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list) or not manifest["files"]:
        raise ModelArtifactError(f"model manifest {path} lists no files")
    check_requirements(manifest)
    if manifest.get("format") != FORMAT:
        raise ModelArtifactError(
            f"model {manifest.get('version')!r} has format {manifest.get('format')!r}; this code reads "
            f"format {FORMAT} (retrain with `moderation train` or install a matching release)"
        )
    return manifest


def _installed(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def check_requirements(manifest: dict[str, Any]) -> None:
    """Refuse a model whose files need other library versions than the installed ones.

    ``requires`` ({package: version}) lists the libraries whose own serialisation the model files
    depend on (pickled scikit-learn estimators would be one). The current format ships only plain
    arrays and JSON, so it lists none; the check exists so that a future artifact that does ship
    such objects fails with a clear message instead of mis-loading.
    """
    requires = manifest.get("requires") or {}
    if not isinstance(requires, dict):
        raise ModelArtifactError(f"model {manifest.get('version')!r}: 'requires' must be an object")
    for package, wanted in sorted(requires.items()):
        installed = _installed(str(package))
        if installed != str(wanted):
            found = f"{installed} is installed" if installed else "it is not installed"
            raise ModelArtifactError(
                f"model {manifest.get('version')!r} was saved with {package} {wanted}, but {found}; "
                f"install {package}=={wanted} or retrain with `moderation train`"
            )


def verify_artifact(model_dir: Path | None = None) -> dict[str, Any]:
    """Check that every file listed in the manifest is present, complete and unmodified.

    Cheap (hashes the files, unpickles nothing). Returns the manifest with ``"path"`` (the version
    directory) added; raises ``ModelArtifactError`` naming the offending file otherwise.
    """
    version_dir = resolve_version_dir(model_dir)
    manifest = read_manifest(version_dir)
    for entry in manifest["files"]:
        name = str(entry.get("name", ""))
        path = version_dir / name
        if not name or Path(name).name != name:
            raise ModelArtifactError(f"model manifest lists an invalid file name: {name!r}")
        if not path.is_file():
            raise ModelArtifactError(f"model file missing: {path}")
        size = path.stat().st_size
        if size != entry.get("size"):
            raise ModelArtifactError(
                f"model file {path} has {size} bytes, the manifest says {entry.get('size')} "
                "(truncated or replaced)"
            )
        if file_digest(path) != entry.get("sha256"):
            raise ModelArtifactError(f"model file {path} does not match its sha256 in the manifest")
    return {**manifest, "path": str(version_dir)}
