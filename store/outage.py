"""Telling "a service is down or restarting" apart from a bug.

An error that only means PostgreSQL or Redis could not be reached right now (a restart, a
failover, a connection the server closed) is worth waiting out: the work is kept and tried
again. Anything else is a failure to report.
"""

from __future__ import annotations

from store.errors import StoreUnavailable


def _one(exc: BaseException) -> bool:
    if isinstance(exc, StoreUnavailable):
        return True
    try:
        import psycopg
        import psycopg_pool
    except ImportError:  # SQLite-only install
        pass
    else:
        if isinstance(exc, psycopg.OperationalError | psycopg_pool.PoolTimeout):
            return True
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeout
    except ImportError:  # pragma: no cover - redis is a dependency
        return False
    return isinstance(exc, RedisConnectionError | RedisTimeout)


def is_outage(exc: BaseException) -> bool:
    """The error, or one it was raised from, means a service is unreachable for now."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if _one(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
