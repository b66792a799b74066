"""The drain protocol on a real Redis: enough drain jobs, never a stranded id, self-healing claims."""

from __future__ import annotations

import redis
from rq import Queue

from moderation.queueing import DRAINERS_KEY, PENDING_KEY, ScoringQueue


def make_queue(connection: redis.Redis, **kwargs) -> ScoringQueue:
    return ScoringQueue(connection, queue_name="moderation-test", **kwargs)


def jobs(connection: redis.Redis) -> int:
    return Queue("moderation-test", connection=connection).count


def test_one_comment_enqueues_one_drainer(redis_conn):
    queue = make_queue(redis_conn, batch_size=10, max_drainers=4)
    queue.push(["c1"])
    assert jobs(redis_conn) == 1
    queue.push(["c2"])
    assert jobs(redis_conn) == 1, "a second comment joins the backlog of the running drainer"
    assert redis_conn.lrange(PENDING_KEY, 0, -1) == [b"c1", b"c2"]


def test_a_backlog_gets_more_drainers_up_to_the_cap(redis_conn):
    queue = make_queue(redis_conn, batch_size=10, max_drainers=3)
    for start in range(0, 100, 5):
        queue.push([f"c{i}" for i in range(start, start + 5)])
    assert jobs(redis_conn) == 3
    assert int(redis_conn.get(DRAINERS_KEY)) == 3


def test_a_large_push_goes_in_chunks_and_keeps_every_id_in_order(redis_conn):
    queue = make_queue(redis_conn, batch_size=100, max_drainers=8, push_chunk=300)
    ids = [f"c{i}" for i in range(1000)]
    queue.push(ids)
    assert [raw.decode() for raw in redis_conn.lrange(PENDING_KEY, 0, -1)] == ids
    assert jobs(redis_conn) == 4, "each of the four chunks claims one drainer, the backlog wanting more"


def test_pop_batch_takes_at_most_the_batch_size_in_order(redis_conn):
    queue = make_queue(redis_conn, batch_size=3)
    queue.push(["a", "b", "c", "d"])
    assert queue.pop_batch() == ["a", "b", "c"]
    assert queue.pop_batch() == ["d"]
    assert queue.pop_batch() == []


def test_release_keeps_draining_when_ids_arrived_meanwhile(redis_conn):
    queue = make_queue(redis_conn, batch_size=10)
    queue.push(["a"])
    assert queue.pop_batch() == ["a"]
    # Another comment arrives while the drainer is between its empty pop and its release.
    redis_conn.rpush(PENDING_KEY, "late")
    assert queue.release_or_continue() is True
    assert int(redis_conn.get(DRAINERS_KEY)) == 1
    assert queue.pop_batch() == ["late"]
    assert queue.release_or_continue() is False
    assert int(redis_conn.get(DRAINERS_KEY)) == 0


def test_a_push_after_release_starts_a_new_drainer(redis_conn):
    queue = make_queue(redis_conn, batch_size=10)
    queue.push(["a"])
    queue.pop_batch()
    assert queue.release_or_continue() is False
    queue.push(["b"])
    assert jobs(redis_conn) == 2


def test_ensure_drainers_restarts_after_a_lost_claim(redis_conn):
    queue = make_queue(redis_conn, batch_size=10)
    queue.push(["a"])
    assert jobs(redis_conn) == 1
    # The drainer died and its claim expired; its job is gone too.
    redis_conn.delete(DRAINERS_KEY)
    Queue("moderation-test", connection=redis_conn).empty()
    assert queue.ensure_drainers() is True
    assert jobs(redis_conn) == 1
    assert queue.ensure_drainers() is False, "one drainer is enough for one id"


def test_claims_expire_so_a_killed_drainer_cannot_block_forever(redis_conn):
    queue = make_queue(redis_conn)
    queue.push(["a"])
    assert 0 < redis_conn.ttl(DRAINERS_KEY) <= 120


def test_give_back_puts_ids_at_the_head_in_order(redis_conn):
    queue = make_queue(redis_conn, batch_size=2)
    queue.push(["a", "b", "c"])
    batch = queue.pop_batch()
    queue.give_back(batch)
    assert redis_conn.lrange(PENDING_KEY, 0, -1) == [b"a", b"b", b"c"]


def test_a_batch_in_flight_goes_back_to_the_head_of_the_list_with_the_claim_released(redis_conn):
    from moderation.queueing import DRAINING_PREFIX, INFLIGHT_PREFIX

    queue = make_queue(redis_conn, batch_size=3)
    queue.push(["a", "b", "c", "d", "e"])
    assert int(redis_conn.get(DRAINERS_KEY)) == 1
    queue.start_draining("w1")
    assert queue.pop_batch(owner="w1") == ["a", "b", "c"]
    assert redis_conn.lrange(INFLIGHT_PREFIX + "w1", 0, -1) == [b"a", b"b", b"c"]
    assert queue.inflight_owners() == ["w1"]
    assert queue.queued_ids() == {"a", "b", "c", "d", "e"}
    # w1 dies here: its batch goes back first, in order, and its claim is released.
    assert queue.recover("w1") == 3
    assert redis_conn.lrange(PENDING_KEY, 0, -1) == [b"a", b"b", b"c", b"d", b"e"]
    assert int(redis_conn.get(DRAINERS_KEY)) == 0
    assert not redis_conn.exists(INFLIGHT_PREFIX + "w1") and not redis_conn.exists(DRAINING_PREFIX + "w1")
    assert queue.recover("w1") == 0, "recovering twice moves nothing"


def test_a_saved_batch_leaves_nothing_in_flight_and_a_refused_one_goes_back(redis_conn):
    from moderation.queueing import INFLIGHT_PREFIX

    queue = make_queue(redis_conn, batch_size=2)
    queue.push(["a", "b", "c"])
    assert queue.pop_batch(owner="w2") == ["a", "b"]
    queue.batch_done("w2")
    assert not redis_conn.exists(INFLIGHT_PREFIX + "w2")
    assert queue.pop_batch(owner="w2") == ["c"]
    queue.give_back(["c"], "w2")
    assert not redis_conn.exists(INFLIGHT_PREFIX + "w2")
    assert redis_conn.lrange(PENDING_KEY, 0, -1) == [b"c"]
