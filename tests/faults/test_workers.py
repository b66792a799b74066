"""Worker faults against real processes: killed mid-batch, broken model artifacts, poison comments."""

from __future__ import annotations

import json
import logging
import shutil
import signal
import subprocess
import sys
import time

from sqlalchemy import select

from moderation.settings import DEFAULT_MODEL_DIR
from moderation.storage.models import Comment
from tests.faults.conftest import counts, queue_for, real_texts, store_comments, wait_until, worker_env

N = 3000


def test_a_worker_killed_mid_batch_loses_nothing_and_scores_each_comment_once(
    db, fault_settings, spawn_worker
):
    ids = store_comments(db, "killed", real_texts(N))
    queue = queue_for(fault_settings)
    for start in range(0, N, 500):
        queue.push(ids[start : start + 500])
    first = spawn_worker(fault_settings)
    wait_until(lambda: counts(db).get("pending", N) < N, 60, "the first worker to decide a batch", 0.01)
    first.send_signal(signal.SIGKILL)
    first.wait()
    before = counts(db)
    assert 0 < before.get("pending", 0) < N, f"the kill did not land mid-run: {before}"
    with db.session() as session:
        decided_before = dict(
            session.execute(select(Comment.id, Comment.decided_at).where(Comment.status != "pending")).all()
        )

    spawn_worker(fault_settings)
    wait_until(lambda: "pending" not in counts(db), 120, "every comment to be decided after the restart")
    after = counts(db)
    assert sum(after.values()) == N
    with db.session() as session:
        rows = dict(session.execute(select(Comment.id, Comment.decided_at)).all())
        assert all(rows[comment_id] == at for comment_id, at in decided_before.items()), (
            "a comment decided before the kill was scored again"
        )
        assert all(at is not None for at in rows.values())


def _broken_models(tmp_path, how: str):
    models = tmp_path / "models"
    shutil.copytree(DEFAULT_MODEL_DIR, models)
    version = (models / "CURRENT").read_text().strip()
    manifest = json.loads((models / version / "manifest.json").read_text())
    victim = models / version / manifest["files"][-1]["name"]
    if how == "missing":
        victim.unlink()
    elif how == "truncated":
        victim.write_bytes(victim.read_bytes()[:1000])
    else:
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
    return models, victim.name


def test_a_worker_refuses_to_start_on_a_broken_artifact(tmp_path, fault_settings):
    for how in ("missing", "truncated", "altered"):
        models, name = _broken_models(tmp_path / how, how)
        result = subprocess.run(
            [sys.executable, "-m", "moderation", "worker", "--burst"],
            env=worker_env(fault_settings, MODERATION_MODEL_DIR=str(models)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0, how
        assert "worker refused to start" in result.stderr and name in result.stderr, result.stderr


def test_moderation_up_refuses_a_broken_artifact(tmp_path, fault_settings):
    models, name = _broken_models(tmp_path, "altered")
    env = worker_env(
        fault_settings, MODERATION_MODEL_DIR=str(models), MODERATION_INSTANCE_DIR=str(tmp_path / "i")
    )
    result = subprocess.run(
        [sys.executable, "-m", "moderation", "up", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert name in result.stderr and "sha256" in result.stderr, result.stderr


def test_a_poison_comment_is_logged_with_its_job_id(db, fault_settings, worker_context, run_workers, caplog):
    from tests.test_pipeline import PoisonAnalyzer

    ids = store_comments(db, "poison", ["Một bình luận bình thường.", "POISON", "Thêm một bình luận nữa."])
    worker_context.queue.push(ids)
    worker_context.analyzer = PoisonAnalyzer(worker_context.analyzer)
    with caplog.at_level(logging.ERROR, logger="workers.jobs"):
        run_workers()
    lines = [r.getMessage() for r in caplog.records if r.name == "workers.jobs"]
    assert any(ids[1] in line and "job " in line and "scoring_error" in line for line in lines), lines
    statuses = counts(db)
    assert statuses.get("review") == 1 and statuses.get("published") == 2
    time.sleep(0)
