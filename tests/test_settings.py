"""Configuration parsing fails fast and never lets production run on a default secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderation.settings import DEV_SECRET_KEY, Settings, SettingsError

PROD = {
    "MODERATION_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "DATABASE_URL": "postgresql://u@db/moderation",
    "REDIS_URL": "redis://redis:6379/0",
}


def test_defaults_use_sqlite_under_instance(tmp_path: Path):
    settings = Settings.from_env({"MODERATION_INSTANCE_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'moderation.db'}"
    assert settings.redis_url is None
    assert settings.port == 5000
    assert settings.env == "development"


def test_postgres_urls_use_the_shipped_driver():
    settings = Settings.from_env({"DATABASE_URL": "postgresql://u:p@h:5432/d"})
    assert settings.database_url == "postgresql+psycopg://u:p@h:5432/d"
    assert Settings.from_env({"DATABASE_URL": "postgres://h/d"}).database_url == "postgresql+psycopg://h/d"


def test_typed_values_are_parsed():
    settings = Settings.from_env(
        {"PORT": "8080", "MODERATION_WORKERS": "3", "MODERATION_SWEEP_INTERVAL": "2.5"}
    )
    assert (settings.port, settings.workers, settings.sweep_interval) == (8080, 3, 2.5)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "eighty"}, "PORT must be an integer"),
        ({"PORT": "0"}, "PORT must be at least 1"),
        ({"MODERATION_ENV": "staging"}, "MODERATION_ENV must be one of"),
        ({"DATABASE_URL": "mysql://h/d"}, "DATABASE_URL must be"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must start with"),
        ({"MODERATION_SWEEP_INTERVAL": "soon"}, "MODERATION_SWEEP_INTERVAL must be a number"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be"),
    ],
)
def test_malformed_values_fail_fast_naming_the_variable(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_production_starts_with_real_secrets():
    settings = Settings.from_env(PROD)
    assert settings.is_production
    assert settings.secret_key == "s" * 40


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "at least 32 characters"),
        ({"DATABASE_URL": ""}, "DATABASE_URL must be set"),
        ({"REDIS_URL": ""}, "REDIS_URL must be set"),
    ],
)
def test_production_refuses_defaults(change, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**PROD, **change})
