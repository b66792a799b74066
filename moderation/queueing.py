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
- a drainer moves each batch it pops onto an *in-flight* list of its own worker (in the same
  script) and drops it once the batch is saved; a worker that dies mid-batch leaves its batch
  there, and ``recover`` (called by ``moderation up`` when it sees the death, by the sweep for a
  worker RQ no longer knows) puts it back at the head of the list with the dead drainer's claim
  released, so the batch is scored again at once. A comment already decided is not decided
  again: a decision is saved only for a comment still pending.
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
#: ``moderation:inflight:<worker>``: the batch a worker's drainer is scoring now.
INFLIGHT_PREFIX = "moderation:inflight:"
#: ``moderation:draining:<worker>``: set while the worker runs a drain job (it holds a claim).
DRAINING_PREFIX = "moderation:draining:"
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
if KEYS[2] then redis.call('DEL', KEYS[2]) end
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
if KEYS[3] then redis.call('DEL', KEYS[3]) end
return 0
"""
).replace("$TTL", str(DRAINERS_TTL_SECONDS))


#: Pop up to ARGV[1] ids onto the owner's in-flight list (KEYS[3]); one round trip.
_POP_INFLIGHT = (
    """
local ids = redis.call('LPOP', KEYS[1], tonumber(ARGV[1]))
redis.call('EXPIRE', KEYS[2], $TTL)
if not ids then return {} end
redis.call('RPUSH', KEYS[3], unpack(ids))
return ids
"""
).replace("$TTL", str(DRAINERS_TTL_SECONDS))

#: A dead (or restarted) worker's batch back to the head of the list, in order; its claim released.
_RECOVER = """
local moved = 0
while redis.call('LMOVE', KEYS[2], KEYS[1], 'RIGHT', 'LEFT') do moved = moved + 1 end
if KEYS[3] and redis.call('DEL', KEYS[3]) == 1 and tonumber(redis.call('GET', KEYS[4]) or '0') > 0 then
  redis.call('DECR', KEYS[4])
