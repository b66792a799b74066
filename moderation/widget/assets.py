"""The widget's files: read once per change, fingerprinted for caching, and the snippet to paste.

``widget.js`` keeps a fixed URL (it is what sites paste), so it is cached for a day and
revalidated by ETag; it loads ``widget.css?v=<hash>``, which never changes under one URL and is
cached for a year. The script is served with the stylesheet's current hash written into it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

STATIC_DIR = Path(__file__).resolve().parent / "static"
DEMO_ARTICLE = Path(__file__).resolve().parent / "demo_article.json"
CSS_VERSION_MARK = "__WIDGET_CSS_VERSION__"
#: The widget's script and stylesheet together stay under this (a test checks it).
BUDGET_BYTES = 30 * 1024
SCRIPT_CACHE = "public, max-age=86400, stale-while-revalidate=604800"
VERSIONED_CACHE = "public, max-age=31536000, immutable"
UNVERSIONED_CACHE = "public, max-age=86400"


@dataclass(frozen=True)
class Asset:
    body: bytes
    etag: str
    mimetype: str


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


@lru_cache(maxsize=16)
def _read(name: str, mtime_ns: int) -> bytes:
    """Keyed by modification time: an edited file is picked up without a restart."""
    return (STATIC_DIR / name).read_bytes()


def _file(name: str) -> bytes:
    path = STATIC_DIR / name
    return _read(name, path.stat().st_mtime_ns)


def stylesheet(name: str = "widget.css") -> Asset:
    body = _file(name)
    return Asset(body, _digest(body), "text/css")


def script() -> Asset:
    """The widget's script with the stylesheet's fingerprint, so a new stylesheet gets a new URL."""
    body = _file("widget.js").replace(CSS_VERSION_MARK.encode(), stylesheet().etag.encode())
    return Asset(body, _digest(body), "text/javascript")


def snippet(service_url: str, widget_key: str, article_id: str = "MÃ-BÀI-VIẾT") -> str:
    """What a newspaper pastes under an article (the article id is theirs to fill in)."""
    base = service_url.rstrip("/")
    return (
        '<div id="binh-luan"></div>\n'
        f'<script src="{base}/widget/v1/widget.js" data-key="{widget_key}"\n'
        f'        data-article-id="{article_id}" data-target="binh-luan" async></script>'
    )


@lru_cache(maxsize=1)
def demo_article() -> dict[str, Any]:
    """The demo page's article (title, dates, body, related stories), shipped with the package."""
    with DEMO_ARTICLE.open(encoding="utf-8") as handle:
        return json.load(handle)
