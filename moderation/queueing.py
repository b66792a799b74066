"""Handing comments to the workers: a Redis list of ids drained by batch RQ jobs.

One RQ job per comment caps throughput at what RQ dispatches (a few hundred jobs/s), so comment
ids go on a list and a few *drain* jobs each pop batches of them. A small claim counter keeps
between one and ``max_drainers`` drain jobs alive while the list is non-empty:

- ``push``: RPUSH the ids and, in the same script, claim a drainer slot if the backlog needs
  one more;
  the caller then enqueues a drain job (by dotted path: the web layer never imports workers).
- a drain job pops batches; when the list is empty it releases its claim and re-checks the list
  in the same script, so an id pushed meanwhile is never stranded.
- the counter expires unless drainers keep refreshing it, so a killed worker's claim heals itself,
  and the periodic sweep re-pushes any comment that stayed pending too long.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import redis
from redis.exceptions import RedisError
from rq import Queue

from moderation.errors import QueueUnavailable

PENDING_KEY = "moderation:pending"
DRAINERS_KEY = "moderation:drainers"
SWEEP_LOCK_KEY = "moderation:sweep-lock"
DRAIN_JOB = "workers.jobs.drain_pending"
DRAINERS_TTL_SECONDS = 120

_CLAIM_IF_NEEDED = (
    """
local length = redis.call('LLEN', KEYS[1])
local drainers = tonumber(redis.call('GET', KEYS[2]) or '0')
local wanted = math.min(tonumber(ARGV[1]), math.ceil(length / tonumber(ARGV[2])))
if drainers < wanted then
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], $TTL)
  return 1
end
return 0
"""
).replace("$TTL", str(DRAINERS_TTL_SECONDS))

#: ``push``: the same claim, after pushing ARGV[3:] on the list; one command per post.
_PUSH_AND_CLAIM = (
    """
redis.call('RPUSH', KEYS[1], unpack(ARGV, 3))
"""
    + _CLAIM_IF_NEEDED
)

_RELEASE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 0
"""

_RELEASE_OR_CONTINUE = (
    """
local drainers = tonumber(redis.call('GET', KEYS[2]) or '0')
if redis.call('LLEN', KEYS[1]) > 0 then
  redis.call('EXPIRE', KEYS[2], $TTL)
  return 1
end
if drainers > 0 then redis.call('DECR', KEYS[2]) end
return 0
"""
).replace("$TTL", str(DRAINERS_TTL_SECONDS))


def connect(url: str) -> redis.Redis:
    """A Redis client that fails fast instead of hanging a request when Redis is down."""
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)


@dataclass
class ScoringQueue:
    connection: redis.Redis
    queue_name: str = "moderation"
    batch_size: int = 256
    max_drainers: int = 8
    job_timeout: int = 600
    #: Ids per ``push`` script call (Lua's ``unpack`` has a stack limit near 8,000).
    push_chunk: int = 1000

    def __post_init__(self) -> None:
        # Sent once and then called by hash (EVALSHA): the web pushes on every post.
        self._push_and_claim = self.connection.register_script(_PUSH_AND_CLAIM)

    @property
    def rq_queue(self) -> Queue:
        return Queue(self.queue_name, connection=self.connection)

    def push(self, comment_ids: Sequence[str]) -> None:
        """Queue comments for scoring; raises ``QueueUnavailable`` if Redis cannot take them.

        Chunks already pushed stay queued if a later one fails; the sweep may queue those ids again,
        which is harmless: a decision is saved only for a comment still pending.
        """
        if not comment_ids:
            return
        try:
            for start in range(0, len(comment_ids), self.push_chunk):
                chunk = list(comment_ids[start : start + self.push_chunk])
                claim = self._push_and_claim(
                    keys=[PENDING_KEY, DRAINERS_KEY], args=[self.max_drainers, self.batch_size, *chunk]
                )
                if claim:
                    self._enqueue_claimed_drainer()
        except RedisError as exc:
            raise QueueUnavailable(f"Redis unavailable: {exc}") from exc

    def ensure_drainers(self) -> bool:
        """Start a drainer if ids wait with none (or too few) working on them, e.g. after a crash."""
        try:
            claim = self.connection.eval(
                _CLAIM_IF_NEEDED, 2, PENDING_KEY, DRAINERS_KEY, self.max_drainers, self.batch_size
            )
            if claim:
                self._enqueue_claimed_drainer()
            return bool(claim)
        except RedisError as exc:
            raise QueueUnavailable(f"Redis unavailable: {exc}") from exc

    def _enqueue_claimed_drainer(self) -> None:
        try:
            self.enqueue_drainer()
        except RedisError:
            with contextlib.suppress(RedisError):  # else the claim expires on its own
                self.release()
            raise

    def release(self) -> None:
        """Give up a drainer claim unconditionally (the drainer is stopping on an error)."""
        self.connection.eval(_RELEASE, 1, DRAINERS_KEY)

    def enqueue_drainer(self) -> None:
        self.rq_queue.enqueue(
            DRAIN_JOB,
            job_timeout=self.job_timeout,
            result_ttl=60,
            failure_ttl=7 * 24 * 3600,
            description="score pending comments",
        )

    def pop_batch(self, linger: float = 0.0) -> list[str]:
        """Up to ``batch_size`` ids; if fewer were waiting, wait ``linger`` seconds once for more.

        Under load comments arrive one by one: scoring them as they come would pay a batch's fixed
        cost (two transactions, the policy, the model's set-up) per comment. A short linger lets a
        batch fill; when the queue is idle it adds at most ``linger`` to a comment's wait.
        """
        ids = self._pop(self.batch_size)
        if ids and linger > 0 and len(ids) < self.batch_size:
            time.sleep(linger)
            ids += self._pop(self.batch_size - len(ids))
        return ids

    def _pop(self, count: int) -> list[str]:
        pipe = self.connection.pipeline(transaction=False)
        pipe.lpop(PENDING_KEY, count)
        pipe.expire(DRAINERS_KEY, DRAINERS_TTL_SECONDS)
        raw = pipe.execute()[0] or []
        return [item.decode() if isinstance(item, bytes) else item for item in raw]

    def give_back(self, comment_ids: Sequence[str]) -> None:
        """Return ids to the head of the list when a batch could not be saved."""
        if comment_ids:
            self.connection.lpush(PENDING_KEY, *reversed(list(comment_ids)))

    def release_or_continue(self) -> bool:
        """Called by a drainer that found the list empty: True means keep draining."""
        return bool(self.connection.eval(_RELEASE_OR_CONTINUE, 2, PENDING_KEY, DRAINERS_KEY))

    def depth(self) -> int:
        return int(self.connection.llen(PENDING_KEY))

    def acquire_sweep_lock(self, seconds: float) -> bool:
        return self.acquire_lock(SWEEP_LOCK_KEY, seconds)

    def acquire_lock(self, key: str, seconds: float) -> bool:
        """A lock that simply expires: periodic jobs run at most once per period across workers."""
        return bool(self.connection.set(key, "1", nx=True, px=max(1, int(seconds * 1000))))
