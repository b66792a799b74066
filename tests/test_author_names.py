"""Readers cannot post as the newspaper: "Ban biên tập <site>" and its variants are refused (422).

The newsroom's replies are signed "Ban biên tập <site>"; a reader under that name (any case,
accents, spacing or dots), "BBT", "Tòa soạn" or the site's own name would pose as the paper. Through
the real API (the site's server and the widget), on both databases; moderators still reply.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from moderation import services
from moderation.services import newsroom
from moderation.services.author_names import poses_as_newsroom
from moderation.storage.models import Author, Comment, Site
from tests.test_door import ORIGIN, server_post, widget_post

POSING = [
    "Ban biên tập baolaichau",
    "Ban Biên Tập",
    "BAN BIÊN TẬP",
    "ban bien tap",
    "Ban  biên   tập  báo Lai Châu",
    "B.a.n b.i.ê.n t.ậ.p",
    "B a n  b i e n  t a p",
    "Ban-Biên-Tập",
    "BanBienTap",
    "Ban\u200bbiên tập",
    "Bаn biên tập",  # a Cyrillic а
    "Bạn biên tập",
    "Ban biên tập viên",
    "BBT Báo Lai Châu",
    "Tòa soạn",
    "Toà soạn báo",
    "baolaichau",
    "Báo Lai Châu",
    "BAO LAI CHAU",
]
READERS = ["Nguyễn Văn Ban", "Bạn đọc", "Bùi Bá Tùng", "Lai Châu", "Trần Biên", "Lò Văn Páo"]


@pytest.fixture
def site(db) -> dict:
    with db.session() as session:
        created, api_key = services.create_site(session, "baolaichau", [ORIGIN])
        return {"id": created.id, "widget_key": created.widget_key, "api_key": api_key}


def comment_count(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Comment)) or 0


def assert_refused(response) -> None:
    """A 422 in the contract's error shape, naming the author's name."""
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "invalid_fields"
    assert set(error["fields"]) == {"author.name"}
    assert "reserved for the newsroom" in error["fields"]["author.name"]
    assert error["message"]


@pytest.mark.parametrize("name", POSING)
def test_a_site_cannot_post_a_reader_under_the_newsrooms_name(client, db, site, name):
    assert_refused(server_post(client, site, name=name, ip="203.0.113.5"))
    assert comment_count(db) == 0


@pytest.mark.parametrize("name", ["Ban biên tập baolaichau", "ban bien tap", "Báo Lai Châu", "BBT"])
def test_the_widget_cannot_post_under_the_newsrooms_name(app, client, db, site, name):
    response = widget_post(app, client, site, name=name)
    assert_refused(response)
    assert response.headers["Access-Control-Allow-Origin"], "the page can read why"
    assert comment_count(db) == 0


@pytest.mark.parametrize("name", READERS)
def test_readers_names_that_merely_share_letters_are_accepted(client, db, site, name):
    assert server_post(client, site, name=name, ip="203.0.113.6").status_code == 202


def test_the_sites_name_is_reserved_for_that_site_only(db):
    assert poses_as_newsroom("Báo Lai Châu", "baolaichau")
    assert not poses_as_newsroom("Báo Lai Châu", "baodienbien")
    assert not poses_as_newsroom("   ", "baolaichau")


def test_moderators_still_reply_as_the_newsroom_and_a_reader_cannot_take_its_trusted_author(client, db, site):
    """Before, a reader posting the exact name with no email became the newsroom's trusted author."""
    posted = server_post(client, site, name="Lò Văn Páo", ip="203.0.113.7")
    assert posted.status_code == 202
    with db.session() as session:
        moderator = services.create_moderator(session, "linh", "correct horse battery")
        identity = services.ModeratorIdentity(moderator.id, "linh", "moderator", None)
    with db.session() as session:
        reply = newsroom.reply_as_newsroom(session, identity, posted.get_json()["id"], "Cảm ơn bạn đã góp ý.")
        assert (reply.status, reply.author.name) == ("published", "Ban biên tập baolaichau")
    assert_refused(server_post(client, site, name="Ban biên tập baolaichau", ip="203.0.113.8"))
    with db.session() as session:
        author = session.scalars(select(Author).where(Author.name == "Ban biên tập baolaichau")).one()
        assert author.status == "trusted"
        count = select(func.count()).select_from(Comment).where(Comment.author_id == author.id)
        assert session.scalar(count) == 1, "only the newsroom's reply"


def test_names_stored_before_the_rule_are_shown_to_readers_as_a_reader(client, db, site):
    """Authors stored before names were checked keep their row; readers no longer see them as the paper.

    Two kinds of old rows: a reader named "Tòa soạn", and a reader's post that joined the newsroom's
    own author record (the hole closed above). Only the moderator's reply keeps the newsroom's name.
    """
    posts = [server_post(client, site, ip=f"203.0.113.{n}") for n in (20, 21, 22)]
    ids = [post.get_json()["id"] for post in posts]
    with db.session() as session:
        moderator = services.create_moderator(session, "linh", "correct horse battery")
        identity = services.ModeratorIdentity(moderator.id, "linh", "moderator", None)
    with db.session() as session:
        reply = newsroom.reply_as_newsroom(session, identity, ids[0], "Cảm ơn bạn đã góp ý.")
        reply_id, newsroom_author_id = reply.id, reply.author_id
    with db.session() as session:  # what an older release could have stored
        posing = Author(site_id=site["id"], name="Tòa soạn", email=None, status="normal")
        session.add(posing)
        session.flush()
        for comment_id in ids:
            session.get(Comment, comment_id).status = "published"
        session.get(Comment, ids[1]).author_id = posing.id
        session.get(Comment, ids[2]).author_id = newsroom_author_id
    listed = client.get("/api/v1/articles/sin-ho/comments?site=baolaichau")
    assert listed.status_code == 200
    names = {}
    for thread in listed.get_json()["items"]:
        names[thread["id"]] = thread["author"]["name"]
        names.update({reply["id"]: reply["author"]["name"] for reply in thread["replies"]})
    assert names == {
        ids[0]: "Lò Văn Páo",
        reply_id: "Ban biên tập baolaichau",
        ids[1]: "Bạn đọc",
        ids[2]: "Bạn đọc",
    }
    with db.session() as session:
        assert session.get(Comment, ids[1]).author.name == "Tòa soạn", "the stored name is kept"


def test_only_the_sites_own_record_counts_as_the_newsroom_author(db, site):
    """The dashboard's posing badge spares the newsroom's own author record and no other."""
    with db.session() as session:
        record = session.get(Site, site["id"])
        own = newsroom.newsroom_author(session, record)
        assert newsroom.is_newsroom_author(own, record)
        lookalikes = [
            Author(site_id=record.id, name=own.name, email="ban@example.vn", status="trusted"),
            Author(site_id=record.id, name=own.name, email=None, status="normal"),
            Author(site_id=record.id, name="Tòa soạn", email=None, status="trusted"),
        ]
        assert [newsroom.is_newsroom_author(a, record) for a in lookalikes] == [False, False, False]
