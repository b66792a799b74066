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


def test_an_author_a_read_missed_is_added_once_or_found(db):
    """The write after a read that found no author: adds them, or finds the one added meanwhile
    (with and without e-mail); their creation time reads back in UTC like the ORM's."""
    with db.session() as session:
        site, _ = services.create_site(session, "added")
        site_id = site.id
    with db.session() as session:
        added = repo.add_author_unless_found(session, site_id, "Lan", None)
        again = repo.add_author_unless_found(session, site_id, "Lan", None)
        with_email = repo.add_author_unless_found(session, site_id, "Lan", "lan@example.vn")
        with_email_again = repo.add_author_unless_found(session, site_id, "Lan", "lan@example.vn")
        other = repo.add_author_unless_found(session, site_id, "Lân", "lan@example.vn")
    assert added.id == again.id and with_email.id == with_email_again.id
    assert len({added.id, with_email.id, other.id}) == 3
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Author)) == 3
        assert repo.get_or_create_author(session, site_id, "Lan", "lan@example.vn").id == with_email.id
        assert repo.find_author(session, site_id, "Lan", None).id == added.id
        assert repo.find_author(session, site_id, "Nobody", None) is None
        stored = session.get(Author, added.id)
        assert stored.created_at.tzinfo is not None and stored.status == "normal"
        assert abs((stored.created_at - services.comments.utcnow()).total_seconds()) < 60


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


def test_a_batch_reads_each_sites_scoring_settings_in_one_query(db):
    """Policy, anti-abuse settings and model versions as saved; a site with no policy row gets empty ones."""
    with db.session() as session:
        tuned, _ = services.create_site(session, "tuned")
        bare, _ = services.create_site(session, "bare")
        tuned.model_version, tuned.shadow_version = "2026.11.2", "2026.11.3"
        repo.save_abuse_settings(session, tuned.id, {"auto_trust_published": 3})
        session.flush()
        session.execute(text("DELETE FROM site_policies WHERE site_id = :id"), {"id": bare.id})
        tuned_id, bare_id = tuned.id, bare.id
    with db.session() as session:
        configs = repo.site_scoring_configs(session, [tuned_id, bare_id, tuned_id, 999_999])
        stored_policy = repo.policy_settings(session, [tuned_id])[tuned_id]
        assert repo.site_scoring_configs(session, []) == {}
    assert set(configs) == {tuned_id, bare_id}, "an unknown site is simply absent"
    assert configs[tuned_id] == repo.SiteScoringConfig(
        stored_policy, {"auto_trust_published": 3}, "2026.11.2", "2026.11.3"
    )
    assert stored_policy, "a new site's policy row holds its default policy"
    assert configs[bare_id] == repo.SiteScoringConfig({}, {}, None, None)
