"""The hate-speech bar on a card and the label beside it never contradict each other (issue 16).

The bar is P(not clean), what the policy's thresholds compare; the note beside it names the class
that decided with that class's own probability, never a bare "sạch" beside a 39% bar.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.helpers import sign_in
from tests.e2e.seed import add_comment


def hate_bar(page, comment_id: str):
    return page.locator(f"#c-{comment_id} .score", has=page.get_by_text("Thù ghét", exact=True))


def test_the_hate_speech_bar_and_its_label_say_the_same_thing(page, db, site, linh):
    # Seeded as a worker leaves them: P(not clean) 0.39 (clean 0.61, offensive 0.234, hate 0.156),
    # held for toxicity only; and one held for hate speech, P(not clean) 0.55 (offensive 0.33).
    clean = add_comment(
        db,
        site,
        "Một bình luận bị giữ vì độc hại.",
        scores={"toxicity": 0.8, "hate_speech": 0.39, "spam": 0.0},
    )
    offensive = add_comment(
        db,
        site,
        "Một bình luận bị giữ vì xúc phạm.",
        scores={"toxicity": 0.2, "hate_speech": 0.55, "spam": 0.0},
        reasons=("hate_speech",),
    )
    sign_in(page, "linh")
    expect(hate_bar(page, clean).locator(".value")).to_have_text("39% · sạch 61%")
    expect(hate_bar(page, offensive).locator(".value")).to_have_text("55% · xúc phạm 33%")
    expect(hate_bar(page, offensive)).to_have_class("score hot")
