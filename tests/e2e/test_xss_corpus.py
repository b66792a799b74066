"""Stored XSS, the whole corpus: comments, author names and reasons show as text in the dashboard
(checked in Chromium) and come back verbatim from the API."""

from __future__ import annotations

from moderation import services
from moderation.services import review
from tests.e2e.helpers import identity, sign_in
from tests.e2e.seed import add_comment, make_moderator, make_site
from tests.xss_payloads import PAYLOADS


def seed_corpus(db):
    site, key = make_site(db, "xss")
    chief = make_moderator(db, "chief", role="admin")
    held, rejected = [], []
    for index, payload in enumerate(PAYLOADS):
        comment_id = add_comment(
            db, site, payload, author=payload[:80], highlight=[payload[:6]], title=payload[:500], url=payload
        )
        (rejected if index % 2 else held).append(comment_id)
    moderator = identity(db, chief)
    with db.session() as session:
        for index, comment_id in enumerate(rejected):
            review.decide(session, moderator, comment_id, "reject", PAYLOADS[index % len(PAYLOADS)])
    return key, held, rejected


def assert_nothing_ran(page) -> None:
    assert page.evaluate("window.__xss") is None, "a payload ran"
    assert page.locator("main script, main iframe, main object, main embed, main svg script").count() == 0


def test_the_corpus_shows_as_text_in_every_dashboard_page(page, db, app):
    key, held, rejected = seed_corpus(db)
    sign_in(page, "chief")
    page.goto("/dashboard/queue?tab=review&per_page=100")
    assert_nothing_ran(page)
    text = page.locator("main").inner_text()
    shown = [p for p in PAYLOADS[::2] if p.strip() in text]
    assert len(shown) >= len(PAYLOADS[::2]) - 2, "the payloads appear literally, as text"
    for path in (
        "/dashboard/queue?tab=rejected&per_page=100",
        "/dashboard/admin/audit",
        "/dashboard/admin/stats",
    ):
        page.goto(path)
        assert_nothing_ran(page)
    page.goto("/dashboard/admin/audit")
    assert "<script>window.__xss=1</script>" in page.locator("main").inner_text()
    page.goto(f"/dashboard/queue?tab=review&per_page=100&q={PAYLOADS[0]}")
    assert_nothing_ran(page)


def test_the_api_returns_the_corpus_verbatim_as_json(app, db):
    key, held, rejected = seed_corpus(db)
    client = app.test_client()
    for comment_id in held[:10] + rejected[:10]:
        response = client.get(f"/api/v1/comments/{comment_id}", headers={"Authorization": f"Bearer {key}"})
        assert response.mimetype == "application/json"
        assert response.headers.get("X-Content-Type-Options") == "nosniff"
        body = response.get_json()
        assert body["content"] in PAYLOADS and body["author"]["name"] == body["content"][:80]
    with db.session() as session:
        assert services.site_named(session, "xss").name == "xss"
