"""The production shape for a benchmark: a throwaway PostgreSQL database, a flushed Redis DB,
and one real `coo worker` process, all cleaned up afterwards."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse, urlunparse

if TYPE_CHECKING:
    import psycopg

WORKER_START_TIMEOUT = 60.0


def _with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + name))


def _admin_connect(server_url: str) -> psycopg.Connection:
    """An autocommit connection to the server: the URL's own database, else the maintenance one."""
    import psycopg

    try:
        return psycopg.connect(server_url, autocommit=True)
    except psycopg.OperationalError:
        return psycopg.connect(_with_database(server_url, "postgres"), autocommit=True)


@contextmanager
def temp_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server in ``server_url``, dropped on exit; yields its URL."""
    from psycopg import sql

    name = f"coo_bench_{secrets.token_hex(4)}"
    with _admin_connect(server_url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(server_url, name)
    finally:
        with _admin_connect(server_url) as admin:
            # FORCE: a killed worker's pooled connections must not keep the database alive.
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def flushed_redis(url: str) -> Iterator[str]:
    """The Redis DB in ``url``, emptied before and after (jobs, RQ registries, worker keys)."""
    from redis import Redis

    client = Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def _coo_command() -> list[str]:
    script = Path(sys.executable).with_name("coo")  # the installed console script, as operators run it
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextmanager
def worker_process(database_url: str, redis_url: str, data_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`coo worker` as a subprocess on these services; ready when registered in Redis; stopped on exit."""
    from redis import Redis
    from rq import Worker

    env = {k: v for k, v in os.environ.items() if not k.startswith("COO_")}
    env.update(COO_DATABASE_URL=database_url, COO_REDIS_URL=redis_url, COO_DATA_DIR=str(data_dir), COO_TIMEZONE="UTC")
    log_path = data_dir / "worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        proc = subprocess.Popen([*_coo_command(), "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
    redis = Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not Worker.all(connection=redis):
            if proc.poll() is not None:
                raise RuntimeError(f"coo worker exited with {proc.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"coo worker did not register within {WORKER_START_TIMEOUT:.0f}s:\n{_tail(log_path)}"
                )
            time.sleep(0.1)
        yield proc
    finally:
        redis.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # RQ's warm shutdown: finish the current job, then exit
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
