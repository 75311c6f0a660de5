"""Shared fixtures: real SQLite and PostgreSQL databases, real Redis, a real SMTP server."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from store.clock import FixedClock

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from tests.fakes.smtp import SmtpServer

# Fixture modules, shared with every test module as plugins (test modules import only helpers from them).
pytest_plugins = ["tests.channels", "tests.secret_guard"]


def pytest_configure(config: pytest.Config) -> None:
    """COO_TEST_SHIFT_TO=ISO-moment: this process (each xdist worker too) lives at that moment,
    ticking on from it; business time must still be the tests' pinned clock."""
    shift = os.environ.get("COO_TEST_SHIFT_TO")
    if shift:
        import time_machine

        traveller = time_machine.travel(datetime.fromisoformat(shift), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


PG_URL = os.environ.get("COO_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/coo_test")
REDIS_URL = os.environ.get("COO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def _pg_admin_url(db: str) -> str:
    base, _, _ = PG_URL.rpartition("/")
    return f"{base}/{db}"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW, "UTC")


def _schema_tag() -> str:
    """Names the schema this checkout's migrations (and LangGraph's) build: a template is reused
    only by code that would build exactly it (other checkouts share the server)."""
    import hashlib

    from langgraph.checkpoint.postgres.base import BasePostgresSaver
    from langgraph.checkpoint.sqlite import SqliteSaver

    from store.migrations import MIGRATIONS

    text = repr((MIGRATIONS, BasePostgresSaver.MIGRATIONS, SqliteSaver.__module__))
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _build_schema(url: str) -> None:
    """What the first open of a new database does: coo's migrations and LangGraph's tables."""
    from store.checkpoints import open_checkpointer
    from store.db import Database
    from store.facade import Store

    Store.open(url).close()
    db = Database.from_url(url)
    try:
        with open_checkpointer(db):
            pass
    finally:
        db.close()


_sqlite_template: Path | None = None


def _sqlite_template_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, built once per test process and copied for each test: migrating
    costs ~0.4 s a test, the copy a few milliseconds."""
    global _sqlite_template
    if _sqlite_template is None:
        path = tmp_path_factory.mktemp("schema") / f"template-{_schema_tag()}.sqlite3"
        _build_schema(f"sqlite:///{path}")
        _sqlite_template = path
    return _sqlite_template


def _fresh_sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    import shutil

    path = tmp_path / "coo.sqlite3"
    if request.node.get_closest_marker("empty_database") is None:
        shutil.copyfile(_sqlite_template_file(request.getfixturevalue("tmp_path_factory")), path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLite database with the current schema (``@pytest.mark.empty_database``: no schema)."""
    return _fresh_sqlite(request, tmp_path)


_pg_template: str | None = None


def _pg_template_name(admin: object) -> str:
    """A migrated database to copy (CREATE DATABASE … TEMPLATE): built once per schema on this
    server, under an advisory lock (xdist workers start together), and renamed into place only
    when complete, so its name alone says it is ready."""
    global _pg_template
    if _pg_template is not None:
        return _pg_template
    import psycopg

    assert isinstance(admin, psycopg.Connection)
    name = f"coo_tpl_{_schema_tag()}"
    admin.execute("SELECT pg_advisory_lock(7100299)")
    try:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            building = f"{name}_{secrets.token_hex(3)}"
            admin.execute(f"CREATE DATABASE {building}")
            try:
                _build_schema(_pg_admin_url(building))
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (building,))
                admin.execute(f"ALTER DATABASE {building} RENAME TO {name}")
            except BaseException:
                admin.execute(f"DROP DATABASE IF EXISTS {building} WITH (FORCE)")
                raise
    finally:
        admin.execute("SELECT pg_advisory_unlock(7100299)")
    _pg_template = name
    return name


class _PgDropper:
    """Drops the tests' PostgreSQL databases on a thread of its own. A DROP waits for the
    database's backends to end, polling every 100 ms, and the test's own teardown would have
    waited with it (0.2 to 1 s a test, most of a PostgreSQL case's cost); the databases are
    queued once the test's fixtures have closed their connections (pytest_runtest_teardown), and
    the queue is drained when the worker's session ends."""

    def __init__(self) -> None:
        import queue
        import threading

        self._names: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._threading = threading

    def drop(self, name: str) -> None:
        if self._thread is None:
            self._thread = self._threading.Thread(target=self._run, name="coo-test-pg-dropper", daemon=True)
            self._thread.start()
        self._names.put(name)

    def drain(self) -> None:
        if self._thread is not None:
            self._names.put(None)
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        import psycopg

        while (name := self._names.get()) is not None:
            try:
                with psycopg.connect(_pg_admin_url("postgres"), autocommit=True) as admin:
                    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            except psycopg.Error as exc:  # a leftover test database, not a test's failure
                print(f"coo tests: could not drop the test database {name}: {exc}")


