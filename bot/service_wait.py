"""`coo serve` and `coo worker` started while PostgreSQL or Redis is down (a reboot, a restart,
containers starting in any order) wait for them, saying so in one line, instead of dying with
a traceback; they give up with one line after COO_START_WAIT seconds."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TextIO, TypeVar

from bot.settings import Settings
from store.db import redact_url
from store.errors import StoreUnavailable
from store.outage import is_outage

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_EVERY = 2.0


def _database_problem(url: str) -> str | None:
    if not url.startswith(("postgresql:", "postgres:")):
        return None  # SQLite is a file: there is nothing to wait for
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def _redis_problem(url: str | None) -> str | None:
    if not url:
        return None
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.ping()
    except RedisError as exc:
        return str(exc) or type(exc).__name__
    finally:
        client.close()
    return None


def _problems(settings: Settings) -> list[str]:
    problems = []
    database = _database_problem(settings.database)
    if database:
        problems.append(f"PostgreSQL at {redact_url(settings.database)} ({database})")
    queue = _redis_problem(settings.redis_url)
    if queue:
        problems.append(f"Redis at {redact_url(settings.redis_url or '')} ({queue})")
    return problems


def wait_for_services(settings: Settings, what: str, out: TextIO | None = None) -> None:
    """Return once PostgreSQL and Redis (those configured) answer; raise StoreUnavailable after
    ``settings.start_wait`` seconds. One line when it starts waiting, one when they are up."""
    out = out or sys.stderr
    deadline = time.monotonic() + settings.start_wait
    said: list[str] | None = None
    while True:
        problems = _problems(settings)
        if not problems:
            if said is not None:
                print(
                    f"coo {what}: {', '.join(p.split(' (')[0] for p in said)} answered; starting", file=out, flush=True
                )
            return
        if time.monotonic() >= deadline:
            raise StoreUnavailable(f"gave up waiting for {' and '.join(problems)} after {settings.start_wait:g} s")
        if said is None:
            print(
                f"coo {what}: waiting for {' and '.join(problems)}; retrying every {RETRY_EVERY:g} s "
                f"for up to {settings.start_wait:g} s (COO_START_WAIT)",
                file=out,
                flush=True,
            )
            said = problems
        time.sleep(RETRY_EVERY)


def reachable_or_raise(settings: Settings) -> None:
    """One quick connection before a command opens its pool: a database that is down is said at
    once ("cannot reach PostgreSQL at …") instead of after the pool's 10 s wait for a connection."""
    problem = _database_problem(settings.database)
    if problem:
        raise StoreUnavailable(f"cannot reach PostgreSQL at {redact_url(settings.database)}: {problem}")


def start_when_ready(settings: Settings, what: str, build: Callable[[], T], out: TextIO | None = None) -> T:
    """Wait for the services, then ``build`` (the runtime: it opens pools and migrates); a
    service that drops again while it builds is waited for once more."""
    deadline = time.monotonic() + settings.start_wait
    while True:
        wait_for_services(settings, what, out)
        try:
            return build()
        except Exception as exc:  # noqa: BLE001 - only "unreachable" is retried, the rest raises
            if not is_outage(exc) or time.monotonic() >= deadline:
                raise
            log.warning("%s: a service dropped while starting (%s); waiting again", what, type(exc).__name__)
            time.sleep(RETRY_EVERY)
