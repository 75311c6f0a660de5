"""Throughput on PostgreSQL + Redis: two `coo worker`s against a bare RQ job, in the same run.

The baseline is the least a queued request can cost: an RQ job that writes one row to
PostgreSQL over a connection its process keeps, run by two ``rq worker -w rq.SimpleWorker``
processes (the worker class `coo worker` uses, so neither side forks per job). Then two
`coo worker`s take ``jobs`` approval-free requests ("new client: …", each a whole run: intake,
parse, plan, step, ledger, reply) saved through the intake door as any channel saves them.
Each side is timed from the first enqueue to the last job done, with the workers already up.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BARE_QUEUE = "bench-bare"
_CONN: dict[str, Any] = {}


def write_row(database_url: str, n: int) -> None:
    """The bare job: one INSERT, committed, on this worker's own connection."""
    import psycopg

    conn = _CONN.get(database_url)
    if conn is None:
        conn = _CONN[database_url] = psycopg.connect(database_url, autocommit=True)
    conn.execute("INSERT INTO bench_rows (n) VALUES (%s)", (n,))


def _workers(argv: list[str], env: dict[str, str], count: int, redis_url: str, log_dir: Path) -> list[Any]:
    from redis import Redis
    from rq import Worker

    redis = Redis.from_url(redis_url)
    before = len(Worker.all(connection=redis))
    procs = []
    for i in range(count):
        log = (log_dir / f"worker-{argv[-1]}-{i}.log").open("wb")
        procs.append(subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 60
    while len(Worker.all(connection=redis)) < before + count:
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            _stop(procs)
            raise RuntimeError(f"workers did not start: {' '.join(argv)} (logs in {log_dir})")
        time.sleep(0.1)
    redis.close()
    return procs


def _stop(procs: list[Any]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _wait(check: Any, target: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while check() < target:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {check()} of {target} jobs finished in {timeout:.0f}s")
        time.sleep(0.02)


def bare_rq(db_url: str, redis_url: str, jobs: int, log_dir: Path) -> float:
    import psycopg
    from redis import Redis
    from rq import Queue

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_rows (id BIGSERIAL PRIMARY KEY, n INTEGER NOT NULL)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rq = Path(sys.executable).with_name("rq")
    argv = [str(rq), "worker", "-w", "rq.SimpleWorker", "--url", redis_url, BARE_QUEUE]
    procs = _workers(argv, env, 2, redis_url, log_dir)
    try:
        redis = Redis.from_url(redis_url)
        queue = Queue(BARE_QUEUE, connection=redis)
        with psycopg.connect(db_url, autocommit=True) as conn:

            def done() -> int:
                return int(conn.execute("SELECT COUNT(*) FROM bench_rows").fetchone()[0])  # type: ignore[index]

            started = time.perf_counter()
            for n in range(jobs):
                queue.enqueue(write_row, db_url, n)
            _wait(done, jobs)
            elapsed = time.perf_counter() - started
        redis.close()
        return jobs / elapsed
    finally:
        _stop(procs)


def coo_workers(db_url: str, redis_url: str, jobs: int, tmp: Path) -> float:
    from bench.offline_settings import offline_settings
    from bot.intake import Intake
    from bot.runtime import Runtime
    from graphs.envelope import Envelope

    settings = offline_settings(tmp, db_url, redis_url, embedder="hashing")
    runtime = Runtime(settings)  # migrates the fresh database before the workers start on it
    env = {k: v for k, v in os.environ.items() if not k.startswith("COO_")}
    env.update(
        COO_DATABASE_URL=db_url,
        COO_REDIS_URL=redis_url,
        COO_DATA_DIR=str(tmp),
        COO_TIMEZONE="UTC",
        COO_EMBEDDER="hashing",
        PYTHONPATH=str(ROOT),
    )
    procs = _workers([sys.executable, "-m", "bot.cli", "worker"], env, 2, redis_url, tmp)
    try:
        intake = Intake(runtime.store, runtime.queue)
        db = runtime.store.db

        def done() -> int:  # runs that ended (a message becomes a run on an agent's queue)
            return int(
                db.scalar("SELECT COUNT(*) AS n FROM runs WHERE status IN ('done', 'failed', 'rejected', 'cancelled')")
                or 0
            )

        # one untimed request first: the workers' one-time imports are not throughput
        intake.submit(_envelope(Envelope, "new client: Warmup Co, contact ops@warmup.example"), post_ack=False)
        _wait(done, 1)
        started = time.perf_counter()
        for n in range(jobs):
            # A name of letters: the parser reads a trailing number as no part of a name, and
            # "Scale Client 7" would be the same client each time (an update, not a new client).
            text = f"new client: Scale Client {_word(n)}, contact ops{n}@scale{n}.example"
            intake.submit(_envelope(Envelope, text), post_ack=False)
        _wait(done, jobs + 1)
        elapsed = time.perf_counter() - started
        runs = int(db.scalar("SELECT COUNT(*) AS n FROM runs WHERE status = 'done'") or 0)
        if runs < jobs + 1:
            raise RuntimeError(f"only {runs - 1} of {jobs} runs finished as done (the others failed)")
        return jobs / elapsed
    finally:
        _stop(procs)
        runtime.close()


def _word(n: int) -> str:
    """0 → "Zqaa", 1 → "Zqab", …: a distinct word for each request, and none the parser knows
    ("At", "Of" would end the name)."""
    word = ""
    for _ in range(2):
        n, rest = divmod(n, 26)
        word = chr(ord("a") + rest) + word
    while n:
        n, rest = divmod(n - 1, 26)
        word = chr(ord("a") + rest) + word
    return "Zq" + word


def _envelope(envelope: Any, text: str) -> Any:
    return envelope(channel="console", event_id=uuid.uuid4().hex, thread_id="bench", user_id="bench", text=text)


def measure(server: str, redis_url: str, jobs: int, rounds: int = 3) -> dict[str, Any]:
    """``rounds`` times a bare RQ run then a coo run, each on a fresh database and Redis: this
    machine's speed drifts between seconds, so the figures are the medians, and the ratio is the
    median of each round's (a bare run and the coo run right after it)."""
    from bench.services import flushed_redis, temp_database

    figures = []
    with tempfile.TemporaryDirectory(prefix="coo-throughput-") as tmp:
        for _ in range(max(1, rounds)):
            with temp_database(server) as db_url, flushed_redis(redis_url):
                bare = bare_rq(db_url, redis_url, jobs, Path(tmp))
            with temp_database(server) as db_url, flushed_redis(redis_url):
                coo = coo_workers(db_url, redis_url, jobs, Path(tmp))
            figures.append({"bare_rq_per_s": round(bare, 1), "coo_per_s": round(coo, 1), "ratio": round(coo / bare, 3)})
    return {
        "jobs": jobs,
        "bare_rq_per_s": statistics.median(f["bare_rq_per_s"] for f in figures),
        "coo_per_s": statistics.median(f["coo_per_s"] for f in figures),
        "ratio": statistics.median(f["ratio"] for f in figures),
        "rounds": figures,
    }
