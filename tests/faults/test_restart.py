"""Everything restarted during load: ``moderation up`` stopped with Ctrl-C while readers post, then
started again; every accepted comment is stored and decided, and the counts add up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from moderation import services
from moderation.storage.db import Database
from moderation.supervisor import free_port
from tests.faults.conftest import counts, real_texts, wait_until


def _up(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "moderation", "up", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                if response.status == 200:
                    return process
        except OSError:
            pass
        assert process.poll() is None, "moderation up exited while starting"
        time.sleep(0.3)
    raise AssertionError("moderation up did not become ready")


def test_restarting_everything_during_load_adds_up(tmp_path, db, database_url):
    with db.session() as session:
        site, key = services.create_site(session, "restart")
        services.update_abuse_settings(
            session,
            site.id,
            {"duplicate_window_minutes": 0, "flood_window_minutes": 0, "ip_rate": "100000/minute"},
            actor="test",
        )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        {
            "DATABASE_URL": database_url,
            "MODERATION_INSTANCE_DIR": str(tmp_path / "instance"),
            "MODERATION_SWEEP_INTERVAL": "1",
            "MODERATION_SWEEP_GRACE": "1",
            "MODERATION_SWEEP_STALE": "5",
            "LOG_LEVEL": "WARNING",
        }
    )
    accepted: list[str] = []
    refused = 0
    stop = threading.Event()

    def readers() -> None:
        nonlocal refused
        for index, text in enumerate(real_texts(100_000)):
            if stop.is_set():
                return
            body = {"article_id": "a1", "author": {"name": f"Bạn đọc {index}"}, "content": text}
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/comments",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    accepted.append(json.loads(response.read())["id"])
            except (urllib.error.URLError, OSError):
                refused += 1
            time.sleep(0.01)

    first = _up(env, port)
    sender = threading.Thread(target=readers, daemon=True)
    sender.start()
    time.sleep(2)
    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=60) == 0
    during_stop = len(accepted)
    second = _up(env, port)
    time.sleep(2)
    stop.set()
    sender.join(timeout=10)
    try:
        assert during_stop > 0 and len(accepted) > during_stop, "posting went on before and after the restart"
        check = Database(database_url)
        wait_until(lambda: "pending" not in counts(check), 90, "every stored comment to be decided")
        stored = counts(check)
        assert sum(stored.values()) >= len(accepted), "an accepted comment is missing"
        assert sum(stored.values()) <= len(accepted) + refused, "more comments stored than were sent"
        check.dispose()
    finally:
        second.send_signal(signal.SIGINT)
        second.wait(timeout=60)
