"""Configuration, read once from the environment with typed parsers.

Every knob is a ``MODERATION_*`` variable, except the standard ``DATABASE_URL``, ``REDIS_URL``,
``PORT``, ``SECRET_KEY`` and ``LOG_LEVEL``. Parsing fails fast with a message naming the variable.
In production no secret falls back to a default. This module imports nothing of the project.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL_DIR = PACKAGE_DIR / "models"
ENVIRONMENTS = ("development", "test", "production")
DEV_SECRET_KEY = "dev-only-secret-key-change-me"


class SettingsError(ValueError):
    """A configuration variable is missing or malformed."""


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be a boolean (true/false), got {raw!r}")


def parse_int(name: str, raw: str, *, minimum: int | None = None) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def parse_float(name: str, raw: str, *, minimum: float | None = None) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver that the project ships for plain ``postgresql://`` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("postgresql+", "sqlite")):
        return url
    raise SettingsError(f"DATABASE_URL must be a sqlite:// or postgresql:// URL, got {url.split(':')[0]!r}")


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    secret_key: str = DEV_SECRET_KEY
    instance_dir: Path = field(default_factory=lambda: Path.cwd() / "instance")
    database_url: str = ""
    redis_url: str | None = None
    port: int = 5000
    host: str = "127.0.0.1"
    workers: int = 1
    #: Workers run at this lower CPU priority (os.nice) so posting stays fast during bursts; they
    #: catch up when the burst is over (docs/performance.md compares 5 and 15).
    worker_nice: int = 15
    web_processes: int = 2
    #: Threads per web process (gunicorn's gthread worker): overlap database and Redis waits.
    web_threads: int = 4
    queue_name: str = "moderation"
    batch_size: int = 256
    #: How long a drainer waits for a small batch to fill (see ``ScoringQueue.pop_batch``): fewer,
    #: larger batches in a burst (docs/performance.md); a lone comment is decided this much later.
    batch_linger_seconds: float = 0.1
    max_drainers: int = 8
    job_timeout: int = 600
    max_body_bytes: int = 64 * 1024
    max_analyze_bytes: int = 16 * 1024 * 1024
    max_content_chars: int = 5000
    max_name_chars: int = 80
    sweep_interval: float = 15.0
    sweep_grace_seconds: float = 10.0
    sweep_stale_seconds: float = 300.0
    token_ttl_seconds: int = 12 * 3600
    #: Reverse proxies in front of the web server whose X-Forwarded-For/-Proto/-Host to trust.
    proxy_hops: int = 0
    #: Readers' addresses and user agents are erased after this many days (0 keeps them).
    retention_days: int = 90
    #: A dashboard sign-in lasts this long, however active the moderator is.
    session_hours: float = 8.0
    #: Send the dashboard's session cookie over HTTPS only; ``None`` means "in production".
    session_cookie_secure: bool | None = None
    #: Serve the demo article page at ``/demo`` (and let ``moderation up`` prepare its site);
    #: ``None`` means "outside production".
    demo: bool | None = None
    model_dir: Path = DEFAULT_MODEL_DIR
    #: Where retraining writes site candidates (shared by every machine that scores, like the database).
    model_store: Path | None = None
    #: ``moderation up`` also starts a training worker (scheduled retraining runs on it).
    training_worker: bool = False
    log_level: str = "INFO"
    #: Set by ``moderation up`` for its children: the file where it publishes their states
    #: (``moderation.child_state``), so ``/readyz`` reports a child that is restarting.
    supervisor_state: Path | None = None

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        return self.is_production if self.session_cookie_secure is None else self.session_cookie_secure

    @property
    def demo_enabled(self) -> bool:
        return not self.is_production if self.demo is None else self.demo

    @property
    def model_store_dir(self) -> Path:
        return self.model_store if self.model_store is not None else self.instance_dir / "models"

    @property
    def training_queue(self) -> str:
        """Retraining jobs wait here, apart from scoring: a job of minutes must not hold up comments."""
        return f"{self.queue_name}-training"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **overrides)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name)
            return None if value is None or value.strip() == "" else value

        mode = (get("MODERATION_ENV") or "development").strip().lower()
        if mode not in ENVIRONMENTS:
            raise SettingsError(f"MODERATION_ENV must be one of {', '.join(ENVIRONMENTS)}, got {mode!r}")

        secret = get("SECRET_KEY") or get("MODERATION_SECRET_KEY")
        if mode == "production":
            if not secret or secret == DEV_SECRET_KEY:
                raise SettingsError("SECRET_KEY must be set to a random value in production")
            if len(secret) < 32:
                raise SettingsError("SECRET_KEY must be at least 32 characters in production")
        instance_dir = Path(get("MODERATION_INSTANCE_DIR") or Path.cwd() / "instance").resolve()
        database_url = get("DATABASE_URL")
        if database_url is None:
            if mode == "production":
                raise SettingsError("DATABASE_URL must be set in production")
            database_url = f"sqlite:///{instance_dir / 'moderation.db'}"
        redis_url = get("REDIS_URL")
        if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("REDIS_URL must start with redis://, rediss:// or unix://")
        if mode == "production" and redis_url is None:
            raise SettingsError("REDIS_URL must be set in production")

        values: dict[str, Any] = {
            "env": mode,
            "secret_key": secret or DEV_SECRET_KEY,
            "instance_dir": instance_dir,
            "database_url": normalize_database_url(database_url),
            "redis_url": redis_url,
            "model_dir": Path(get("MODERATION_MODEL_DIR") or DEFAULT_MODEL_DIR).resolve(),
            "model_store": Path(get("MODERATION_MODEL_STORE") or instance_dir / "models").resolve(),
            "log_level": (get("LOG_LEVEL") or "INFO").upper(),
            "host": get("MODERATION_HOST") or "127.0.0.1",
            "queue_name": get("MODERATION_QUEUE") or "moderation",
        }
        state = get("MODERATION_SUPERVISOR_STATE")
        if state is not None:
            values["supervisor_state"] = Path(state)
        ints = {
            "port": ("PORT", 1),
            "workers": ("MODERATION_WORKERS", 1),
            "worker_nice": ("MODERATION_WORKER_NICE", 0),
            "web_processes": ("MODERATION_WEB_PROCESSES", 1),
            "web_threads": ("MODERATION_WEB_THREADS", 1),
            "batch_size": ("MODERATION_BATCH_SIZE", 1),
            "max_drainers": ("MODERATION_MAX_DRAINERS", 1),
            "job_timeout": ("MODERATION_JOB_TIMEOUT", 10),
            "max_body_bytes": ("MODERATION_MAX_BODY_BYTES", 1024),
            "max_analyze_bytes": ("MODERATION_MAX_ANALYZE_BYTES", 1024),
            "token_ttl_seconds": ("MODERATION_TOKEN_TTL", 60),
            "retention_days": ("MODERATION_RETENTION_DAYS", 0),
            "proxy_hops": ("MODERATION_PROXY_HOPS", 0),
        }
        for attr, (name, minimum) in ints.items():
            raw = get(name)
            if raw is not None:
                values[attr] = parse_int(name, raw, minimum=minimum)
        floats = {
            "batch_linger_seconds": "MODERATION_BATCH_LINGER",
            "sweep_interval": "MODERATION_SWEEP_INTERVAL",
            "sweep_grace_seconds": "MODERATION_SWEEP_GRACE",
            "sweep_stale_seconds": "MODERATION_SWEEP_STALE",
        }
        for attr, name in floats.items():
            raw = get(name)
            if raw is not None:
                values[attr] = parse_float(name, raw, minimum=0.0)
        raw = get("MODERATION_SESSION_HOURS")
        if raw is not None:
            values["session_hours"] = parse_float("MODERATION_SESSION_HOURS", raw, minimum=0.01)
        raw = get("MODERATION_SESSION_COOKIE_SECURE")
        if raw is not None:
            values["session_cookie_secure"] = parse_bool("MODERATION_SESSION_COOKIE_SECURE", raw)
        raw = get("MODERATION_DEMO")
        if raw is not None:
            values["demo"] = parse_bool("MODERATION_DEMO", raw)
        raw = get("MODERATION_TRAINING_WORKER")
        if raw is not None:
            values["training_worker"] = parse_bool("MODERATION_TRAINING_WORKER", raw)
        if values["log_level"] not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError(
                f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {values['log_level']!r}"
            )
        return cls(**values)
