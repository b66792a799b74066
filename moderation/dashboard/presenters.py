"""Turn service results into what a card shows: text segments, score bars, reasons, threads.

Reader text is never marked safe: highlighting splits it into plain segments here and the
template wraps the offending ones in ``<mark>``, so Jinja escapes every character of every segment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from moderation import timezones
from moderation.dashboard import labels
from moderation.services import dashboard_support as support
from moderation.services.review import QueuePage
from moderation.storage.models import Comment
from moderation.storage.queue_queries import AuthorHistory

NEWSROOM_TZ_NAME = timezones.DEFAULT_TIMEZONE
NEWSROOM_TZ = timezones.zone(NEWSROOM_TZ_NAME)
#: Replies nest under their parent up to this depth; deeper ones stay at it.
MAX_DEPTH = 3
BAR_ATTRIBUTES = ("toxicity", "hate_speech", "spam")
EXCERPT_CHARS = 280


@dataclass(frozen=True)
class Segment:
    text: str
    hit: bool = False


def segments(content: str, spans: Iterable[Any] | None) -> list[Segment]:
    """Split ``content`` at the analysis spans (start inclusive, end exclusive, Python indices).

    Malformed, out-of-range and overlapping spans are clamped and merged rather than trusted.
    """
    ranges: list[tuple[int, int]] = []
    for span in spans or ():
        try:
            start, end = int(span["start"]), int(span["end"])
        except (KeyError, TypeError, ValueError):
            continue
        start = max(0, min(start, len(content)))
        end = max(start, min(end, len(content)))
        if end > start:
            ranges.append((start, end))
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[Segment] = []
    position = 0
    for start, end in merged:
        if start > position:
            out.append(Segment(content[position:start]))
        out.append(Segment(content[start:end], hit=True))
        position = end
    if position < len(content) or not out:
        out.append(Segment(content[position:]))
    return out


def safe_href(url: str | None) -> str | None:
    """Only absolute http(s) URLs become links: ``javascript:`` and friends stay plain text."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def width_class(fraction: float | None) -> str:
    """A CSS class per 5% step (``w-0`` … ``w-100``): the CSP forbids inline ``style`` widths."""
    if fraction is None:
        return "w-0"
    step = int(round(max(0.0, min(1.0, fraction)) * 20)) * 5
    return f"w-{step}"


def percent(fraction: float | None) -> str:
    return "–" if fraction is None else f"{round(fraction * 100):d}%"


def percent_exact(fraction: float | None) -> str:
    """A threshold as typed in the policy form (26.5%, not rounded to 27%)."""
    return "–" if fraction is None else f"{round(fraction * 100, 2):g}%"


@dataclass(frozen=True)
class Bar:
    attribute: str
    label: str
    score: float | None
    css: str
    #: The attribute is among the reasons the comment was held or rejected.
    hot: bool
    note: str = ""

    @property
    def text(self) -> str:
        return percent(self.score)


@dataclass
class Card:
    comment: Comment
    depth: int
    segments: list[Segment]
    bars: list[Bar]
    model_reasons: list[tuple[str, str]]
    moderator_reason: str | None
    article_title: str
    article_href: str | None
    history: AuthorHistory
    reports: int
    can_decide: bool
    parent_excerpt: str | None
    parent_author: str | None
    parent_on_page: bool
    children: list[str] = field(default_factory=list)
    #: The cluster of repeats or flood copies the comment belongs to, and its size (two or more).
    cluster_id: str | None = None
    cluster_size: int = 0
    #: What readers wrote when they reported it (open reports only).
    report_reasons: list[str] = field(default_factory=list)
    #: The name readers see when the stored one poses as the newsroom ("Bạn đọc"), else None.
    public_name: str | None = None


def _hate_note(hate: dict[str, Any], *, held: bool) -> str:
    """The class that decided, with its own probability, so it never contradicts the bar.

    The bar is P(not clean), what the policy compares with its thresholds. Held for it, or with a
    label other than clean, the note names the likelier of offensive and hate ("xúc phạm 33%");
    otherwise it says clean with P(clean) ("sạch 61%"), never a bare "clean" beside a bar.
    """
    scores = hate.get("scores") or {}
    if not all(isinstance(scores.get(k), int | float) for k in labels.HATE_LABELS):
        return (
            labels.label(labels.HATE_LABELS, hate["label"]) if hate.get("label") in labels.HATE_LABELS else ""
        )
    decisive = "clean"
    if held or hate.get("label") != "clean":
        decisive = "hate" if scores["hate"] >= scores["offensive"] else "offensive"
    return f"{labels.label(labels.HATE_LABELS, decisive)} {percent(float(scores[decisive]))}"


