"""RQ jobs. The web layer enqueues them by dotted path (``workers.jobs.drain_pending``)."""

from __future__ import annotations

import logging
import time
from typing import Any

from rq import get_current_job

from moderation import services
from moderation.errors import QueueUnavailable, StorageUnavailable
from moderation.metrics import record_scoring
from moderation.services import privacy
from workers.context import WorkerContext, get_context

log = logging.getLogger(__name__)
STORAGE_RETRIES = (1.0, 2.0, 4.0)


def _score_batch(context: WorkerContext, ids: list[str], job_id: str) -> services.ScoringReport:
    """Score one batch, giving the ids back to the list if the database cannot take the results."""
    for attempt, delay in enumerate((*STORAGE_RETRIES, None), start=1):
        started = time.perf_counter()
        try:
            report = services.score_comments(context.db, context.analyzer, ids, models=context.registry)
        except StorageUnavailable as exc:
            if delay is None:
                context.queue.give_back(ids)
                raise
            log.warning(
                "job %s: database unavailable (attempt %d): %s; retrying in %.0fs",
                job_id,
                attempt,
                exc,
                delay,
            )
            time.sleep(delay)
            continue
        record_scoring(context.redis, time.perf_counter() - started, len(ids))
        for comment_id in report.errors:
            log.error(
                "job %s: scoring failed for comment %s; held for review as scoring_error", job_id, comment_id
            )
        return report
    raise AssertionError("unreachable")


def drain_pending() -> dict[str, Any]:
    """Pop batches of comment ids until the list is empty, scoring and deciding each batch."""
    context = get_context()
    job = get_current_job()
    job_id = job.id if job else "-"
    totals: dict[str, Any] = {"batches": 0, "comments": 0, "scored": 0, "by_status": {}}
    while True:
        ids = context.queue.pop_batch(linger=context.settings.batch_linger_seconds)
        if not ids:
            if context.queue.release_or_continue():
                continue
            break
        try:
            report = _score_batch(context, ids, job_id)
        except StorageUnavailable:
            # The ids are back on the list; release our claim so the sweeper restarts draining later.
            context.queue.release()
            log.error("job %s: database still unavailable; %d comments left on the queue", job_id, len(ids))
            raise
        totals["batches"] += 1
        totals["comments"] += len(ids)
        totals["scored"] += report.scored
        for status, count in report.by_status.items():
            totals["by_status"][status] = totals["by_status"].get(status, 0) + count
    log.info("job %s: %s", job_id, totals)
    return totals


def erase_old_personal_data(context: WorkerContext | None = None) -> dict[str, int]:
    """The retention job: erase readers' addresses and user agents past the retention period."""
    context = context or get_context()
    try:
        report = privacy.erase_old_personal_data(context.db, context.settings.retention_days)
    except StorageUnavailable as exc:
        log.warning("retention skipped: %s", exc)
        return {"comments": 0, "reports": 0}
    if report.comments or report.reports:
        log.info("retention: erased addresses of %d comments and %d reports", report.comments, report.reports)
    return {"comments": report.comments, "reports": report.reports}


def sweep(context: WorkerContext | None = None) -> dict[str, int]:
    """Re-enqueue comments that were never enqueued or whose job never finished; idempotent."""
    context = context or get_context()
    settings = context.settings
    result = {"restarted_drainers": 0, "requeued": 0}
    try:
        if context.queue.ensure_drainers():
            result["restarted_drainers"] = 1
        lost = services.find_lost_comments(
            context.db, grace_seconds=settings.sweep_grace_seconds, stale_seconds=settings.sweep_stale_seconds
        )
        if lost:
            context.queue.push(lost)
            services.mark_enqueued(context.db, lost)
            result["requeued"] = len(lost)
            log.warning("sweep: re-enqueued %d comments that were lost or never enqueued", len(lost))
    except (StorageUnavailable, QueueUnavailable) as exc:
        log.warning("sweep skipped: %s", exc)
    return result
