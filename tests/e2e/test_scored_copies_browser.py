"""What a real worker leaves on the cards, seen in the browser (issue 16, "scoring gaps").

Comments go through the whole pipeline (the API's door with its repeat check on, the queue, a
burst worker with the shipped model); the dashboard then shows what a moderator would see:
- a held repeat of a published comment has its own score bars, never empty ones;
- an accent-stripped copy of a rejected insult is rejected like its original, with its reasons;
- spans never mark a "/" inside a link, mark "dở hơi" whole, and leave "chem gio" unmarked.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from moderation.dashboard.presenters import percent
from moderation.storage.models import Comment
from tests.e2e.helpers import sign_in
from tests.e2e.seed import make_site

CLEAN = "Đường lên bản Sìn Hồ mùa này đẹp quá, mong tỉnh sớm nâng cấp để bà con đi lại dễ hơn."
INSULT = "Thằng viết bài này ngu như bò"
INSULT_STRIPPED = "thang viet bai nay ngu nhu bo"


@pytest.fixture
def paper(db):
    """A second site with the door's default repeat and flood checks, and its API key."""
    site, api_key = make_site(db, "baolaichau")
    return {"id": site.id, "auth": {"Authorization": f"Bearer {api_key}"}}


def post(app, paper, content: str, ip: str = "203.0.113.5") -> str:
    body = {
        "article_id": "sin-ho",
        "author": {"name": "Lò Văn Páo"},
        "content": content,
        "client": {"ip": ip},
    }
    response = app.test_client().post("/api/v1/comments", json=body, headers=paper["auth"])
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def stored(db, comment_id: str) -> Comment:
    with db.session() as session:
        return session.get(Comment, comment_id)


def test_a_held_repeat_has_its_own_score_bars_and_a_stripped_insult_copy_is_rejected(
    page, app, db, site, paper, linh, run_workers
):
    first = post(app, paper, CLEAN)
    repeat = post(app, paper, CLEAN)
    insult = post(app, paper, INSULT, ip="203.0.113.9")
    copy = post(app, paper, INSULT_STRIPPED, ip="203.0.113.9")
    run_workers()
    assert stored(db, first).status == "published"
    held = stored(db, repeat)
    assert held.status == "review" and "duplicate" in held.decision_reasons
    assert stored(db, insult).status == "rejected"

    sign_in(page, "linh")
    card = page.locator(f"#c-{repeat}")
    expect(card.locator(".reasons .chip-duplicate")).to_have_text("Bình luận trùng lặp")
    toxicity = card.locator(".score", has=page.get_by_text("Độc hại", exact=True)).locator(".value")
    expect(toxicity).to_have_text(percent(held.score_toxicity))
    expect(card.locator(".score .value")).to_have_count(4)  # toxicity, hate, spam, constructive
    for value in card.locator(".score .value").all_inner_texts():
        assert value[0].isdigit(), f"every bar has a score, got {value!r}"

    page.goto("/dashboard/queue?tab=rejected")
    rejected = page.locator(f"#c-{copy}")
    expect(rejected.locator(".content")).to_have_text(INSULT_STRIPPED)
    expect(rejected.locator(".reasons .chip-duplicate")).to_be_visible()
    original_reasons = [r for r in stored(db, insult).decision_reasons if r != "duplicate"]
    for reason in original_reasons:
        expect(rejected.locator(f".reasons .chip-{reason.split(':')[0]}").first).to_be_visible()
    score = rejected.locator(".score", has=page.get_by_text("Độc hại", exact=True)).locator(".value")
    expect(score).to_have_text(percent(stored(db, copy).score_toxicity))


@pytest.mark.parametrize(
    ("content", "whole", "never"),
    [
        ("thằng ngu https://bit.ly/abc/def", "ngu", ("/", "http", "bit")),
        ("ngu vl xem http://vnexpress.net/a/b/c", "ngu", ("/", "http", "vnexpress")),
        ("Mày dở hơi à, ngu như bò", "dở hơi", ()),
        ("thang nay do hoi vai", "do hoi", ()),
        ("Thoi dung chem gio nua ong oi, ngu the", "ngu", ("chem", "gio")),
        ("chem gio vua thoi", None, ("chem", "gio")),
    ],
)
def test_a_card_marks_whole_insults_and_never_a_link_or_a_common_phrase(
    page, app, db, site, paper, linh, run_workers, content, whole, never
):
    """``whole``: a phrase one mark must hold entire; ``never``: text no mark may contain."""
    comment_id = post(app, paper, content)
    run_workers()
    comment = stored(db, comment_id)
    assert comment.status in ("review", "rejected"), comment.decision_reasons
    sign_in(page, "linh")
    if comment.status == "rejected":
        page.goto("/dashboard/queue?tab=rejected")
    card = page.locator(f"#c-{comment_id}")
    expect(card.locator(".content")).to_have_text(content)
    marks = card.locator(".content mark").all_inner_texts()
    if whole is None:
        assert marks == []
    else:
        assert any(whole in mark for mark in marks), marks
    assert not [mark for mark in marks if any(part in mark for part in never)], marks