_pg_dropper = _PgDropper()
_pg_databases = pytest.StashKey[list[str]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)  # every fixture of the test is finalised here: its connections are closed
    finally:
        for name in item.stash.get(_pg_databases, []):
            _pg_dropper.drop(name)


def pytest_sessionfinish() -> None:
    _pg_dropper.drain()


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """A PostgreSQL database of this test's own, copied from a migrated template
    (``@pytest.mark.empty_database``: from template1, no schema; pgvector is there in both).
    It is dropped after the test's teardown, in the background (_PgDropper)."""
    import psycopg

    name = f"coo_t_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(_pg_admin_url("postgres"), autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL}: run the tests through scripts/test ({exc})")
    with admin:
        if request.node.get_closest_marker("empty_database") is None:
            admin.execute(f"CREATE DATABASE {name} TEMPLATE {_pg_template_name(admin)}")
        else:
            admin.execute(f"CREATE DATABASE {name}")
    request.node.stash.setdefault(_pg_databases, []).append(name)
    return _pg_admin_url(name)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of its own (1–14), leased through a key in db 0 so that test runs in
    parallel (several developers on one machine) never share queues."""
    from redis import Redis

    base, _, _ = REDIS_URL.rpartition("/")
    try:
        leases = Redis.from_url(f"{base}/0")
        leases.ping()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: run the tests through scripts/test ({exc})")
    token = secrets.token_hex(8)
    deadline = time.monotonic() + 60
    number = None
    while number is None:
        for candidate in range(1, 15):
            if leases.set(f"coo-test-lease:{candidate}", token, nx=True, ex=600):
                number = candidate
                break
        else:
            if time.monotonic() > deadline:
                pytest.fail("no free Redis database for this test (1–14 all leased)")
            time.sleep(0.1)
    url = f"{base}/{number}"
    client = Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()
        if leases.get(f"coo-test-lease:{number}") == token.encode():
            leases.delete(f"coo-test-lease:{number}")
        leases.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs on SQLite and on PostgreSQL (``phrasings``: a test of many
    wordings runs one of them on PostgreSQL)."""
    if request.param == "sqlite":
        return _fresh_sqlite(request, tmp_path)
    return request.getfixturevalue("pg_url")


