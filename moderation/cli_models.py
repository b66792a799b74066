"""``moderation model ...``: a site's model versions, promotion, rollback and shadow mode.

Serving-side commands: they read and write the database and look at installed versions, and never
import training code (``moderation retrain``, in ``moderation.training.cli``, builds candidates).
"""

from __future__ import annotations

import json
from typing import Any

import click

from moderation.cli import _database, fail, load_settings
from moderation.errors import ModelArtifactError, ModerationError


def registry() -> Any:
    from moderation.scoring.registry import ModelRegistry

    settings = load_settings()
    return ModelRegistry(settings.model_dir, settings.model_store_dir)


def _site(session: Any, name: str) -> Any:
    from moderation.services.sites import site_named

    return site_named(session, name)


def _run(action: Any) -> Any:
    try:
        return action()
    except ModelArtifactError as exc:
        raise click.ClickException(str(exc)) from None
    except ModerationError as exc:
        raise fail(exc) from None


@click.group("model")
def model() -> None:
    """A site's model versions: list, promote, roll back, shadow."""


@model.command("list")
@click.option("--site", "site_name", required=True, help="site name")
def model_list(site_name: str) -> None:
    """The live and shadow versions, candidates with their guard verdicts, deployments and labels."""
    from moderation.services import learning

    versions = registry()

    def read() -> dict[str, Any]:
        with _database().session() as session:
            site = _site(session, site_name)
            return {
                "site": site.name,
                "live": site.model_version or f"{versions.installed_default_version()} (installed default)",
                "shadow": site.shadow_version,
                "labels": learning.label_summary(session, site.id),
                "learning": learning.learning_settings(session, site.id).to_dict(),
                "candidates": [
                    {
                        "version": v.version,
                        "status": v.status,
                        "base_version": v.base_version,
                        "created_at": v.created_at.isoformat(),
                        "guard_passed": (v.report or {}).get("guard", {}).get("passed"),
                    }
                    for v in learning.site_versions(session, site.id)
                ],
                "deployments": [
                    {
                        "version": d.version,
                        "previous": d.previous,
                        "actor": d.actor,
                        "at": d.deployed_at.isoformat(),
                        "rolled_back_at": d.rolled_back_at.isoformat() if d.rolled_back_at else None,
                    }
                    for d in learning.deployments(session, site.id)
                ],
            }

    click.echo(json.dumps(_run(read), indent=2, ensure_ascii=False))


@model.command("report")
@click.option("--site", "site_name", required=True, help="site name")
@click.argument("version")
def model_report(site_name: str, version: str) -> None:
    """Print a candidate's comparison with the model that was live when it was trained."""
    from moderation.services import learning

    def read() -> dict[str, Any] | None:
        with _database().session() as session:
            row = learning.model_version(session, _site(session, site_name).id, version)
            return None if row is None else row.report

    report = _run(read)
    if report is None:
        raise click.ClickException(f"no candidate {version!r} for {site_name}")
    from moderation.services.learning_report import render_report

    click.echo(render_report(report), nl=False)


@model.command("promote")
@click.option("--site", "site_name", required=True, help="site name")
@click.option(
    "--force", is_flag=True, help="promote a candidate the guard refused (after reading its report)"
)
@click.argument("version")
def model_promote(site_name: str, version: str, force: bool) -> None:
    """Make VERSION decide the site's comments; workers switch at their next batch."""
    from moderation.services import learning

    versions = registry()

    def act() -> str:
        with _database().session() as session:
            site = _site(session, site_name)
            learning.promote(session, site, version, actor="cli", versions=versions, force=force)
            return f"{site.name}: {version} is live"

    click.echo(_run(act))


@model.command("rollback")
@click.option("--site", "site_name", required=True, help="site name")
def model_rollback(site_name: str) -> None:
    """Put back the version that was live before the latest promotion."""
    from moderation.services import learning

    versions = registry()

    def act() -> str:
        with _database().session() as session:
            site = _site(session, site_name)
            current, previous = learning.rollback(session, site, actor="cli")
            restored = previous or f"{versions.installed_default_version()} (installed default)"
            return f"{site.name}: rolled back from {current} to {restored}"

    click.echo(_run(act))


@model.command("shadow")
@click.option("--site", "site_name", required=True, help="site name")
@click.option("--off", is_flag=True, help="stop shadow scoring")
@click.argument("version", required=False)
def model_shadow(site_name: str, version: str | None, off: bool) -> None:
    """Score live traffic with VERSION beside the live model, deciding nothing (or --off)."""
    from moderation.services import learning

    if off == (version is not None):
        raise click.UsageError("give a VERSION or --off")
    versions = registry()

    def act() -> str:
        with _database().session() as session:
            site = _site(session, site_name)
            learning.set_shadow(session, site, None if off else version, actor="cli", versions=versions)
            return f"{site.name}: shadow {'off' if off else version}"

    click.echo(_run(act))


@model.command("settings")
@click.option("--site", "site_name", required=True, help="site name")
@click.argument("pairs", nargs=-1)
def model_settings(site_name: str, pairs: tuple[str, ...]) -> None:
    """Show or change the site's learning settings: KEY=VALUE (schedule=weekly min_labels=100 ...)."""
    from moderation.services import learning

    changes: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise click.UsageError(f"expected KEY=VALUE, got {pair!r}")
        try:
            changes[key] = json.loads(raw)
        except ValueError:
            changes[key] = raw

    def act() -> dict[str, Any]:
        with _database().session() as session:
            site = _site(session, site_name)
            if changes:
                return learning.update_learning_settings(session, site.id, changes, actor="cli").to_dict()
            return learning.learning_settings(session, site.id).to_dict()

    click.echo(json.dumps(_run(act), indent=2))
