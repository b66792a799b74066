"""The ``moderation`` command line against a real database."""

from __future__ import annotations

import json

from sqlalchemy import select

from moderation import services
from moderation.cli import main
from moderation.storage.models import Moderator, ModeratorSite, Site


def test_site_create_prints_the_key_once_and_stores_only_its_hash(runner, db):
    result = runner.invoke(main, ["site", "create", "baolaichau", "--origin", "https://baolaichau.vn"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["site"] == "baolaichau"
    assert printed["api_key"].startswith("msk_")
    assert printed["widget_key"].startswith("mwk_")
    assert printed["origins"] == ["https://baolaichau.vn"]
    with db.session() as session:
        site = session.scalars(select(Site)).one()
        assert site.origins == ["https://baolaichau.vn"]
        assert printed["api_key"] not in (site.api_key_hash, site.api_key_prefix)
        assert services.authenticate_site(session, printed["api_key"]).id == site.id
        assert services.site_policy(session, site.id).premoderate is False


def test_site_create_twice_is_a_clear_error(runner, db):
    assert runner.invoke(main, ["site", "create", "demo"]).exit_code == 0
    result = runner.invoke(main, ["site", "create", "demo"])
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_moderator_create_reads_the_password_from_stdin(runner, db):
    runner.invoke(main, ["site", "create", "demo"])
    result = runner.invoke(
        main, ["moderator", "create", "an", "--role", "admin", "--site", "demo"], input="mật khẩu đủ dài\n"
    )
    assert result.exit_code == 0, result.output
    with db.session() as session:
        moderator = session.scalars(select(Moderator)).one()
        assert moderator.role == "admin"
        assert moderator.password_hash != "mật khẩu đủ dài"
        assert session.scalars(select(ModeratorSite)).one().moderator_id == moderator.id
        token, _ = services.issue_moderator_token(session, "an", "mật khẩu đủ dài", "k" * 40, 60)
        assert token


def test_moderator_create_refuses_a_short_password(runner, db):
    result = runner.invoke(main, ["moderator", "create", "an"], input="short\n")
    assert result.exit_code == 1
    assert "password: at least 10 characters" in result.output


def test_moderator_create_for_an_unknown_site_fails(runner, db):
    result = runner.invoke(
        main, ["moderator", "create", "an", "--site", "nowhere"], input="long enough password\n"
    )
    assert result.exit_code == 1
    assert "no site named" in result.output


def test_training_commands_without_the_train_extra_say_how_to_install_it(monkeypatch):
    import sys

    from click.testing import CliRunner

    from moderation.cli import main

    for name in [m for m in sys.modules if m.startswith("moderation.training")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pandas", None)  # what an install without the extra looks like
    result = CliRunner().invoke(main, ["retrain", "--site", "demo"])
    assert result.exit_code == 1
    assert "`moderation retrain` needs pandas" in result.output
    assert "pip install -e '.[train]'" in result.output
