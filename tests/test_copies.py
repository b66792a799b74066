"""Repeats and floods are scored like any comment; a copy of a rejected comment is rejected too.

Through the whole pipeline (the API's door, the queue, a burst worker) on both databases.
"""

from __future__ import annotations

import pytest

from moderation import services
from moderation.services import review
from moderation.services.scoring import REJECTED_BY_MODERATOR
from moderation.storage.models import Comment

INSULT = "Thằng viết bài này ngu như bò"
INSULT_STRIPPED = "thang viet bai nay ngu nhu bo"
CLEAN = "Đường lên bản Sìn Hồ mùa này đẹp quá, mong tỉnh sớm nâng cấp để bà con đi lại dễ hơn."
CLEAN_STRIPPED = "Duong len ban Sin Ho mua nay dep qua, mong tinh som nang cap de ba con di lai de hon"


@pytest.fixture
def site(db):
    """A site with the door's default repeat and flood checks on (the ``site_key`` fixture turns them off)."""
    with db.session() as session:
        created, api_key = services.create_site(session, "baolaichau")
    return {"id": created.id, "auth": {"Authorization": f"Bearer {api_key}"}}


def post(client, site, content, *, name="Lò Văn Páo", ip="203.0.113.5") -> str:
    body = {"article_id": "sin-ho", "author": {"name": name}, "content": content, "client": {"ip": ip}}
    response = client.post("/api/v1/comments", json=body, headers=site["auth"])
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()["id"]


def stored(db, comment_id) -> Comment:
    with db.session() as session:
        return session.get(Comment, comment_id)


def api_view(client, site, comment_id) -> dict:
    return client.get(f"/api/v1/comments/{comment_id}", headers=site["auth"]).get_json()


@pytest.mark.parametrize("batches", ["one batch", "original scored first"])
def test_an_accent_stripped_copy_of_a_rejected_insult_is_rejected_with_the_originals_reasons(
    client, db, site, run_workers, batches
):
    original = post(client, site, INSULT)
    if batches == "original scored first":
        run_workers()
    copy = post(client, site, INSULT_STRIPPED)
    run_workers()
    first = stored(db, original)
    assert first.status == "rejected", first.decision_reasons
    second = stored(db, copy)
    assert second.status == "rejected"
    assert "duplicate" in second.decision_reasons, "scored, and named as a repeat"
    assert set(first.decision_reasons) <= set(second.decision_reasons)
    body = api_view(client, site, copy)
    assert body["analysis"] is not None, "the copy has its own analysis"
    assert body["analysis"]["decision"] == "reject"
    assert body["analysis"]["reasons"] == second.decision_reasons
    assert body["analysis"]["attributes"]["toxicity"]["score"] > 0
    assert (body["decision"]["by"], body["decision"]["reasons"]) == ("model", second.decision_reasons)


def test_a_copy_of_a_comment_a_moderator_rejected_is_rejected_without_their_note(
    client, db, site, run_workers
):
    """A moderator's reason is free text that may hold internal remarks: copies get a fixed code,
    in the database, the site's API and the analysis alike; the original keeps the moderator's."""
    original = post(client, site, CLEAN)
    run_workers()
    assert stored(db, original).status == "published"
    with db.session() as session:
        moderator = services.create_moderator(session, "linh", "correct horse battery")
        identity = services.ModeratorIdentity(moderator.id, "linh", "moderator", None)
    note = "Lạc đề; nội bộ: tài khoản này của phóng viên Tuấn, đừng trả lời"
    with db.session() as session:
        review.decide(session, identity, original, "reject", note)
    copy = post(client, site, CLEAN_STRIPPED)
    run_workers()
    assert stored(db, original).decision_reasons == [note]
    second = stored(db, copy)
    assert (second.status, second.decision_reasons) == ("rejected", ["duplicate", REJECTED_BY_MODERATOR])
    assert second.analysis["decision"] == "reject"
    assert second.analysis["reasons"] == ["duplicate", REJECTED_BY_MODERATOR]
    body = api_view(client, site, copy)
    assert (body["decision"]["by"], body["decision"]["reasons"]) == ("model", second.decision_reasons)
    assert "Tuấn" not in str(body) and "Lạc đề" not in str(body)
    # A copy of that copy follows it, still with the code only.
    third = post(client, site, CLEAN_STRIPPED + "!", name="Lò Văn Páo")
    run_workers()
    assert stored(db, third).decision_reasons == ["duplicate", REJECTED_BY_MODERATOR]


def test_a_copy_of_a_comment_a_moderator_rejected_without_a_reason_still_says_why(
    client, db, site, run_workers
):
    original = post(client, site, CLEAN)
    run_workers()
    with db.session() as session:
        moderator = services.create_moderator(session, "linh", "correct horse battery")
        identity = services.ModeratorIdentity(moderator.id, "linh", "moderator", None)
    with db.session() as session:
        review.decide(session, identity, original, "reject", None)
    copy = post(client, site, CLEAN_STRIPPED)
    run_workers()
    assert stored(db, copy).decision_reasons == ["duplicate", REJECTED_BY_MODERATOR]


def test_a_copy_of_a_published_comment_is_held_and_scored(client, db, site, run_workers):
    original = post(client, site, CLEAN)
    run_workers()
    copy = post(client, site, CLEAN_STRIPPED)
    run_workers()
    assert stored(db, original).status == "published"
    second = stored(db, copy)
    assert (second.status, second.decision_reasons) == ("review", ["duplicate"])
    body = api_view(client, site, copy)
    assert body["analysis"]["decision"] == "review"
    assert set(body["analysis"]["attributes"]) == {"toxicity", "hate_speech", "spam", "constructive"}


def test_flood_copies_of_a_rejected_comment_are_rejected_and_a_different_text_is_not(
    client, db, site, run_workers
):
    ids = [post(client, site, INSULT, name=f"Tài khoản {i}", ip=f"198.51.100.{i}") for i in range(4)]
    other = post(client, site, "Bài viết có ý đúng nhưng số liệu cần kiểm tra lại.", ip="198.51.100.9")
    run_workers()
    comments = [stored(db, i) for i in ids]
    assert [c.status for c in comments] == ["rejected"] * 4
    assert all(c.analysis is not None for c in comments)
    assert all("flood" in c.decision_reasons for c in comments[2:])
    assert stored(db, other).status == "published"


def test_a_held_copy_of_a_held_comment_stays_held(client, db, site, run_workers):
    """Only a rejection is inherited: a copy of a comment waiting for a moderator waits too."""
    with db.session() as session:
        services.update_site_policy(session, site["id"], {"premoderate": True}, actor="t")
    original = post(client, site, CLEAN)
    copy = post(client, site, CLEAN_STRIPPED)
    run_workers()
    assert stored(db, original).status == "review"
    second = stored(db, copy)
    assert second.status == "review"
    assert second.decision_reasons == ["duplicate"]
