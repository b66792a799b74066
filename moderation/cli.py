"""The ``moderation`` command line (see the contract's "Command line" table)."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Any, TextIO

import click

from moderation.errors import ModerationError, TrainingUnavailable
from moderation.settings import Settings, SettingsError


def load_settings(**overrides: Any) -> Settings:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None
    return settings.with_overrides(**{k: v for k, v in overrides.items() if v is not None})


def fail(exc: ModerationError) -> click.ClickException:
    detail = "; ".join(f"{field}: {why}" for field, why in exc.fields.items())
    return click.ClickException(f"{exc.message}{' (' + detail + ')' if detail else ''}")


class LazyGroup(click.Group):
    """Training commands are imported only when called: serving never imports training code."""

    lazy = {
        "train": "moderation.training.cli:train",
        "evaluate": "moderation.training.cli:evaluate",
        "retrain": "moderation.training.cli:retrain",
        "model": "moderation.cli_models:model",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module_name, attr = self.lazy[name].split(":")
            try:
                module = __import__(module_name, fromlist=[attr])
            except ModuleNotFoundError as exc:
                # The web and worker install leaves the training libraries out (the `train` extra).
                missing = TrainingUnavailable(
                    f"`moderation {name}` needs {exc.name}. {TrainingUnavailable.__doc__}"
                )
                raise fail(missing) from None
            return getattr(module, attr)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup)
def main() -> None:
    """Comment moderation for Vietnamese news sites."""


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Web port (default: $PORT or 5000).")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default 1).")
@click.option("--host", help="Address to bind (default 127.0.0.1).")
def up(port: int | None, workers: int | None, host: str | None) -> None:
    """Migrate the database and run web, workers and (without REDIS_URL) an embedded Redis."""
    from moderation.supervisor import run_up

    settings = load_settings(port=port, workers=workers, host=host)
    try:
        sys.exit(run_up(settings))
    except ModerationError as exc:
        raise fail(exc) from None
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@click.option("--name", help="Worker name shown by RQ.")
@click.option("--training", is_flag=True, help="Work the retraining queue (scheduled retraining) only.")
def worker(burst: bool, name: str | None, training: bool) -> None:
    """Run one RQ worker (needs REDIS_URL)."""
    import logging

    from workers.worker import run_worker

    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.redis_url is None:
        raise click.ClickException("REDIS_URL must be set to run a worker (moderation up sets it for you)")
    try:
        run_worker(settings, burst=burst, name=name, training=training)
    except ModerationError as exc:
        raise click.ClickException(f"worker refused to start: {exc.message}") from None


@main.command()
@click.option("--workers", "processes", type=click.IntRange(1, 64), help="gunicorn processes.")
def web(processes: int | None) -> None:
    """Run the web server under gunicorn on $MODERATION_HOST:$PORT."""
    import os

    from moderation.supervisor import web_argv

    settings = load_settings(web_processes=processes)
    argv = web_argv(settings)
    os.execv(argv[0], argv)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to DATABASE_URL."""
    from moderation.storage.migrate import upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    click.echo("database is up to date", err=True)


@main.command()
def sweep() -> None:
    """Re-enqueue comments that were never enqueued or whose job was lost (workers do this every interval)."""
    from workers.context import WorkerContext
    from workers.jobs import sweep as run_sweep

    context = WorkerContext.build(load_settings())
    try:
        click.echo(json.dumps(run_sweep(context)))
    finally:
        context.close()


@main.command()
@click.option("--days", type=click.IntRange(0), help="Override MODERATION_RETENTION_DAYS for this run.")
def retention(days: int | None) -> None:
    """Erase readers' addresses and user agents older than the retention period (workers do it hourly)."""
    from moderation.services.privacy import erase_old_personal_data

    settings = load_settings()
    report = erase_old_personal_data(_database(), settings.retention_days if days is None else days)
    click.echo(json.dumps({"comments": report.comments, "reports": report.reports}))


def _database() -> Any:
    from moderation.storage.db import Database

    return Database(load_settings().database_url)


@main.group()
def site() -> None:
    """Sites (newspapers) that post comments."""


@site.command("create")
@click.argument("name")
@click.option("--origin", "origins", multiple=True, help="A browser origin allowed to use the widget.")
def site_create(name: str, origins: tuple[str, ...]) -> None:
    """Create a site and print its API key (shown once) and its public widget key."""
    from moderation import services

    database = _database()
    try:
        with database.session() as session:
            created, api_key = services.create_site(session, name, origins)
            site_name, widget_key, allowed = created.name, created.widget_key, list(created.origins)
    except ModerationError as exc:
        raise fail(exc) from None
    click.echo(
        json.dumps(
            {"site": site_name, "api_key": api_key, "widget_key": widget_key, "origins": allowed},
            ensure_ascii=False,
        )
    )


def _read_password(stream: TextIO) -> str:
    if stream.isatty():
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat the password: "):
            raise click.ClickException("the passwords differ")
        return password
    return stream.readline().rstrip("\r\n")


@main.group()
def moderator() -> None:
    """Moderator accounts."""


@moderator.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["moderator", "admin"]), default="moderator", show_default=True)
@click.option("--site", "sites", multiple=True, help="Limit to these sites (default: every site).")
def moderator_create(username: str, role: str, sites: tuple[str, ...]) -> None:
    """Create a moderator; the password is read from stdin."""
    from moderation import services

    password = _read_password(sys.stdin)
    database = _database()
    try:
        with database.session() as session:
            services.create_moderator(session, username, password, role, sites)
    except ModerationError as exc:
        raise fail(exc) from None
    click.echo(json.dumps({"moderator": username, "role": role, "sites": list(sites) or "all"}))


@main.command()
@click.option(
    "--input",
    "input_file",
    type=click.File("r", encoding="utf-8"),
    default="-",
    help="JSON lines (default stdin).",
)
@click.option(
    "--output", "output_file", type=click.File("w", encoding="utf-8"), default="-", help="Default stdout."
)
@click.option("--batch-size", type=click.IntRange(1, 10000), default=512, show_default=True)
def score(input_file: TextIO, output_file: TextIO, batch_size: int) -> None:
    """Score JSON lines {"id", "content"} and write one analysis per line, in order; nothing is stored."""
    from moderation.scoring import load_analyzer

    try:
        analyzer = load_analyzer(load_settings().model_dir)
    except ModerationError as exc:
        raise fail(exc) from None
    ids: list[Any] = []
    texts: list[str] = []

    def flush() -> None:
        for result in analyzer.analyze(texts, ids):
            output_file.write(json.dumps(result, ensure_ascii=False) + "\n")
        ids.clear()
        texts.clear()

    for number, line in enumerate(input_file, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise click.ClickException(f"line {number}: not JSON ({exc})") from None
        if not isinstance(item, dict) or not isinstance(item.get("content"), str):
            raise click.ClickException(f'line {number}: expected {{"id": ..., "content": "..."}}')
        ids.append(item.get("id"))
        texts.append(item["content"])
        if len(texts) >= batch_size:
            flush()
    if texts:
        flush()
    output_file.flush()
