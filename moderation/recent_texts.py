"""Recent comments' fingerprints in Redis, for the door's repeat and flood checks.

Each comment is filed under its exact fingerprint and each of its SimHash bands, in sorted sets
scored by time that expire with the site's window; a new comment reads the sets it would join and
joins them in one script call (a pipeline of its 21 commands cost the web more CPU in redis-py
than the rest of the door checks). Candidates sharing a set are confirmed by SimHash distance by
the caller. Kept out of the database so a post costs no extra index writes there; if Redis is
down, the checks are skipped (the comment is still stored and scored).
"""

from __future__ import annotations

import logging
import random

import redis
from redis.exceptions import RedisError

from moderation.services.antiabuse import Probe
from moderation.text import fingerprint

log = logging.getLogger(__name__)
PREFIX = "moderation:recent"
#: Share of posts that also trim expired entries from the sets they join.
TRIM_SHARE = 1 / 16


def _encode(probe: Probe) -> str:
    return "|".join(
        (
            probe.id,
            probe.author,
            probe.client_ip or "",
            f"{probe.at:.3f}",
            probe.exact,
            str(probe.simhash),
        )
    )


def _decode(raw: bytes | str) -> Probe | None:
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
        comment_id, author, ip, at, exact, simhash = text.split("|")
        return Probe(comment_id, author, ip or None, float(at), exact, int(simhash))
    except (ValueError, UnicodeDecodeError):
        return None


#: KEYS: the sets; ARGV: since, member, at, ttl, trim ("1" to drop entries older than ``since``).
#: Returns each set's members since ``since``, read before ``member`` joins them.
_READ_AND_JOIN = """
local found = {}
for i, key in ipairs(KEYS) do
    found[i] = redis.call('ZRANGEBYSCORE', key, ARGV[1], '+inf')
end
for _, key in ipairs(KEYS) do
    if ARGV[5] == '1' then redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1]) end
    redis.call('ZADD', key, ARGV[3], ARGV[2])
    redis.call('EXPIRE', key, ARGV[4])
end
return found
"""


class RedisRecentTexts:
    def __init__(self, connection: redis.Redis) -> None:
        self.connection = connection
        self._read_and_join = connection.register_script(_READ_AND_JOIN)

    def _keys(self, site_id: int, probe: Probe) -> list[str]:
        keys = [f"{PREFIX}:{site_id}:x:{probe.exact}"]
        keys += [f"{PREFIX}:{site_id}:b{i}:{band}" for i, band in enumerate(fingerprint.bands(probe.simhash))]
        return keys

    def similar_and_remember(self, site_id: int, probe: Probe, window_seconds: float) -> list[Probe]:
        since = probe.at - window_seconds
        # Old entries are ignored when read; removing them now and then bounds memory.
        trim = "1" if random.random() < TRIM_SHARE else "0"
        try:
            replies = self._read_and_join(
                keys=self._keys(site_id, probe),
                args=[repr(since), _encode(probe), repr(probe.at), int(window_seconds) + 60, trim],
            )
        except RedisError as exc:
            log.warning("repeat and flood checks skipped: Redis unavailable (%s)", exc)
            return []
        found: dict[str, Probe] = {}
        for raw in (item for reply in replies for item in reply):
            other = _decode(raw)
            if other is not None and other.id != probe.id:
                found[other.id] = other
        return list(found.values())
