"""No one let in: sign-in throttling and lockout, hashed keys, CSRF everywhere, production secrets."""

from __future__ import annotations

import hmac
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import update

from moderation import services
from moderation.services.accounts import MAX_FAILED_SIGN_INS
from moderation.settings import Settings, SettingsError
from moderation.storage.models import Moderator, Site, utcnow

PASSWORD = "correct horse battery"


@pytest.fixture
def moderator(db):
    with db.session() as session:
        services.create_moderator(session, "linh", PASSWORD)
    return "linh"


def sign_in(client, password, address="198.51.100.1"):
    return client.post(
        "/api/v1/moderation/token",
        json={"username": "linh", "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, db, moderator):
    for attempt in range(MAX_FAILED_SIGN_INS):
        response = sign_in(client, "wrong password", address=f"198.51.100.{attempt}")
        assert response.status_code == 401
    locked = sign_in(client, PASSWORD, address="198.51.100.99")
    assert locked.status_code == 401
    assert "locked" in locked.get_json()["error"]["message"]
    assert (
        "locked" not in sign_in(client, "still wrong", address="198.51.100.98").get_json()["error"]["message"]
    ), "only someone who knows the password learns that the account is locked"
    with db.session() as session:
        session.execute(update(Moderator).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert sign_in(client, PASSWORD).status_code == 200
    with db.session() as session:
        row = session.query(Moderator).one()
        assert (row.failed_logins, row.locked_until) == (0, None)


def test_failures_below_the_limit_are_forgotten_after_a_success(client, db, moderator):
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        sign_in(client, "wrong password", address="198.51.100.50")
    assert sign_in(client, PASSWORD, address="198.51.100.51").status_code == 200
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        sign_in(client, "wrong password", address="198.51.100.52")
    assert sign_in(client, PASSWORD, address="198.51.100.53").status_code == 200


def test_password_guessing_from_one_address_is_throttled(client, db, moderator):
    codes = [sign_in(client, f"guess {i}", address="198.51.100.200").status_code for i in range(12)]
    assert codes[:10] == [401] * 10
    assert codes[10:] == [429, 429]


def test_api_keys_are_stored_hashed_and_compared_in_constant_time(db, monkeypatch):
    with db.session() as session:
        site, key = services.create_site(session, "demo")
        stored = session.get(Site, site.id)
        assert key not in (stored.api_key_hash, stored.api_key_prefix) and len(stored.api_key_hash) == 64
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    with db.session() as session:
        assert services.authenticate_site(session, key).id == site.id
        with pytest.raises(Exception, match="invalid API key"):
            services.authenticate_site(session, key[:-1] + ("A" if key[-1] != "A" else "B"))
    assert len(calls) == 2


def test_every_state_changing_dashboard_form_needs_its_csrf_token(app, client, db, moderator):
    """Sign in for real, then post to every non-API POST route without a token: all refused."""
    page = client.get("/dashboard/login")
    assert page.status_code == 200
    routes = [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ()) and not rule.rule.startswith("/api/")
    ]
    assert len(routes) >= 8, [r.rule for r in routes]
    for rule in routes:
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<int:{argument}>", "1").replace(f"<{argument}>", "x")
        response = client.post(url, data={"username": "linh", "password": PASSWORD})
        assert response.status_code in (400, 403), (
            f"{rule.rule} answered {response.status_code} without a CSRF token"
        )


def test_production_refuses_to_start_without_a_real_secret(tmp_path):
    base = {
        "MODERATION_ENV": "production",
        "DATABASE_URL": "sqlite:////tmp/x.db",
        "REDIS_URL": "redis://h:1/0",
    }
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env(base)
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "MODERATION_SECRET_KEY")}
    env.update({**base, "MODERATION_INSTANCE_DIR": str(tmp_path)})
    for command in (["up"], ["worker", "--burst"], ["web"]):
        result = subprocess.run(
            [sys.executable, "-m", "moderation", *command],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0, command
        assert "SECRET_KEY must be set" in result.stderr, result.stderr


def test_the_dashboard_sign_in_shares_the_lockout_and_is_throttled(app, db, moderator):
    from tests.e2e.helpers import client_sign_in

    client = app.test_client()
    for attempt in range(MAX_FAILED_SIGN_INS):
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{attempt}"
        assert client_sign_in(client, "linh", "wrong password").status_code == 401
    client.environ_base["REMOTE_ADDR"] = "198.51.100.99"
    locked = client_sign_in(client, "linh", PASSWORD)
    assert locked.status_code == 401
    assert "tài khoản bị khóa" in locked.get_data(as_text=True)
    client.environ_base["REMOTE_ADDR"] = "198.51.100.250"
    codes = [client_sign_in(client, "nobody", f"guess {i}").status_code for i in range(12)]
    assert codes[-1] == 429 and codes[:10] == [401] * 10
