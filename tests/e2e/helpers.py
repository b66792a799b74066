"""Browser steps and test-client helpers shared by the dashboard's tests and the screenshot script."""

from __future__ import annotations

import re

from moderation import services
from moderation.services import dashboard_support
from moderation.storage.db import Database
from moderation.storage.models import Comment, Moderator
from tests.e2e.seed import PASSWORD


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person would (labels in Vietnamese, the default language)."""
    page.goto("/dashboard/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/dashboard/queue**")


def csrf_token(client, path: str = "/dashboard/login") -> str:
    """The CSRF token a page carries (in a meta tag, for htmx), fetched with Flask's test client."""
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "every page carries the CSRF token for htmx"
    return match.group(1)


def client_sign_in(client, username: str, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post(
        "/dashboard/login", data={"username": username, "password": password, "csrf_token": token}
    )


def htmx(token: str) -> dict[str, str]:
    """The headers htmx sends: the fragment marker and the CSRF token."""
    return {"HX-Request": "true", "X-CSRFToken": token}


def identity(db: Database, moderator_id: int) -> services.ModeratorIdentity:
    with db.session() as session:
        moderator = session.get(Moderator, moderator_id)
        found = dashboard_support.load_identity(
            session, moderator_id, dashboard_support.fingerprint(moderator)
        )
    assert found is not None
    return found


def status_of(db: Database, comment_id: str) -> str:
    with db.session() as session:
        return session.get(Comment, comment_id).status
