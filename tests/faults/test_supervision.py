"""``moderation up`` keeps its children alive: a worker, the web server or the embedded Redis killed
with SIGKILL (what the out-of-memory killer does) is restarted on its own, the others untouched,
no comment is lost or decided twice; a crash loop makes it give up, say why and exit 1.

Every test runs the real stack as ``./run`` starts it, with the periodic sweep pushed out of the
way where the point is that recovery happens at once, not at the next sweep.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select

from moderation import services
from moderation.queueing import INFLIGHT_PREFIX
from moderation.settings import DEFAULT_MODEL_DIR
from moderation.storage.db import Database
from moderation.storage.models import Comment
from moderation.supervisor import free_port
from tests.faults.conftest import counts, real_texts, wait_until

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")


class Up:
    """``moderation up`` in a temporary instance directory, its log, and its children's states."""

    def __init__(self, tmp_path: Path, database_url: str | None = None, **env: str) -> None:
        self.port = free_port()
        self.instance = tmp_path / "instance"
        self.log_path = tmp_path / "up.log"
        self.env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        self.env.update(
            {
                "MODERATION_INSTANCE_DIR": str(self.instance),
                "LOG_LEVEL": "WARNING",
                "MODERATION_DEMO": "0",
                # Recovery must not come from the periodic sweep in these tests.
                "MODERATION_SWEEP_INTERVAL": "3600",
                "MODERATION_SWEEP_STALE": "3600",
                **env,
            }
        )
        if database_url:
            self.env["DATABASE_URL"] = database_url
        self.database_url = database_url or f"sqlite:///{self.instance / 'moderation.db'}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, workers: int = 2) -> Up:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moderation", "up", "--port", str(self.port), "--workers", str(workers)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self.ready, 120, "moderation up to be ready", 0.3)
        return self

    def ready(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log()
        try:
            with urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def readyz(self) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"{self.base}/readyz", timeout=2) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read())
        except OSError:
            return None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def children(self) -> dict[str, dict[str, Any]]:
        return json.loads((self.instance / "processes.json").read_text())["children"]

    def pid(self, child: str) -> int:
        return int(self.children()[child]["pid"])

    def redis(self) -> redis.Redis:
        url = re.search(r"embedded Redis on (redis://\S+)", self.log())
        assert url, self.log()
        return redis.Redis.from_url(url.group(1))

    def site_key(self) -> str:
        database = Database(self.database_url)
        try:
            with database.session() as session:
                site, key = services.create_site(session, "supervision")
                services.update_abuse_settings(
                    session,
                    site.id,
                    {"duplicate_window_minutes": 0, "flood_window_minutes": 0, "ip_rate": "1000000/minute"},
                    actor="test",
                )
        finally:
            database.dispose()
        return key

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise
        return self.process.returncode


