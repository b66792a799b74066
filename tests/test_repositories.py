"""The posting path's hand-tuned statements on both databases: what they find, what they create."""

from __future__ import annotations

from sqlalchemy import func, select, text

from moderation import services
from moderation.storage import repositories as repo
from moderation.storage.models import Author


def test_an_author_is_found_by_name_and_email_or_created_once(db):
    with db.session() as session:
        site, _ = services.create_site(session, "authors")
        site_id = site.id
    with db.session() as session:
        first = repo.get_or_create_author(session, site_id, "Lan", "lan@example.vn")
        again = repo.get_or_create_author(session, site_id, "Lan", "lan@example.vn")
        no_email = repo.get_or_create_author(session, site_id, "Lan", None)
        no_email_again = repo.get_or_create_author(session, site_id, "Lan", None)
        other_email = repo.get_or_create_author(session, site_id, "Lan", "lan2@example.vn")
    assert first.id == again.id and no_email.id == no_email_again.id
    assert len({first.id, no_email.id, other_email.id}) == 3
    assert (first.status, first.email, no_email.email) == ("normal", "lan@example.vn", None)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Author)) == 3
        session.get(Author, first.id).status = "banned"
    with db.session() as session:
        found = repo.get_or_create_author(session, site_id, "Lan", "lan@example.vn")
        assert (found.id, found.status) == (first.id, "banned"), "a found author keeps their standing"
        stored = session.get(Author, no_email.id)
        assert stored.created_at is not None and stored.created_at.tzinfo is not None


def test_a_new_comment_leaves_its_unset_json_columns_sql_null(db):
    """Unscored comments are found by ``analysis IS NULL``: the insert must not store JSON 'null'."""
    with db.session() as session:
        site, _ = services.create_site(session, "nulls")
        comment = services.submit_comment(
            session, site, services.CommentSubmission(article_id="a", content="Bài hay", author_name="An")
        )
    with db.session() as session:
        row = session.execute(
            text("SELECT analysis IS NULL, decision_reasons IS NULL FROM comments WHERE id = :id"),
            {"id": comment.id},
        ).one()
    assert tuple(bool(value) for value in row) == (True, True)
