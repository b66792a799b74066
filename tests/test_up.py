"""``moderation up`` as a user runs it: embedded Redis, SQLite under instance/, web and a worker.

A comment posted over HTTP is decided within seconds, and SIGINT (Ctrl-C) stops every process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from moderation.supervisor import free_port


def processes_with_env(marker: str) -> list[int]:
    """PIDs whose environment holds ``marker`` (Linux /proc), to find every child of the run."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def http(method: str, url: str, body: dict | None = None, key: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_up_runs_the_whole_service_and_ctrl_c_stops_it(tmp_path: Path):
    port = free_port()
    marker = f"MODERATION_INSTANCE_DIR={tmp_path / 'instance'}"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        {"MODERATION_INSTANCE_DIR": str(tmp_path / "instance"), "PORT": str(port), "LOG_LEVEL": "WARNING"}
    )
    cli = [sys.executable, "-m", "moderation"]
    up = subprocess.Popen([*cli, "up", "--workers", "1"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if http("GET", f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert up.poll() is None, up.stderr.read()
            time.sleep(0.5)
        else:
            pytest.fail("the service did not become ready in 90 s")
        assert (tmp_path / "instance" / "moderation.db").exists(), "SQLite lives under instance/"
        assert (tmp_path / "instance" / "redis").is_dir(), "the embedded Redis keeps its data under instance/"

        created = subprocess.run(
            [*cli, "site", "create", "demo"], env=env, capture_output=True, text=True, check=True
        )
        key = json.loads(created.stdout)["api_key"]
        comment = {"article_id": "1", "author": {"name": "Lan"}, "content": "Cảm ơn bài viết rất bổ ích."}
        status, body = http("POST", f"{base}/api/v1/comments", comment, key)
        assert status == 202 and body["status"] == "pending"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            status, shown = http("GET", f"{base}/api/v1/comments/{body['id']}", key=key)
            if shown["status"] != "pending":
                break
            time.sleep(0.1)
        assert shown["status"] == "published", shown
        assert len(processes_with_env(marker)) >= 3, "redis, web and worker run"
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=40)
        except subprocess.TimeoutExpired:
            up.kill()
            raise
    time.sleep(0.5)
    assert processes_with_env(marker) == [], "Ctrl-C left processes running"
    assert up.returncode == 0
