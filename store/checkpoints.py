"""LangGraph checkpointers on the same database as the canonical store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from langgraph.checkpoint.base import BaseCheckpointSaver

# The same SQLite library as the store: two copies in one process would not see each other's
# file locks, and SQLite's locking would silently break.
from store.db import Database, check_pooled, sqlite3, sqlite_path

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import DictRow


@contextmanager
def open_checkpointer(db: Database) -> Iterator[BaseCheckpointSaver]:
    """A ready checkpointer (tables set up) for ``db``, closed on exit."""
    if db.dialect == "sqlite":
        from langgraph.checkpoint.sqlite import SqliteSaver

        path = sqlite_path(db.url)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        try:
            saver = SqliteSaver(conn)
            try:
                saver.setup()
            except sqlite3.OperationalError as exc:
                # setup() ends with an ALTER that fails on an up-to-date database; it only
                # expects the stdlib's exception class, not pysqlite3's. Everything else ran.
                if "duplicate column name" not in str(exc):
                    raise
                saver.is_setup = True
            yield saver
        finally:
            conn.close()
        return

    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    # setup() runs CREATE INDEX CONCURRENTLY, which needs autocommit.
    with psycopg.connect(db.url, autocommit=True, prepare_threshold=0, row_factory=dict_row) as conn:
        # Web, workers and the console may start together on a fresh database: one sets up.
        # Poll with try-lock: a session blocked in pg_advisory_lock would hold a snapshot that
        # setup()'s CREATE INDEX CONCURRENTLY waits for — a deadlock.
        while not _try_setup_lock(conn):
            time.sleep(0.05)
        try:
            if not _checkpoints_current(conn):
                PostgresSaver(conn).setup()
        finally:
            conn.execute("SELECT pg_advisory_unlock(7100222)")
    pool: ConnectionPool[psycopg.Connection[DictRow]] = ConnectionPool(
        db.url,
        min_size=1,
        max_size=4,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row, "connect_timeout": 5},
        open=True,
        # As store.db's pool: a connection a database restart closed is replaced, not used.
        check=check_pooled,
        reconnect_timeout=3600,
    )
    try:
        yield PostgresSaver(pool)
    finally:
        pool.close()


def _checkpoints_current(conn: psycopg.Connection[DictRow]) -> bool:
    """LangGraph's tables are all there: setup() would start with a CREATE TABLE that an
    application role without CREATE on the schema may not run (README: Database roles)."""
    from langgraph.checkpoint.postgres import PostgresSaver

    row = conn.execute("SELECT to_regclass('checkpoint_migrations') IS NOT NULL AS present").fetchone()
    if not row or not row["present"]:
        return False
    latest = conn.execute("SELECT MAX(v) AS v FROM checkpoint_migrations").fetchone()
    return bool(latest and latest["v"] is not None and latest["v"] >= len(PostgresSaver.MIGRATIONS) - 1)


def _try_setup_lock(conn: psycopg.Connection[DictRow]) -> bool:
    row = conn.execute("SELECT pg_try_advisory_lock(7100222) AS ok").fetchone()
    return bool(row and row["ok"])