def phrasings(argnames: str | Sequence[str], argvalues: Sequence[object]) -> pytest.MarkDecorator:
    """``@pytest.mark.parametrize`` for a chat test whose cases are wordings of one request
    (``@phrasings("said", RENAMES)``): every wording on SQLite, the first on PostgreSQL too.
    A wording is read by the same parser on either database, and what the request then does
    is the same for every wording; so one PostgreSQL case proves the database side, and each
    further one would cost a database without proving more. Use it only where the cases
    differ in wording alone (or are refusals that store nothing), never in what is stored."""
    names = [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) else list(argnames)
    rows = [tuple(value) if len(names) > 1 else (value,) for value in argvalues]  # type: ignore[call-overload]
    cases = [("sqlite", *row) for row in rows] + [("postgres", *rows[0])]
    return pytest.mark.parametrize(["db_url", *names], cases, indirect=["db_url"])


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    from tests.fakes.smtp import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def coo_env(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """A clean COO_* environment pointing at a private data dir. The cache (the semantic
    router's example vectors) is shared by the tests of one worker: it is rebuilt, never read."""
    for key in list(os.environ):
        if key.startswith("COO_") and not key.startswith("COO_TEST_"):
            monkeypatch.delenv(key, raising=False)
    env = {
        "COO_DATA_DIR": str(tmp_path / "data"),
        "COO_TIMEZONE": "UTC",
        "COO_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "coo-cache"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


class ChatDriver:
    """Drives the console adapter in process, as a user typing lines, and collects what coo says."""

    def __init__(self, runtime: Runtime) -> None:
        import io

        from bot.console import ConsoleChat

        self.runtime = runtime
        self.out = io.StringIO()
        self.console = ConsoleChat(runtime, self.out, settle_timeout=30)

    def say(self, text: str) -> str:
        start = len(self.out.getvalue())
        self.console.send(text)
        return self.out.getvalue()[start:]


@pytest.fixture
def make_runtime(coo_env: dict[str, str], clock: FixedClock) -> Iterator:
    """Build runtimes (in-process queue unless COO_REDIS_URL is given) and close them after the test."""
    from bot.runtime import Runtime, use_runtime
    from bot.settings import load_settings

    made: list[Runtime] = []

    def make(**settings: str) -> Runtime:
        loaded = load_settings(**settings)
        clock.tz = ZoneInfo(loaded.timezone)  # the fixed clock lives where the operator does
        runtime = Runtime(loaded, clock=clock)
        use_runtime(runtime)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.queue.wait_idle()
        runtime.close()
    use_runtime(None)


@pytest.fixture
def rq_runtime(make_runtime, pg_url: str, redis_url: str, smtp) -> Runtime:
    """A runtime in production shape (PostgreSQL, RQ on Redis) sending through real SMTP; the
    test runs its jobs with a burst worker."""
    return make_runtime(
        database_url=pg_url, redis_url=redis_url, smtp_url=smtp.url, from_email="Ana Ruiz <ana@studio.example>"
    )


@pytest.fixture
def chat(make_runtime, db_url: str, smtp) -> ChatDriver:
    """A console chat on the embedded queue, against each database, sending through real SMTP."""
    runtime = make_runtime(database_url=db_url, smtp_url=smtp.url, from_email="Ana Ruiz <ana@studio.example>")
    return ChatDriver(runtime)


class CliResult:
    """What one `coo` command left: its exit code and what it printed."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def coo(
    coo_env: dict[str, str], clock: FixedClock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[..., CliResult]]:
    """Run `coo ARGS` in this process (``bot.cli.main``) on the test's clock, with extra
    environment variables and standard input; returns a CliResult."""
    import io
    import sys

    import bot.runtime
    from bot.cli import main
    from bot.runtime import use_runtime

    def run(args: list[str], env: dict[str, str] | None = None, stdin: str = "") -> CliResult:
        # A real `coo` is a process of its own: the runtime a command makes (and closes) must not
        # replace the one the test's chat or server uses.
        before = bot.runtime._current
        with monkeypatch.context() as scoped:
            for key, value in (env or {}).items():
                scoped.setenv(key, value)
            scoped.setattr(sys, "stdin", io.StringIO(stdin))
            capsys.readouterr()
            try:
                code = main(args, clock=clock)
            finally:
                if before is not None:
                    use_runtime(before)
            out, err = capsys.readouterr()
        return CliResult(code, out, err)

    yield run
    use_runtime(None)


# Public corpora too large for the repository live next to the checkout (../shared/corpora).
CORPORA = REPO.parent / "shared" / "corpora"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_corpus(relative: str) -> Path:
    """The path of a file or directory under ../shared/corpora. Missing, the test is skipped
    locally, and fails in CI (CI=true), where a missing corpus must not pass as a skip."""
    path = CORPORA / relative
    if path.exists():
        return path
    message = f"corpus missing: {path} (put the shared corpora at {CORPORA})"
    if in_ci():
        pytest.fail(f"{message}; CI=true, so this fails instead of skipping", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def corpus() -> Callable[[str], Path]:
    """``corpus("clinc150/dev.jsonl")``: the path, or skip (locally) / fail (CI=true) when it is missing."""
    return require_corpus


# A test needs a service when it uses one of these fixtures (directly or through another
# fixture), or runs db_url's PostgreSQL case.
SERVICE_FIXTURES = frozenset({"pg_url", "redis_url"})
# End to end over HTTP (coo serve's app under uvicorn, fake Slack/Telegram APIs): about a second each.
SLOW_FIXTURES = frozenset({"serve"})


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``services`` every test that needs PostgreSQL or Redis, so that ``-m "not services"``
    runs the rest with neither server; and ``slow`` the served end-to-end ones (others carry
    the marker in their module)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        if fixtures & SERVICE_FIXTURES or params.get("db_url") == "postgres":
            item.add_marker(pytest.mark.services)
        if fixtures & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