class Readers(threading.Thread):
    """Readers posting over HTTP, one answer recorded per post (status, or None: no answer)."""

    def __init__(self, up: Up, key: str, count: int, pause: float = 0.0, start_at: int = 0) -> None:
        super().__init__(daemon=True)
        self.up, self.key, self.pause = up, key, pause
        self.texts = real_texts(start_at + count)[start_at:]
        self.answers: list[tuple[int | None, str | None]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        for index, text in enumerate(self.texts):
            if self.stop_event.is_set():
                return
            body = {"article_id": "a1", "author": {"name": f"Bạn đọc {index}"}, "content": text}
            request = urllib.request.Request(
                f"{self.up.base}/api/v1/comments",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    self.answers.append((response.status, json.loads(response.read())["id"]))
            except urllib.error.HTTPError as error:
                self.answers.append((error.code, None))
            except OSError:
                self.answers.append((None, None))
            if self.pause:
                time.sleep(self.pause)

    def accepted(self) -> list[str]:
        return [comment_id for status, comment_id in self.answers if status == 202 and comment_id]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def decided_at(database_url: str) -> dict[str, Any]:
    database = Database(database_url)
    try:
        with database.session() as session:
            return dict(
                session.execute(
                    select(Comment.id, Comment.decided_at).where(Comment.status != "pending")
                ).all()
            )
    finally:
        database.dispose()


def all_decided(database_url: str, ids: list[str], timeout: float, cut_off_posts: bool = False) -> None:
    """Every accepted comment decided, and none left pending. With ``cut_off_posts`` a comment
    whose post had no answer may be decided a sweep later than the rest."""
    database = Database(database_url)
    try:
        wait_until(
            lambda: len(ids) > 0 and all(comment_id in decided_at(database_url) for comment_id in ids),
            timeout,
            f"all {len(ids)} accepted comments to be decided",
            0.3,
        )
        if cut_off_posts:
            wait_until(lambda: "pending" not in counts(database), 30, "the sweep to queue cut-off posts", 0.3)
        assert "pending" not in counts(database)
    finally:
        database.dispose()


def test_a_worker_killed_mid_batch_during_a_burst_is_restarted_and_its_batch_scored_at_once(
    tmp_path, db, database_url
):
    up = Up(tmp_path, database_url, MODERATION_BATCH_SIZE="40").start(workers=2)
    try:
        key = up.site_key()
        connection = up.redis()
        supervisor_pid = up.process.pid  # type: ignore[union-attr]
        # Either worker may be the one holding a batch when the burst arrives; the victim is the
        # first seen holding one (watching only worker-0 timed out when worker-1 took the batches).
        inflights = {f"worker-{i}": f"{INFLIGHT_PREFIX}worker-{supervisor_pid}-{i}" for i in (0, 1)}
        burst = [Readers(up, key, 300, start_at=i * 300) for i in range(4)]
        for readers in burst:
            readers.start()
        # Kill a worker while it holds a batch it has not saved yet.
        holding: list[str] = []

        def one_holds() -> bool:
            holding[:] = [name for name, list_key in inflights.items() if connection.llen(list_key) > 0]
            return bool(holding)

        wait_until(one_holds, 90, "a worker to hold a batch in flight", 0.005)
        victim = holding[0]
        inflight = inflights[victim]
        victim_pid = up.pid(victim)
        os.kill(victim_pid, signal.SIGKILL)
        before = decided_at(up.database_url)
        wait_until(lambda: up.children()[victim]["pid"] != victim_pid, 30, f"{victim} to be restarted")
        for readers in burst:
            readers.join(timeout=120)
        answers = [status for readers in burst for status, _ in readers.answers]
        assert answers.count(202) == len(answers) == 1200, (
            f"the web answered 202 to every post throughout: {Counter(answers)}; {up.log()[-3000:]}"
        )
        accepted = [comment_id for readers in burst for comment_id in readers.accepted()]
        # The sweep is an hour away: only the at-once recovery of the dead worker's batch gets here.
        all_decided(up.database_url, accepted, 90)
        after = decided_at(up.database_url)
        assert all(after[comment_id] == at for comment_id, at in before.items()), (
            "a comment decided before the kill was decided again"
        )
        log = up.log()
        assert victim in log and "exited with code -9 (killed by SIGKILL)" in log, log
        assert "queued again for the other workers" in log, log
        assert connection.llen(inflight) == 0
    finally:
        assert up.stop() == 0


def test_a_web_process_killed_is_replaced_and_posting_goes_on(tmp_path):
    # A post cut off by the kill may be committed with its push never made (its reader had no
    # answer): the sweep finds it on no list once its grace is over, long before the stale limit.
    up = Up(tmp_path, MODERATION_SWEEP_INTERVAL="5", MODERATION_SWEEP_GRACE="2").start(workers=1)
    try:
        key = up.site_key()
        readers = Readers(up, key, 100_000, pause=0.01)
        readers.start()
        time.sleep(1)
        master = up.pid("web")
        gunicorn_workers = children_of(master)
        assert gunicorn_workers, "gunicorn runs worker processes"
        os.kill(gunicorn_workers[0], signal.SIGKILL)  # gunicorn's master replaces its worker
        time.sleep(2)
        os.kill(master, signal.SIGKILL)  # the supervisor replaces the master
        wait_until(lambda: up.children()["web"]["pid"] != master, 30, "the web server to be restarted")
        wait_until(up.ready, 60, "the restarted web server to be ready", 0.2)
        answered = len(readers.answers)
        wait_until(lambda: len(readers.accepted()) > 0 and readers.answers[-1][0] == 202, 30, "posts again")
        time.sleep(1)
        readers.stop_event.set()
        readers.join(timeout=15)
        assert len(readers.answers) > answered
        statuses = {status for status, _ in readers.answers}
        assert statuses <= {202, None}, f"only 202, or no answer while no web server listened: {statuses}"
        assert os.path.exists(f"/proc/{master}") is False
        all_decided(up.database_url, readers.accepted(), 60, cut_off_posts=True)
        assert "web (pid" in up.log() and "exited with code -9" in up.log()
    finally:
        assert up.stop() == 0


def test_the_embedded_redis_killed_loses_no_comment_and_scoring_resumes(tmp_path):
    # The sweep stays as a backstop for a post whose queue entry fell between the kill and the
    # restart; the restart itself re-queues what Redis lost.
    up = Up(tmp_path, MODERATION_SWEEP_INTERVAL="5", MODERATION_SWEEP_GRACE="2").start(workers=1)
    try:
        key = up.site_key()
        readers = Readers(up, key, 100_000, pause=0.01)
        readers.start()
        time.sleep(1.5)
        redis_pid = up.pid("redis")
        os.kill(redis_pid, signal.SIGKILL)
        seen_restarting = None
        deadline = time.monotonic() + 5
        while seen_restarting is None and time.monotonic() < deadline:
            body = up.readyz()
            if body and not body["checks"].get("processes", {}).get("ok", True):
                seen_restarting = body
            time.sleep(0.05)
        wait_until(lambda: up.children()["redis"]["pid"] != redis_pid, 30, "Redis to be restarted")
        wait_until(up.ready, 30, "everything to be ready again", 0.2)
        time.sleep(2)
        readers.stop_event.set()
        readers.join(timeout=15)
        assert seen_restarting is not None, "/readyz reported the restarting Redis"
        assert seen_restarting["status"] == "not ready"
        assert "redis restarting" in seen_restarting["checks"]["processes"]["error"]
        statuses = {status for status, _ in readers.answers}
        assert statuses <= {202, 503}, f"posting answered 202 or a clear 503: {statuses}"
        assert readers.accepted(), readers.answers[:5]
        all_decided(up.database_url, readers.accepted(), 60)
        assert up.children()["web"]["restarts"] == 0 and up.children()["worker-0"]["pid"]
    finally:
        assert up.stop() == 0


def test_a_crash_loop_makes_it_give_up_say_why_and_exit_non_zero(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(DEFAULT_MODEL_DIR, models)
    up = Up(tmp_path, MODERATION_MODEL_DIR=str(models)).start(workers=1)
    # The artifact breaks under the running service: every restarted worker refuses to start.
    version = (models / "CURRENT").read_text().strip()
    manifest = json.loads((models / version / "manifest.json").read_text())
    victim = models / version / manifest["files"][-1]["name"]
    victim.write_bytes(victim.read_bytes()[:1000])
    os.kill(up.pid("worker-0"), signal.SIGKILL)
    assert up.process is not None
    code = up.process.wait(timeout=90)
    log = up.log()
    assert code == 1, log
    assert "worker refused to start" in log, log
    assert re.search(r"worker-0 exited with code 1 after 5 restarts within 60s: a crash loop; giving up", log)
    assert "giving up" in log.rstrip().splitlines()[-1], "the last word says why it stopped"
    assert up.children()["worker-0"]["state"] == "failed"
    time.sleep(0.5)
    marker = f"MODERATION_INSTANCE_DIR={up.instance}".encode()
    left = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes():
                    left.append(entry.name)
            except OSError:
                continue
    assert left == [], "giving up stopped every child"
