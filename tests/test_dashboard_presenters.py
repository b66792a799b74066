"""What a card shows, as pure functions: highlighted segments, safe links, bar classes, threads."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from moderation.dashboard.charts import _nice_max
from moderation.dashboard.presenters import Segment, safe_href, segments, threaded, width_class


def test_spans_become_plain_segments_merged_and_clamped():
    text = "Đồ ngu, cút đi"
    assert segments(text, [{"start": 3, "end": 6}, {"start": 8, "end": 11}]) == [
        Segment("Đồ "),
        Segment("ngu", hit=True),
        Segment(", "),
        Segment("cút", hit=True),
        Segment(" đi"),
    ]
    overlapping = [{"start": 3, "end": 5}, {"start": 4, "end": 6}, {"start": 12, "end": 99}]
    assert segments(text, overlapping) == [
        Segment("Đồ "),
        Segment("ngu", True),
        Segment(", cút "),
        Segment("đi", True),
    ]
    junk = [{"start": "x", "end": 2}, {"end": 4}, None, {"start": 5, "end": 2}]
    assert segments(text, junk) == [Segment(text)]
    assert segments("", None) == [Segment("")]
    assert "".join(s.text for s in segments(text, overlapping)) == text, "no character lost or repeated"


def test_only_absolute_http_urls_become_links():
    assert safe_href("https://bao.example.vn/a-1") == "https://bao.example.vn/a-1"
    assert safe_href("http://bao.example.vn/a") == "http://bao.example.vn/a"
    for url in (
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,x",
        "//evil.example/",
        "/a-1",
        None,
        "",
    ):
        assert safe_href(url) is None, url


def test_bar_widths_snap_to_five_percent_classes():
    assert [width_class(v) for v in (None, 0.0, 0.024, 0.026, 0.5, 0.974, 1.0, 1.7, -1)] == [
        "w-0", "w-0", "w-0", "w-5", "w-50", "w-95", "w-100", "w-100", "w-0",
    ]  # fmt: skip


def test_replies_follow_their_parent_when_both_are_on_the_page():
    def c(cid, parent=None):
        return SimpleNamespace(id=cid, parent_id=parent)

    items = [c("a"), c("b", "x"), c("r1", "a"), c("c"), c("r2", "r1"), c("r3", "a")]
    assert [(i.id, d) for i, d in threaded(items)] == [
        ("a", 0), ("r1", 1), ("r2", 2), ("r3", 1), ("b", 0), ("c", 0),
    ]  # fmt: skip
    cycle = [c("p", "q"), c("q", "p")]
    assert sorted(i.id for i, _ in threaded(cycle)) == ["p", "q"], "a cycle is shown, not lost"


def test_chart_axes_end_on_round_numbers():
    for value, top in ((0, 4), (9, 12), (34, 40), (99, 100), (1234, 1600)):
        assert _nice_max(value) == top
        assert _nice_max(value) >= value and _nice_max(value) % 4 == 0


def test_a_typed_date_is_day_first():
    from datetime import date

    from moderation.dashboard.forms import parse_day

    assert parse_day("25/11/2026") == date(2026, 11, 25)
    assert parse_day(" 5.1.2027 ") == date(2027, 1, 5)
    assert parse_day("2026-11-25") == date(2026, 11, 25), "links made before keep working"
    for bad in ("11/25/2026", "31/02/2026", "25/11/26", "hôm qua"):
        with pytest.raises(ValueError):
            parse_day(bad)
