"""The door's moving windows on a real Redis: counted together, a refusal counted in none."""

from __future__ import annotations

from limits import parse

from moderation.limits import WindowSet


def test_a_post_is_refused_once_any_window_is_full_with_the_seconds_to_wait(redis_conn):
    windows = WindowSet(redis_conn, "test-limits")
    reader = [("reader:1:203.0.113.7", parse("3/minute")), ("reader:1:203.0.113.7", parse("10/hour"))]
    assert [windows.acquire(reader) for _ in range(3)] == [0, 0, 0]
    wait = windows.acquire(reader)
    assert 1 <= wait <= 60
    other = [("reader:1:203.0.113.8", parse("3/minute"))]
    assert windows.acquire(other) == 0, "another reader has a window of their own"


def test_a_refused_post_is_counted_in_no_window(redis_conn):
    windows = WindowSet(redis_conn, "test-limits")
    reader = ("reader:1:203.0.113.7", parse("100/minute"))
    author = ("author:1:lan", parse("2/minute"))
    assert windows.acquire([reader, author]) == 0
    assert windows.acquire([reader, author]) == 0
    for _ in range(5):
        assert windows.acquire([reader, author]) > 0, "the author's window is full"
    keys = sorted(k.decode() for k in redis_conn.keys("test-limits:*"))
    lengths = {key.split(":")[1]: redis_conn.llen(key) for key in keys}
    assert lengths == {"reader": 2, "author": 2}, "the five refused posts were not counted"
    assert all(0 < redis_conn.ttl(key) <= 60 for key in keys), "windows expire with their period"


def test_without_redis_the_same_limits_hold_in_memory(settings, db):
    """A service run without Redis (tests, scripts) counts posting limits in the limiter's memory."""
    from moderation import services
    from moderation.app import create_app
    from moderation.limits import limiter

    app = create_app(settings=settings.with_overrides(redis_url=None))
    assert app.extensions["moderation"].post_limits is None
    limiter.reset()
    with db.session() as session:
        _, api_key = services.create_site(session, "no-redis")
    client = app.test_client()
    codes = [
        client.post(
            "/api/v1/comments",
            json={"article_id": "a", "author": {"name": f"Bạn {i}"}, "content": f"Ý kiến số {i} về bài viết"},
            headers={"Authorization": f"Bearer {api_key}"},
            environ_base={"REMOTE_ADDR": "192.0.2.1"},
        )
        for i in range(7)
    ]
    # The site's server posts without client.ip here, so only the author limits apply: one author each.
    assert [r.status_code for r in codes] == [202] * 7
    same_author = [
        client.post(
            "/api/v1/comments",
            json={"article_id": "a", "author": {"name": "Lan"}, "content": f"Bình luận thứ {i} của tôi"},
            headers={"Authorization": f"Bearer {api_key}"},
        )
        for i in range(6)
    ]
    assert [r.status_code for r in same_author] == [202] * 5 + [429]
    assert int(same_author[-1].headers["Retry-After"]) >= 1
    app.extensions["moderation"].close()


def test_a_limit_of_zero_refuses_every_post(redis_conn):
    windows = WindowSet(redis_conn, "test-limits")
    closed = [("author:1:lan", parse("0/minute"))]
    assert [windows.acquire(closed) for _ in range(3)] == [60, 60, 60]
    assert redis_conn.keys("test-limits:*") == [], "nothing is counted for a refused post"


def test_the_wait_is_until_every_full_window_has_room(redis_conn):
    windows = WindowSet(redis_conn, "test-limits")
    both = [("reader:1:a", parse("1/minute")), ("reader:1:a", parse("1/hour"))]
    assert windows.acquire(both) == 0
    assert 60 < windows.acquire(both) <= 3600, "the hour's window, not only the minute's"