end
return moved
"""

#: Give a batch back (the database refused it) and drop it from the owner's in-flight list.
_GIVE_BACK = """
redis.call('LPUSH', KEYS[1], unpack(ARGV))
redis.call('DEL', KEYS[2])
return 0
"""


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

    def release(self, owner: str | None = None) -> None:
        """Give up a drainer claim unconditionally (the drainer is stopping on an error)."""
        if owner is None:
            self.connection.eval(_RELEASE, 1, DRAINERS_KEY)
        else:
            self.connection.eval(_RELEASE, 2, DRAINERS_KEY, DRAINING_PREFIX + owner)

    def start_draining(self, owner: str) -> int:
        """A drain job starts on worker ``owner``: mark the claim it holds, and take back any batch
        an earlier job of this worker left in flight (its job failed, say when Redis went away)."""
        recovered = self.recover(owner, release_claim=False)
        self.connection.set(DRAINING_PREFIX + owner, "1", ex=DRAINERS_TTL_SECONDS * 10)
        return recovered

    def recover(self, owner: str, *, release_claim: bool = True) -> int:
        """Put worker ``owner``'s in-flight batch back at the head of the list and, if it was
        draining, release its claim; returns how many ids went back. Call it only for a worker
        that is dead (or for the worker itself, between batches)."""
        keys = [PENDING_KEY, INFLIGHT_PREFIX + owner]
        if release_claim:
            keys += [DRAINING_PREFIX + owner, DRAINERS_KEY]
        return int(self.connection.eval(_RECOVER, len(keys), *keys))

    def inflight_owners(self) -> list[str]:
        """Workers that have a batch in flight now (or left one behind)."""
        return [
            (key.decode() if isinstance(key, bytes) else key)[len(INFLIGHT_PREFIX) :]
            for key in self.connection.scan_iter(match=INFLIGHT_PREFIX + "*", count=500)
        ]

    def reset_claims(self) -> None:
        """No drainer runs (a fresh start on a private Redis): forget every claim and mark."""
        for owner in self.inflight_owners():
            self.recover(owner)
        for key in self.connection.scan_iter(match=DRAINING_PREFIX + "*", count=500):
            self.connection.delete(key)
        self.connection.delete(DRAINERS_KEY)

    def queued_ids(self) -> set[str]:
        """Every id on the list or in flight (for finding comments whose queue entry was lost)."""
        keys = [PENDING_KEY, *(INFLIGHT_PREFIX + owner for owner in self.inflight_owners())]
        pipe = self.connection.pipeline(transaction=False)
        for key in keys:
            pipe.lrange(key, 0, -1)
        return {
            item.decode() if isinstance(item, bytes) else item for items in pipe.execute() for item in items
        }

    def enqueue_drainer(self) -> None:
        self.rq_queue.enqueue(
            DRAIN_JOB,
            job_timeout=self.job_timeout,
            result_ttl=60,
            failure_ttl=7 * 24 * 3600,
            description="score pending comments",
        )

    def pop_batch(self, linger: float = 0.0, owner: str | None = None) -> list[str]:
        """Up to ``batch_size`` ids; if fewer were waiting, wait ``linger`` seconds once for more.

        Under load comments arrive one by one: scoring them as they come would pay a batch's fixed
        cost (two transactions, the policy, the model's set-up) per comment. A short linger lets a
        batch fill; when the queue is idle it adds at most ``linger`` to a comment's wait.
        With ``owner`` (the worker's name) the batch is kept in flight until ``batch_done``.
        """
        ids = self._pop(self.batch_size, owner)
        if ids and linger > 0 and len(ids) < self.batch_size:
            time.sleep(linger)
            ids += self._pop(self.batch_size - len(ids), owner)
        return ids

    def _pop(self, count: int, owner: str | None) -> list[str]:
        if owner is not None:
            raw = self.connection.eval(
                _POP_INFLIGHT, 3, PENDING_KEY, DRAINERS_KEY, INFLIGHT_PREFIX + owner, count
            )
        else:
            pipe = self.connection.pipeline(transaction=False)
            pipe.lpop(PENDING_KEY, count)
            pipe.expire(DRAINERS_KEY, DRAINERS_TTL_SECONDS)
            raw = pipe.execute()[0]
        return [item.decode() if isinstance(item, bytes) else item for item in raw or []]

    def batch_done(self, owner: str | None) -> None:
        """The batch is saved: nothing of ``owner``'s is in flight any more."""
        if owner is not None:
            self.connection.delete(INFLIGHT_PREFIX + owner)

    def give_back(self, comment_ids: Sequence[str], owner: str | None = None) -> None:
        """Return ids to the head of the list when a batch could not be saved."""
        if comment_ids:
            inflight = INFLIGHT_PREFIX + (owner or "-")
            self.connection.eval(_GIVE_BACK, 2, PENDING_KEY, inflight, *reversed(list(comment_ids)))

    def release_or_continue(self, owner: str | None = None) -> bool:
        """Called by a drainer that found the list empty: True means keep draining."""
        if owner is None:
            return bool(self.connection.eval(_RELEASE_OR_CONTINUE, 2, PENDING_KEY, DRAINERS_KEY))
        keys = (PENDING_KEY, DRAINERS_KEY, DRAINING_PREFIX + owner)
        return bool(self.connection.eval(_RELEASE_OR_CONTINUE, 3, *keys))

    def depth(self) -> int:
        return int(self.connection.llen(PENDING_KEY))

    def acquire_sweep_lock(self, seconds: float) -> bool:
        return self.acquire_lock(SWEEP_LOCK_KEY, seconds)

    def acquire_lock(self, key: str, seconds: float) -> bool:
        """A lock that simply expires: periodic jobs run at most once per period across workers."""
        return bool(self.connection.set(key, "1", nx=True, px=max(1, int(seconds * 1000))))
