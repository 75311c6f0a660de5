"""Shared fixtures: real SQLite and PostgreSQL databases, real Redis, a real SMTP server."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
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


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'coo.sqlite3'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (inherits pgvector from template1)."""
    import psycopg

    name = f"coo_t_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(_pg_admin_url("postgres"), autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL}: run the tests through scripts/test ({exc})")
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield _pg_admin_url(name)
    finally:
        with psycopg.connect(_pg_admin_url("postgres"), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


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
    """Each test using this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'coo.sqlite3'}"
    return request.getfixturevalue("pg_url")


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
