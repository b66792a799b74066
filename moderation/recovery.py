"""What ``moderation up`` repairs in the queue when one of its children dies.

- A worker died: the batch it had in flight goes back to the head of the list and its drainer
  claim is released, and a drainer is claimed if the backlog needs one, so the surviving workers
  pick the batch up at once (instead of at the sweep, minutes later). If Redis cannot be reached
  just then, it is tried again every second.
- The embedded Redis died and was restarted: it reloads its append-only file, which may miss the
  last second of writes; drainer claims of drain jobs that died with it would hold new drainers
  back. So the claims are reset (an under-count only lets one more drainer run) and every pending
  comment on neither the list nor a batch in flight is queued again. A comment is never decided
  twice: a decision is saved only for a comment still pending.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from moderation.queueing import ScoringQueue, connect
from moderation.settings import Settings


def say(message: str) -> None:
    print(f"moderation up: {message}", file=sys.stderr, flush=True)


@dataclass
class QueueRepair:
    settings: Settings
    redis_url: str
    #: Dead workers whose batch could not be put back yet (Redis was unavailable).
    unrecovered: set[str] = field(default_factory=set)
    _queue: ScoringQueue | None = None
    _last_retry: float = 0.0

    @property
    def queue(self) -> ScoringQueue:
        if self._queue is None:
            self._queue = ScoringQueue(
                connect(self.redis_url),
                queue_name=self.settings.queue_name,
                batch_size=self.settings.batch_size,
                max_drainers=self.settings.max_drainers,
                job_timeout=self.settings.job_timeout,
            )
        return self._queue

    def worker_died(self, worker_name: str) -> None:
        try:
            moved = self.queue.recover(worker_name)
            self.queue.ensure_drainers()
        except Exception as exc:  # RedisError, QueueUnavailable
            self.unrecovered.add(worker_name)
            say(f"{worker_name}'s batch in flight will be queued again once Redis answers ({exc})")
            return
        self.unrecovered.discard(worker_name)
        if moved:
            say(f"{moved} comments {worker_name} was scoring are queued again for the other workers")

    def retry(self) -> None:
        """Called every tick: retry putting back dead workers' batches, at most once a second."""
        if not self.unrecovered or time.monotonic() - self._last_retry < 1.0:
            return
        self._last_retry = time.monotonic()
        for name in sorted(self.unrecovered):
            self.worker_died(name)

    def fresh_start(self) -> None:
        """A private Redis that no worker uses yet: claims and batches left by an earlier run are
        stale (that run was stopped or killed); put its batches back and forget its claims."""
        self.queue.reset_claims()

    def redis_restarted(self) -> None:
        from moderation import services
        from moderation.storage.db import Database

        self.queue.connection.delete("moderation:drainers")
        for key in self.queue.connection.scan_iter(match="moderation:draining:*", count=500):
            self.queue.connection.delete(key)
        database = Database(self.settings.database_url)
        try:
            queued = self.queue.queued_ids()
            lost = [
                comment_id
                for comment_id in services.find_lost_comments(database, grace_seconds=0, stale_seconds=0)
                if comment_id not in queued
            ]
            if lost:
                self.queue.push(lost)
                services.mark_enqueued(database, lost)
                say(f"{len(lost)} pending comments the restarted Redis had lost are queued again")
            self.queue.ensure_drainers()
        finally:
            database.dispose()
