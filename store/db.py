"""One small database interface over SQLite (embedded default) and PostgreSQL (production).

SQL in this project is written once, with ``?`` placeholders and portable types; this module
translates placeholders for psycopg and adapts parameters (datetimes, JSON) per dialect.
Rows come back as plain dicts; the pydantic row models in ``store.models`` normalise types.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from store.errors import StoreError, StoreUnavailable
from store.storable import storable

try:  # pysqlite3 ships a current SQLite that can load extensions (sqlite-vec).
    import pysqlite3.dbapi2 as sqlite3
except ImportError:  # pragma: no cover - platforms without the wheel
    import sqlite3

log = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgres"]
Row = dict[str, Any]


def sqlite_path(url: str) -> Path:
    """``sqlite:///relative.db`` or ``sqlite:////abs/path.db`` → a filesystem path."""
    raw = url.removeprefix("sqlite://")
    if raw.startswith("/"):
        raw = raw[1:] if not raw.startswith("//") else raw[1:]
    return Path(raw)


class Tx:
    """A transaction: execute statements and read dict rows."""

    def __init__(self, conn: Any, dialect: Dialect) -> None:
        self._conn = conn
        self.dialect: Dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def _params(self, params: Sequence[Any]) -> list[Any] | None:
        if not params:
            # psycopg reads a literal '%' as a placeholder whenever parameters are passed.
            return None if self.dialect == "postgres" else []
        out: list[Any] = []
        for value in params:
            # No NUL or lone surrogate (the databases refuse them), no secret (store/storable.py).
            value = storable(value)
            if isinstance(value, (dict, list)):
                if self.dialect == "postgres":
                    from psycopg.types.json import Jsonb

                    value = Jsonb(value)
                else:
                    value = json.dumps(value, default=str)
            elif self.dialect == "sqlite" and isinstance(value, (datetime, date)):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            out.append(value)
        return out

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; returns the number of rows it changed."""
        cur = self._conn.execute(self._sql(sql), self._params(params))
        return cur.rowcount

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = self._conn.execute(self._sql(sql), self._params(params))
        rows = cur.fetchall()
        if self.dialect == "sqlite":
            return [dict(r) for r in rows]
        return list(rows)

    def stream(self, sql: str, params: Sequence[Any] = (), size: int = 2000) -> Iterator[Row]:
        """Rows one at a time, read ``size`` at a time (a server-side cursor on PostgreSQL), so a
        whole table never sits in memory."""
        if self.dialect == "postgres":
            with self._conn.cursor(name=f"coo_stream_{id(self)}") as cur:
                cur.itersize = size
                cur.execute(self._sql(sql), self._params(params))
                yield from cur
            return
        cur = self._conn.execute(self._sql(sql), self._params(params))
        while rows := cur.fetchmany(size):
            for row in rows:
                yield dict(row)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many rows (pipelined by psycopg): a bulk load's round trips."""
        if not rows:
            return
        prepared = [self._params(r) or [] for r in rows]
        if self.dialect == "postgres":
            with self._conn.cursor() as cur:
                cur.executemany(self._sql(sql), prepared)
            return
        self._conn.executemany(sql, prepared)

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.fetchone(sql, params)
        return None if row is None else next(iter(row.values()))


