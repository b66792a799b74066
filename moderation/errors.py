"""Domain exceptions.

Each carries a stable machine-readable ``code``; the web layer maps classes to HTTP statuses so
that services and workers never think in HTTP. This module imports nothing of the project.
"""

from __future__ import annotations


class ModerationError(Exception):
    """Base of every error the project raises on purpose."""

    code = "error"

    def __init__(self, message: str = "", *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.fields = fields or {}


class ConfigurationError(ModerationError):
    """The configuration is invalid or incomplete."""

    code = "configuration_error"


class ValidationError(ModerationError):
    """Some fields of the request are invalid."""

    code = "invalid_fields"


class NotFound(ModerationError):
    """The resource does not exist."""

    code = "not_found"


class AuthenticationError(ModerationError):
    """Missing or wrong credentials."""

    code = "unauthorized"


class AccountLocked(AuthenticationError):
    """Too many failed sign-ins: the account is locked for a while."""

    code = "account_locked"

    def __init__(self, minutes: int) -> None:
        super().__init__(f"too many failed sign-ins: this account is locked for {minutes} more minutes")
        self.minutes = minutes


class PermissionDenied(ModerationError):
    """The credentials are valid but do not allow this action."""

    code = "forbidden"


class Conflict(ModerationError):
    """The action conflicts with the current state of the resource."""

    code = "conflict"


class AlreadyExists(Conflict):
    """A resource with this name already exists."""

    code = "already_exists"


class StorageUnavailable(ModerationError):
    """The database cannot be reached."""

    code = "storage_unavailable"


class QueueUnavailable(ModerationError):
    """Redis cannot be reached."""

    code = "queue_unavailable"


class ModelArtifactError(ModerationError):
    """A model artifact is missing, truncated or does not match its manifest."""

    code = "model_unavailable"


class ScoringError(ModerationError):
    """Scoring a text raised."""

    code = "scoring_error"


class TrainingUnavailable(ModerationError):
    """Training needs the `train` extra: .venv/bin/pip install -e '.[train]'"""

    code = "training_unavailable"
