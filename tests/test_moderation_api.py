"""The moderator API: tokens, the review queue, decisions with their audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation import services
from moderation.storage.models import AuditEntry, Comment
from tests.test_api_comments import VALID, post

PASSWORD = "correct horse battery"


@pytest.fixture
def moderator(db):
    with db.session() as session:
        services.create_moderator(session, "linh", PASSWORD)
    return "linh"


def token_for(client, username, password=PASSWORD):
    response = client.post("/api/v1/moderation/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def held_comment(client, auth, db, content="Bình luận chờ duyệt") -> str:
    comment_id = post(client, auth, {**VALID, "content": content}).get_json()["id"]
    with db.session() as session:
        comment = session.get(Comment, comment_id)
        comment.status = "review"
        comment.decided_by = "model"
        comment.decision_reasons = ["toxicity"]
        comment.analysis = {"decision": "review", "reasons": ["toxicity"]}
    return comment_id


def test_passwords_are_stored_hashed(db, moderator):
    with db.session() as session:
        from moderation.storage.repositories import moderator_by_username

        stored = moderator_by_username(session, "linh").password_hash
    assert PASSWORD not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:"))


@pytest.mark.parametrize(("username", "password"), [("linh", "wrong password"), ("nobody", PASSWORD)])
def test_wrong_credentials_get_no_token(client, moderator, username, password):
    response = client.post("/api/v1/moderation/token", json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "wrong username or password"


def test_queue_needs_a_moderator_token(client, auth, moderator):
    assert client.get("/api/v1/moderation/queue").status_code == 401
    response = client.get("/api/v1/moderation/queue", headers=auth)
    assert response.status_code == 401, "a site API key cannot reach moderator endpoints"
    assert (
        client.get("/api/v1/moderation/queue", headers={"Authorization": "Bearer forged.token"}).status_code
        == 401
    )


def test_queue_lists_held_comments_with_their_analysis(client, auth, db, moderator):
    held = held_comment(client, auth, db)
    post(client, auth, VALID)  # pending, not in the review queue
    response = client.get("/api/v1/moderation/queue?status=review", headers=token_for(client, moderator))
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["id"] == held
    assert item["analysis"]["reasons"] == ["toxicity"]
    assert item["article"]["title"] == VALID["article_title"]


def test_approve_publishes_and_writes_the_audit_log(client, auth, db, moderator):
    held = held_comment(client, auth, db)
    headers = token_for(client, moderator)
    response = client.post(
        f"/api/v1/moderation/comments/{held}/decision",
        json={"action": "approve", "reason": "ổn"},
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "published"
    assert response.get_json()["decision"]["by"] == "moderator"
    with db.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.comment_id == held)).one()
        assert (entry.actor, entry.action, entry.reason) == ("moderator:linh", "approve", "ổn")
        assert entry.details["from"] == "review" and entry.details["to"] == "published"
        assert entry.at is not None
    listed = client.get("/api/v1/articles/a-100/comments?site=demo").get_json()
    assert [item["id"] for item in listed["items"]] == [held]


def test_a_second_decision_on_the_same_comment_is_a_conflict(client, auth, db, moderator):
    held = held_comment(client, auth, db)
    with db.session() as session:
        services.create_moderator(session, "minh", PASSWORD)
    first, second = token_for(client, "linh"), token_for(client, "minh")
    url = f"/api/v1/moderation/comments/{held}/decision"
    assert client.post(url, json={"action": "reject", "reason": "spam"}, headers=first).status_code == 200
    response = client.post(url, json={"action": "approve"}, headers=second)
    assert response.status_code == 409
    with db.session() as session:
        assert session.get(Comment, held).status == "rejected"
        assert len(session.scalars(select(AuditEntry).where(AuditEntry.comment_id == held)).all()) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({"action": "delete"}, "action"), ({}, "action"), ({"action": "reject", "reason": "x" * 501}, "reason")],
)
def test_invalid_decisions_are_422(client, auth, db, moderator, body, field):
    held = held_comment(client, auth, db)
    response = client.post(
        f"/api/v1/moderation/comments/{held}/decision", json=body, headers=token_for(client, moderator)
    )
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_a_moderator_limited_to_one_site_cannot_see_or_decide_another(client, auth, db):
    with db.session() as session:
        services.create_site(session, "other")
        services.create_moderator(session, "other-mod", PASSWORD, site_names=["other"])
    held = held_comment(client, auth, db)
    headers = token_for(client, "other-mod")
    assert client.get("/api/v1/moderation/queue", headers=headers).get_json()["total"] == 0
    response = client.post(
        f"/api/v1/moderation/comments/{held}/decision", json={"action": "approve"}, headers=headers
    )
    assert response.status_code == 404


def test_changing_the_password_revokes_tokens(client, auth, db, moderator):
    from werkzeug.security import generate_password_hash

    from moderation.storage.repositories import moderator_by_username

    headers = token_for(client, moderator)
    assert client.get("/api/v1/moderation/queue", headers=headers).status_code == 200
    with db.session() as session:
        moderator_by_username(session, "linh").password_hash = generate_password_hash("a brand new password")
    assert client.get("/api/v1/moderation/queue", headers=headers).status_code == 401


def test_expired_tokens_are_refused(app, client, moderator, monkeypatch):
    headers = token_for(client, moderator)
    resources = app.extensions["moderation"]
    resources.settings = resources.settings.with_overrides(token_ttl_seconds=-1)
    response = client.get("/api/v1/moderation/queue", headers=headers)
    assert response.status_code == 401
    assert "expired" in response.get_json()["error"]["message"]
