"""The site API: submitting, reading and listing comments, and every bad input storing nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from moderation.storage.db import Database
from moderation.storage.models import Article, Author, Comment

VALID = {
    "article_id": "a-100",
    "article_title": "Tạo động lực thi đua trong cán bộ, đảng viên, Nhân dân",
    "article_url": "https://example.vn/a-100",
    "author": {"name": "Nguyễn Văn A", "email": "a@example.vn"},
    "content": "Bài viết rất hay, cảm ơn tác giả.",
    "client": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0", "referrer": "https://example.vn/a-100"},
}


def count(db: Database, model=Comment) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def post(client, auth, body):
    # json.dumps escapes non-ASCII, so even a lone surrogate travels as valid JSON text.
    return client.post(
        "/api/v1/comments", data=json.dumps(body), content_type="application/json", headers=auth
    )


def test_submit_stores_before_answering_and_records_the_enqueue(client, auth, db, redis_conn):
    response = post(client, auth, VALID)
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending"
    assert response.headers["Location"].endswith(f"/api/v1/comments/{body['id']}")
    with db.session() as session:
        comment = session.get(Comment, body["id"])
        assert comment.content == VALID["content"]
        assert comment.status == "pending"
        assert comment.client_ip == "203.0.113.7"
        assert comment.user_agent == "Mozilla/5.0"
        assert comment.referrer == "https://example.vn/a-100"
        assert comment.enqueued_at is not None
        assert comment.article.title == VALID["article_title"]
        assert comment.author.email == "a@example.vn"
    assert redis_conn.lrange("moderation:pending", 0, -1) == [body["id"].encode()]


def test_get_comment_shows_the_contract_fields_without_personal_data(client, auth):
    comment_id = post(client, auth, VALID).get_json()["id"]
    response = client.get(f"/api/v1/comments/{comment_id}", headers=auth)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == comment_id
    assert body["status"] == "pending"
    assert body["article_id"] == "a-100"
    assert body["content"] == VALID["content"]
    assert body["author"] == {"name": "Nguyễn Văn A"}
    assert body["created_at"].endswith("Z")
    assert "a@example.vn" not in response.get_data(as_text=True)
    assert "203.0.113.7" not in response.get_data(as_text=True)


def test_another_site_cannot_read_the_comment(client, auth, db):
    from moderation import services

    with db.session() as session:
        _, other_key = services.create_site(session, "other")
    comment_id = post(client, auth, VALID).get_json()["id"]
    response = client.get(f"/api/v1/comments/{comment_id}", headers={"Authorization": f"Bearer {other_key}"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer msk_wrong"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}],
)
def test_missing_or_wrong_key_is_401_and_stores_nothing(client, db, site_key, headers):
    response = client.post("/api/v1/comments", json=VALID, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert count(db) == 0


def _without(key: str) -> dict:
    return {k: v for k, v in VALID.items() if k != key}


BAD_FIELDS = [
    (_without("content"), "content"),
    ({**VALID, "content": ""}, "content"),
    ({**VALID, "content": "   \n "}, "content"),
    ({**VALID, "content": "x" * 5001}, "content"),
    ({**VALID, "content": 42}, "content"),
    ({**VALID, "content": "a\x00b"}, "content"),
    ({**VALID, "content": "lone \ud800 surrogate"}, "content"),
    (_without("author"), "author"),
    ({**VALID, "author": "Nguyễn"}, "author"),
    ({**VALID, "author": {"name": ""}}, "author.name"),
    ({**VALID, "author": {"name": "n" * 81}}, "author.name"),
    ({**VALID, "author": {"name": "A", "email": "not-an-email"}}, "author.email"),
    (_without("article_id"), "article_id"),
    ({**VALID, "article_id": 100}, "article_id"),
    ({**VALID, "article_url": "javascript:alert(1)"}, "article_url"),
    ({**VALID, "parent_id": "does-not-exist"}, "parent_id"),
    ({**VALID, "parent_id": 7}, "parent_id"),
    ({**VALID, "client": {"ip": "999.1.1.1"}}, "client.ip"),
    ({**VALID, "client": "203.0.113.7"}, "client"),
]


@pytest.mark.parametrize(("body", "field"), BAD_FIELDS)
def test_invalid_fields_are_422_naming_the_field_and_store_nothing(client, auth, db, body, field):
    response = post(client, auth, body)
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "invalid_fields"
    assert field in error["fields"]
    assert count(db) == 0
    assert count(db, Article) == 0
    assert count(db, Author) == 0


def test_exactly_5000_characters_is_accepted(client, auth):
    assert post(client, auth, {**VALID, "content": "a" * 5000}).status_code == 202


def test_nfd_content_is_measured_in_composed_characters(client, auth, db):
    import unicodedata

    content = unicodedata.normalize("NFD", "é" * 2500)  # 5,000 code points decomposed, 2,500 composed
    assert len(content) == 5000
    response = post(client, auth, {**VALID, "content": content + unicodedata.normalize("NFD", "ệ")})
    assert response.status_code == 202
    with db.session() as session:
        stored = session.get(Comment, response.get_json()["id"])
        assert stored.content == content + unicodedata.normalize("NFD", "ệ"), "the original text is kept"


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b'{"article_id": "a", ', "application/json", 400, "malformed_json"),
        (b"", "application/json", 400, "malformed_json"),
        (b'{"content": "\xff\xfe"}', "application/json", 400, "malformed_json"),
        (b'{"a": NaN}', "application/json", 400, "malformed_json"),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400, "malformed_json"),
        (b"[1, 2]", "application/json", 422, "invalid_fields"),
        (b'"text"', "application/json", 422, "invalid_fields"),
        (b"article_id=a", "application/x-www-form-urlencoded", 400, "malformed_json"),
    ],
)
def test_malformed_bodies(client, auth, db, data, content_type, status, code):
    response = client.post("/api/v1/comments", data=data, content_type=content_type, headers=auth)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert count(db) == 0


def test_a_body_over_the_limit_is_413(client, auth, db):
    body = json.dumps({**VALID, "content": "x" * 70_000})
    response = client.post("/api/v1/comments", data=body, content_type="application/json", headers=auth)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "body_too_large"
    assert count(db) == 0


def test_unknown_routes_and_methods_answer_json(client, auth):
    response = client.get("/api/v1/nothing-here", headers=auth)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    response = client.delete("/api/v1/comments", headers=auth)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_reply_must_belong_to_the_same_article(client, auth):
    parent = post(client, auth, VALID).get_json()["id"]
    assert post(client, auth, {**VALID, "parent_id": parent}).status_code == 202
    response = post(client, auth, {**VALID, "article_id": "another", "parent_id": parent})
    assert response.status_code == 422
    assert "parent_id" in response.get_json()["error"]["fields"]


def test_the_article_is_created_once_and_its_title_kept_current(client, auth, db):
    post(client, auth, VALID)
    post(client, auth, {**VALID, "article_title": "Tiêu đề mới"})
    with db.session() as session:
        articles = session.scalars(select(Article)).all()
        assert len(articles) == 1
        assert articles[0].title == "Tiêu đề mới"


def test_a_cached_article_follows_title_changes_and_keeps_its_title_when_none_is_sent(client, auth, db):
    post(client, auth, VALID)
    post(client, auth, VALID)  # from the per-process article cache
    post(client, auth, {**VALID, "article_title": "Tiêu đề mới"})
    post(client, auth, {key: value for key, value in VALID.items() if key != "article_title"})
    with db.session() as session:
        assert session.scalars(select(Article.title)).all() == ["Tiêu đề mới"]
    assert count(db) == 4


def test_an_article_created_in_a_rolled_back_post_is_not_remembered(db):
    """A post that fails after creating its article must not leave the article's id cached."""
    from moderation import services

    with db.session() as session:
        site, _ = services.create_site(session, "rollback-site")
    submission = services.CommentSubmission(article_id="new-article", content="Bài hay quá", author_name="An")
    with pytest.raises(RuntimeError), db.session() as session:
        services.submit_comment(session, session.get(type(site), site.id), submission)
        raise RuntimeError("the request fails after the insert")
    assert count(db, Article) == 0
    with db.session() as session:
        comment = services.submit_comment(session, session.get(type(site), site.id), submission)
        comment.status = "published"  # the returned comment is attached: changes are saved
    with db.session() as session:
        stored = session.get(Comment, comment.id)
        assert stored.status == "published"
        assert stored.article.external_id == "new-article"


def test_submit_without_redis_still_stores_and_answers_202(app, client, auth, db):
    """Redis down at that moment: the comment is stored with no enqueue recorded, for the sweep."""
    from moderation.queueing import ScoringQueue, connect

    resources = app.extensions["moderation"]
    resources.queue = ScoringQueue(connect("redis://127.0.0.1:1/0"))
    response = post(client, auth, VALID)
    assert response.status_code == 202
    with db.session() as session:
        comment = session.get(Comment, response.get_json()["id"])
        assert comment.status == "pending"
        assert comment.enqueued_at is None


def test_database_down_is_503_never_202(app, client, auth):
    from moderation.storage.db import Database

    resources = app.extensions["moderation"]
    resources.db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = post(client, auth, VALID)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "storage_unavailable"
    assert "Retry-After" in response.headers