class Database:
    """Connections to the canonical store. Build with :meth:`from_url`."""

    def __init__(self, url: str, *, pool_timeout: float = 10.0, load_vec: bool = True) -> None:
        self.url = url
        self.pool_timeout = pool_timeout
        self.load_vec = load_vec  # SQLite: load sqlite-vec on each connection (semantic memory)
        scheme = urlparse(url).scheme
        if scheme in ("postgresql", "postgres"):
            self.dialect: Dialect = "postgres"
        elif scheme == "sqlite":
            self.dialect = "sqlite"
        else:
            raise ValueError(f"unsupported database URL scheme {scheme!r}")
        self._pool: Any = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._sqlite_conns: list[Any] = []

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(url)

    # -- connections -----------------------------------------------------------------------

    def _sqlite_connect(self) -> Any:
        path = sqlite_path(self.url)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a power cut can lose the
        # last commits, never corrupt the file, and a process crash loses nothing (README,
        # "Durability"); an fsync per commit was most of a small write's cost.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        # SQLite has no time zones: the figures' "local day" of a timestamp (store.aggregates).
        conn.create_function("coo_local_day", 2, local_day, deterministic=True)
        if self.load_vec:
            _load_sqlite_vec(conn)
        return conn

    def _postgres_pool(self) -> Any:
        with self._lock:
            if self._pool is None:
                from psycopg.rows import dict_row
                from psycopg_pool import ConnectionPool

                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=8,
                    kwargs={"row_factory": dict_row, "autocommit": False, "connect_timeout": 5},
                    open=True,
                    timeout=self.pool_timeout,
                    # A connection the server closed (a restart, a failover) is found dead when it
                    # is handed out and replaced, instead of failing the request that drew it.
                    check=check_pooled,
                    # Keep trying to reconnect across a long outage instead of giving up.
                    reconnect_timeout=3600,
                )
            return self._pool

    def _sqlite_thread_connection(self) -> Any:
        """This thread's connection, opened once: opening one costs more than a small write."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = self._sqlite_connect()
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"cannot open the SQLite database at {self.url}: {exc}") from exc
            self._local.conn = conn
            with self._lock:
                self._sqlite_conns.append(conn)
        return conn

    @contextmanager
    def transaction(self, *, wait: float | None = None) -> Iterator[Tx]:
        """A transaction that commits on success and rolls back on any error. ``wait``: at most
        this many seconds for a pooled PostgreSQL connection (default: the pool's timeout);
        the intake door waits briefly, since a platform waits for its answer."""
        if self.dialect == "sqlite":
            conn = self._sqlite_thread_connection()
            if conn.in_transaction:
                # One thread, one transaction: a nested one would only deadlock on the write lock.
                raise StoreError("a transaction is already open on this thread; pass its Tx down instead")
            try:
                # IMMEDIATE takes the write lock up front: two writers never deadlock on upgrade.
                conn.execute("BEGIN IMMEDIATE")
                yield Tx(conn, "sqlite")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return
        pinned = self._pinned()
        if pinned is not None:
            with pinned.transaction():
                yield Tx(pinned, "postgres")
            return
        ctx, conn = self._checkout(wait)
        try:
            with conn.transaction():
                yield Tx(conn, "postgres")
        except BaseException as exc:
            ctx.__exit__(type(exc), exc, exc.__traceback__)
            raise
        else:
            ctx.__exit__(None, None, None)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction: one consistent view for several reads. On SQLite a deferred
        transaction, which takes no write lock, so reads never queue behind a writer (WAL lets
        them read the last commit); on PostgreSQL a plain one. Inside a write
        transaction on this thread (SQLite), reads go through that one instead."""
        if self.dialect == "sqlite":
            conn = self._sqlite_thread_connection()
            if conn.in_transaction:
                yield Tx(conn, "sqlite")
                return
            try:
                conn.execute("BEGIN DEFERRED")
                yield Tx(conn, "sqlite")
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")  # nothing was written; ends the read snapshot
            return
        with self.transaction() as tx:  # MVCC: a PostgreSQL read never blocks or is blocked by writers
            yield tx

    @contextmanager
    def reads(self) -> Iterator[Tx]:
        """Several reads that need no one snapshot (each answers on its own, a fallback after
        another): on PostgreSQL each in autocommit, without BEGIN and COMMIT's two round trips;
        on SQLite a deferred read transaction (:meth:`read`)."""
        if self.dialect == "postgres":
            with self._autocommit() as tx:
                yield tx
            return
        with self.read() as tx:
            yield tx

    @contextmanager
    def _autocommit(self, wait: float | None = None) -> Iterator[Tx]:
        """PostgreSQL: a pooled connection in autocommit for one statement, which is then its own
        transaction (atomic, with its own snapshot: what BEGIN; statement; COMMIT gives, without
        the two extra round trips)."""
        pinned = self._pinned()
        if pinned is not None:  # kept in autocommit while pinned
            yield Tx(pinned, "postgres")
            return
        ctx, conn = self._checkout(wait)
        try:
            conn.autocommit = True
            try:
                yield Tx(conn, "postgres")
            finally:
                if not conn.closed:
                    conn.autocommit = False  # the pool hands out transactional connections
        except BaseException as exc:
            ctx.__exit__(type(exc), exc, exc.__traceback__)
            raise
        else:
            ctx.__exit__(None, None, None)

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Within the block, this thread's statements and transactions on PostgreSQL share one
        pooled connection, taken at the first and given back at the end (a job's few dozen
        statements pay the pool's checkout and check once, not each). A connection that broke
        is given back at once and the next statement takes another. SQLite: each thread has
        its own connection already."""
        if self.dialect != "postgres" or getattr(self._local, "pin", None) is not None:
            yield
            return
        self._local.pin = []
        try:
            yield
        finally:
            held, self._local.pin = self._local.pin, None
            for ctx, conn in held:
                self._unpin(ctx, conn)

    def _pinned(self) -> Any:
        """The connection pinned to this thread (taken now if the block has none yet), or None."""
        pin = getattr(self._local, "pin", None)
        if pin is None:
            return None
        if pin:
            ctx, conn = pin[0]
            if not (conn.closed or conn.broken):
                return conn
            pin.clear()
            self._unpin(ctx, conn)
        ctx, conn = self._checkout()
        conn.autocommit = True
        pin.append((ctx, conn))
        return conn

    @staticmethod
    def _unpin(ctx: AbstractContextManager[Any], conn: Any) -> None:
        if not conn.closed and not conn.broken:
            try:
                conn.autocommit = False  # the pool hands out transactional connections
            except Exception:  # mid-transaction after an error: the pool discards it
                log.debug("pinned connection not reset", exc_info=True)
        ctx.__exit__(None, None, None)

    def _checkout(self, wait: float | None = None) -> tuple[AbstractContextManager[Any], Any]:
        """A pooled PostgreSQL connection and the context that gives it back (its ``__exit__``);
        StoreUnavailable when none comes within ``wait`` (the pool's own timeout when None)."""
        import psycopg

        try:
            ctx = self._postgres_pool().connection(timeout=wait)
            return ctx, ctx.__enter__()
        except (psycopg.OperationalError, Exception) as exc:  # pool timeouts are not OperationalError
            if isinstance(exc, StoreUnavailable):
                raise
            raise StoreUnavailable(f"cannot reach PostgreSQL at {redact_url(self.url)}: {exc}") from exc

    def _one(self, sql: str, wait: float | None = None) -> AbstractContextManager[Tx]:
        """Where one statement runs on its own: on PostgreSQL in autocommit (one round trip); on
        SQLite a deferred read, or a write transaction that takes the write lock up front.
        ``wait``: as :meth:`transaction`'s."""
        if self.dialect == "postgres":
            return self._autocommit(wait)
        return self.read() if self._reads(sql) else self.transaction()

    def _reads(self, sql: str) -> bool:
        """Whether a one-statement call only reads (a SELECT without side effects)."""
        head = sql.lstrip()[:6].upper()
        return head == "SELECT" and "RETURNING" not in sql.upper() and "NEXTVAL" not in sql.upper()

    # One statement, committed on its own (a write's effects are all there or none are).

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in its own transaction; the number of rows it changed."""
        with self._one(sql) as tx:
            return tx.execute(sql, params)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._one(sql) as tx:
            return tx.fetchall(sql, params)

    def fetchone(self, sql: str, params: Sequence[Any] = (), *, wait: float | None = None) -> Row | None:
        with self._one(sql, wait) as tx:
            return tx.fetchone(sql, params)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._one(sql) as tx:
            return tx.scalar(sql, params)

    def close(self) -> None:
        with self._lock:
            conns, self._sqlite_conns = self._sqlite_conns, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def check_pooled(conn: Any) -> None:
    """The pools' check of a connection they hand out, without psycopg_pool's round trip
    (``check_connection`` runs an empty query: one per transaction, a third of a small read's
    cost). An idle connection's socket has nothing to read unless the server said something:
    that it is closing it (a restart, ``pg_terminate_backend``), an EOF, or a notice. Then, and
    only then, the full check runs, and raises for a dead connection so the pool replaces it."""
    import select

    from psycopg_pool import ConnectionPool

    if conn.closed:
        raise ConnectionError("the pooled connection is closed")
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        readable = [True]  # no usable socket: let the full check decide
    if readable:
        ConnectionPool.check_connection(conn)


_VEC_PATH: list[str | None] = []


def _load_sqlite_vec(conn: Any) -> None:
    """Load sqlite-vec (``sqlite_vec.load``, with its path looked up once: ~0.1 ms a connection)
    into a pysqlite3 connection; a no-op where extensions cannot load."""
    try:
        if not _VEC_PATH:
            import sqlite_vec

            _VEC_PATH.append(sqlite_vec.loadable_path())
        if _VEC_PATH[0] is None:
            return
        conn.enable_load_extension(True)
        conn.load_extension(_VEC_PATH[0])
        conn.enable_load_extension(False)
    except (ImportError, AttributeError, sqlite3.Error) as exc:  # stdlib sqlite3 without extensions
        log.debug("sqlite-vec not loaded: %s", exc)
        if not _VEC_PATH:
            _VEC_PATH.append(None)


def local_day(value: Any, tz: str) -> str | None:
    """The local calendar day (ISO) of a stored UTC timestamp in the zone ``tz``."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(ZoneInfo(tz)).date().isoformat()


def redact_url(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url