def _bars(comment: Comment, reasons: Sequence[str]) -> list[Bar]:
    analysis = comment.analysis or {}
    attributes = analysis.get("attributes") or {}
    scores = {
        "toxicity": comment.score_toxicity,
        "hate_speech": comment.score_hate_speech,
        "spam": comment.score_spam,
    }
    bars = []
    for attribute in BAR_ATTRIBUTES:
        note = ""
        if attribute == "hate_speech":
            note = _hate_note(attributes.get("hate_speech") or {}, held=attribute in reasons)
        score = scores[attribute]
        bars.append(
            Bar(
                attribute=attribute,
                label=labels.label(labels.ATTRIBUTES, attribute),
                score=score,
                css=width_class(score),
                hot=attribute in reasons,
                note=note,
            )
        )
    constructive = (attributes.get("constructive") or {}).get("score")
    if isinstance(constructive, int | float):
        bars.append(
            Bar(
                attribute="constructive",
                label=labels.label(labels.ATTRIBUTES, "constructive"),
                score=float(constructive),
                css=width_class(float(constructive)),
                hot=False,
            )
        )
    return bars


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def _shown_reasons(codes: list[str]) -> list[str]:
    """The reasons as moderators read them: "spam" is left out when its kind ("spam:loan") is there."""
    if any(code.startswith("spam:") for code in codes):
        return [code for code in codes if code != "spam"]
    return codes


def build_card(
    comment: Comment, depth: int, history: AuthorHistory | None, reports: int, on_page: bool
) -> Card:
    analysis = comment.analysis or {}
    if comment.decided_by == "moderator":
        model_codes = [str(r) for r in analysis.get("reasons") or []]
        moderator_reason = "; ".join(str(r) for r in comment.decision_reasons or []) or None
    else:
        model_codes = [str(r) for r in comment.decision_reasons or analysis.get("reasons") or []]
        moderator_reason = None
    article = comment.article
    parent = comment.parent
    return Card(
        comment=comment,
        depth=depth,
        segments=segments(comment.content, analysis.get("spans")),
        bars=_bars(comment, model_codes),
        model_reasons=[(code, labels.label(labels.REASONS, code)) for code in _shown_reasons(model_codes)],
        moderator_reason=moderator_reason,
        article_title=(article.title or article.external_id) if article else "",
        article_href=safe_href(article.url) if article else None,
        history=history or AuthorHistory(),
        reports=reports,
        can_decide=support.can_decide(comment, reports),
        parent_excerpt=_excerpt(parent.content) if parent is not None else None,
        parent_author=parent.author.name if parent is not None and parent.author is not None else None,
        parent_on_page=on_page,
    )


def threaded(items: Sequence[Comment]) -> list[tuple[Comment, int]]:
    """The page in its order, with each reply moved under its parent when both are on the page."""
    on_page = {c.id for c in items}
    children: dict[str, list[Comment]] = {}
    roots: list[Comment] = []
    for comment in items:
        if comment.parent_id in on_page and comment.parent_id != comment.id:
            children.setdefault(comment.parent_id, []).append(comment)
        else:
            roots.append(comment)
    ordered: list[tuple[Comment, int]] = []
    seen: set[str] = set()

    def visit(comment: Comment, depth: int) -> None:
        if comment.id in seen:
            return
        seen.add(comment.id)
        ordered.append((comment, min(depth, MAX_DEPTH)))
        for child in children.get(comment.id, []):
            visit(child, depth + 1)

    for root in roots:
        visit(root, 0)
    for comment in items:  # a reply cycle has no root: show what is left flat rather than lose it
        visit(comment, 0)
    return ordered


def cards_for(page: QueuePage, extras: support.CardExtras | None = None) -> list[Card]:
    on_page = {c.id for c in page.items}
    cards = []
    for comment, depth in threaded(page.items):
        card = build_card(
            comment,
            depth,
            page.histories.get(comment.author_id),
            page.reports.get(comment.id, 0),
            comment.parent_id in on_page,
        )
        if extras is not None:
            card.cluster_id, card.cluster_size = extras.clusters.get(comment.id, (None, 0))
            card.report_reasons = extras.report_reasons.get(comment.id, [])
            card.public_name = extras.public_names.get(comment.id)
        cards.append(card)
    return cards


def local_time(value: datetime | None, zone: str | None = None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """Times are shown in the site's zone (default Asia/Ho_Chi_Minh), whatever the server's, as the
    widget and the newspaper's own pages write them: dd/mm/yyyy HH:MM."""
    if value is None:
        return ""
    return value.astimezone(timezones.zone(zone)).strftime(fmt)


def _locale_context() -> dict[str, Any]:
    from flask_babel import get_locale

    from moderation.dashboard.i18n import LANGUAGES

    return {"current_locale": str(get_locale() or "vi"), "languages": LANGUAGES}


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["vntime"] = local_time
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["percent_exact"] = percent_exact
    app.jinja_env.filters["width_class"] = width_class
    app.jinja_env.globals["labels"] = labels
    app.context_processor(_locale_context)
