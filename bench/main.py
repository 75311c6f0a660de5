"""`coo bench`: parse time, message → reply latency, persistence overhead, storage, tokens.

Prints a table per measurement and, last, one JSON line with every figure (for scripts:
``coo bench | tail -n 1``). Progress goes to stderr, one line per phase as it starts.

Targets:
- ``embedded``: a SQLite file in a temporary directory and the in-process queue — the
  default a new user runs; the persistence probe is installed here (same process).
- ``postgres+redis+worker``: a fresh temporary PostgreSQL database on the given server, the
  given Redis DB (flushed before and after) and one real ``coo worker`` subprocess.
- ``postgres in-process``: PostgreSQL again, jobs run in this process so the probe can see
  the ledger and checkpoint calls; its latency also shows what the Redis/RQ hop costs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.latency import drive
from bench.offline_settings import offline_settings
from bench.probe import Probe
from bench.report import render
from bench.storage import measure
from bot.runtime import Runtime, use_runtime
from bot.settings import Settings

DEFAULT_MESSAGES = 200
QUICK_MESSAGES = 20


def progress(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def _settings(tmp: str, database_url: str | None = None, redis_url: str | None = None) -> Settings:
    return offline_settings(tmp, database_url, redis_url)


def _probed_run(settings: Settings, count: int, every: int) -> dict[str, Any]:
    """Drive ``count`` messages on an in-process runtime with the persistence probe installed."""
    runtime = Runtime(settings)
    use_runtime(runtime)  # the in-process queue's jobs find their runtime here
    try:
        probe = Probe.install(runtime)
        latency = drive(runtime, count, every)
        runtime.queue.wait_idle()
        return {"latency": latency, "persistence": probe.figures(), "storage": measure(runtime.store.db)}
    finally:
        runtime.close()
        use_runtime(None)


def embedded(count: int, every: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="coo-bench-") as tmp:
        return _probed_run(_settings(tmp), count, every)


def postgres_worker(server: str, redis_url: str, count: int, every: int) -> dict[str, Any]:
    from bench.services import flushed_redis, temp_database, worker_process

    with (
        tempfile.TemporaryDirectory(prefix="coo-bench-") as tmp,
        temp_database(server) as db_url,
        flushed_redis(redis_url),
    ):
        # The bench's runtime migrates the fresh database before the worker starts on it.
        runtime = Runtime(_settings(tmp, db_url, redis_url))
        try:
            with worker_process(db_url, redis_url, Path(tmp)):
                latency = drive(runtime, count, every)
            return {"latency": latency, "storage": measure(runtime.store.db)}
        finally:
            runtime.close()


def postgres_inprocess(server: str, count: int, every: int) -> dict[str, Any]:
    from bench.services import temp_database

    with tempfile.TemporaryDirectory(prefix="coo-bench-") as tmp, temp_database(server) as db_url:
        result = _probed_run(_settings(tmp, db_url), count, every)
        result.pop("storage")  # the worker target already measured PostgreSQL storage
        return result


def _services(args: argparse.Namespace) -> tuple[str | None, str | None]:
    return (
        args.postgres or os.environ.get("COO_TEST_DATABASE_URL"),
        args.redis or os.environ.get("COO_TEST_REDIS_URL"),
    )


def _attempt(label: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one target; a failing service is reported in the output instead of ending the bench."""
    try:
        return work()
    except Exception as exc:  # noqa: BLE001 - any failure is a figure we could not take
        traceback.print_exc(file=sys.stderr)
        progress(f"{label} failed: {exc}")
        return {"error": str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__}


def main(args: argparse.Namespace) -> int:
    quick = bool(getattr(args, "quick", False))
    count = args.messages or (QUICK_MESSAGES if quick else DEFAULT_MESSAGES)
    every = 50 if count >= 100 else 0
    started = time.perf_counter()
    result: dict[str, Any] = {"quick": quick, "messages": count, "targets": {}}

    from bench import model as bench_model
    from bench import parse as bench_parse

    progress("offline intent parse (operator phrasings" + (" ×5" if not quick else "") + " + CLINC150 dev)…")
    result["parse"] = bench_parse.run(quick)

    targets = result["targets"]
    progress(f"embedded default (SQLite + in-process queue), {count} messages…")
    targets["embedded"] = _attempt("embedded", lambda: embedded(count, every))

    server, redis_url = _services(args)
    if server and redis_url:
        progress(f"PostgreSQL + Redis + 1 `coo worker`, {count} messages…")
        targets["postgres+redis+worker"] = _attempt(
            "postgres+redis+worker", lambda: postgres_worker(server, redis_url, count, every)
        )
        progress(f"PostgreSQL + in-process queue (persistence probe), {count} messages…")
        targets["postgres in-process"] = _attempt(
            "postgres in-process", lambda: postgres_inprocess(server, count, every)
        )
    else:
        targets["postgres+redis+worker"] = {
            "skipped": "give --postgres URL and --redis URL (or set COO_TEST_DATABASE_URL / COO_TEST_REDIS_URL)"
        }

    intents = 10 if quick else 50
    progress(f"tokens per intent on a scripted small-tier model, {intents} messages…")
    result["tokens"] = _attempt("tokens", lambda: bench_model.run(quick))
    result["seconds"] = round(time.perf_counter() - started, 1)

    text = render({k: v for k, v in result.items() if not (k == "tokens" and "error" in v)})
    sys.stdout.write(text)
    if "error" in result["tokens"]:
        sys.stdout.write(f"tokens: FAILED — {result['tokens']['error']}\n")
    sys.stdout.write(f"(bench took {result['seconds']} s)\n")
    sys.stdout.write(json.dumps({"bench": result}, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    failed = any("error" in t for t in targets.values()) or "error" in result["tokens"]
    return 1 if failed else 0
