"""`coo bench scale`: what one reply costs as the books grow (issue 15).

For each factor (1× = 50 clients, 5,000 invoices, 52,000 ledger events, 10,000 memories) and
each database (SQLite; PostgreSQL with ``--postgres URL`` or COO_TEST_DATABASE_URL), it builds
the books as a snapshot (bench.scale_data), restores it with `coo import`'s own code, indexes
the memory as `coo memory sync` does, then times each request of the issue's table through the
console, as the operator waits for it (median of ``--repeats``), the Monday digest with its
memory audit, and `coo export` as a whole process (wall time and peak memory). Each figure is
printed with its ratio to the smallest factor's. Then process start against `rq --help`, and
(with Redis) throughput of two `coo worker`s against a bare RQ job that writes one row.
The last line is JSON for scripts. Memories use the `hashing` embedder: the figures are about
the store's work, not the transformer's (`coo bench-memory` measures that).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench import scale_data
from bench.scale_data import Volumes

TODAY = date(2026, 11, 30)  # a Monday: the digest carries the weekly memory audit
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


def progress(text: str) -> None:
    print(f"bench scale: {text}", file=sys.stderr, flush=True)


def _factors(text: str) -> list[float]:
    try:
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise SystemExit(f"coo bench scale: --factor takes numbers such as 1,10 ({exc})") from exc
    if not out or any(f <= 0 for f in out):
        raise SystemExit("coo bench scale: --factor takes positive numbers such as 1,10")
    return out


def _env(database_url: str, data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COO_")}
    env.update(
        COO_DATABASE_URL=database_url,
        COO_DATA_DIR=data_dir,
        COO_TIMEZONE="UTC",
        COO_EMBEDDER="hashing",
        COO_MODEL_SMALL="offline",
        COO_MODEL_MID="offline",
        COO_MODEL_LARGE="offline",
        PYTHONPATH=str(ROOT),
    )
    return env


def _child(argv: list[str], env: dict[str, str]) -> float:
    """Run a process to its end: wall seconds (its peak memory: :func:`_measured`)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, _ = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode:
        raise RuntimeError(f"{' '.join(argv[-3:])} exited with {proc.returncode}: {err[-500:]}")
    return elapsed


def _measured(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a process to its end through the small launcher bench.peak: (wall seconds, peak
    resident MB of that process alone). Started straight from this process, whose size grows
    with the books it holds, the kernel would report this process's peak as the child's."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.peak", *argv], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode:
        raise RuntimeError(f"{' '.join(argv[-3:])} exited with {proc.returncode}: {proc.stderr[-500:]}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(figures["seconds"]), float(figures["peak_mb"])


def _timed(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def requests(volumes: Volumes) -> dict[str, Callable[[int], str]]:
    """The issue's requests; each takes the repeat number (a new client needs a new name)."""
    one = scale_data.client_name(0)
    person, _ = scale_data.contact(0)
    return {
        "what's overdue?": lambda n: "what's overdue?",
        "who owes me money?": lambda n: "who owes me money?",
        "what do we know about X?": lambda n: f"what do we know about {one}?",
        "new client: …": lambda n: f"new client: Zephyr Scale {n}, contact ops{n}@zephyr.example",
        'recall "did X ask …"': lambda n: f"what did {person.split()[0]} say about the logo colours?",
    }


def measure_database(database_url: str, volumes: Volumes, repeats: int, tmp: Path) -> dict[str, Any]:
    from agents.digest_writer import write_digest
    from agents.embedders import get_embedder
    from bench.offline_settings import offline_settings
    from bot.console import ConsoleChat
    from bot.runtime import Runtime, use_runtime
    from store.clock import FixedClock
    from store.memory_sync import sync
    from store.snapshot import import_file

    out: dict[str, Any] = {}
    snapshot_path = tmp / "books.json"
    started = time.perf_counter()
    rows = scale_data.write(volumes, TODAY, snapshot_path)
    out["rows"] = rows
    out["build_s"] = round(time.perf_counter() - started, 2)
    settings = offline_settings(tmp, database_url, embedder="hashing")
    runtime = Runtime(settings, clock=FixedClock(NOW, "UTC"))
    use_runtime(runtime)
    try:
        started = time.perf_counter()
        import_file(runtime.store.db, snapshot_path)  # what `coo import` runs
        out["import_s"] = round(time.perf_counter() - started, 2)
        embedder = get_embedder("hashing")
        started = time.perf_counter()
        sync(runtime.store, embedder)
        out["memory_sync_s"] = round(time.perf_counter() - started, 2)
        out["memories"] = runtime.store.memory.count()
        started = time.perf_counter()
        sync(runtime.store, embedder)
        out["memory_sync_nothing_new_ms"] = round((time.perf_counter() - started) * 1000, 1)
        console = ConsoleChat(runtime, io.StringIO(), settle_timeout=600)
        console.send("help")  # one-time imports and caches are not what this measures
        replies: dict[str, str] = {}
        timings: dict[str, float] = {}
        for label, text in requests(volumes).items():
            count = iter(range(repeats))

            def send(text: Callable[[int], str] = text, label: str = label, count: Any = count) -> None:
                console.out = io.StringIO()
                console.send(text(next(count)))
                replies[label] = console.out.getvalue()

            timings[label] = round(_timed(send, repeats) * 1000, 1)
        out["requests_ms"] = timings
        out["reply_bytes"] = {label: len(text.encode()) for label, text in replies.items()}
        out["replies"] = {label: text[:400] for label, text in replies.items()}
        started = time.perf_counter()
        try:
            write_digest(runtime.store, TODAY)
            label = "Monday digest (with the memory audit)"
            out["requests_ms"][label] = round((time.perf_counter() - started) * 1000, 1)
        except Exception as exc:  # noqa: BLE001 - reported with the figures taken so far
            traceback.print_exc(file=sys.stderr)
            out["error"] = f"Monday digest: {exc}"
    finally:
        runtime.close()
        use_runtime(None)
    export_path = tmp / "export.json"
    argv = [sys.executable, "-m", "bot.cli", "export", str(export_path)]
    seconds, peak = _measured(argv, _env(database_url, str(tmp)))
    out["export_s"] = round(seconds, 2)
    out["export_peak_mb"] = round(peak, 1)
    export_path.unlink(missing_ok=True)
    snapshot_path.unlink(missing_ok=True)
    return out


def _postgres_database(server: str, volumes: Volumes, repeats: int) -> dict[str, Any]:
    from bench.services import temp_database

    with tempfile.TemporaryDirectory(prefix="coo-scale-") as tmp, temp_database(server) as url:
        return measure_database(url, volumes, repeats, Path(tmp))


def _sqlite_database(volumes: Volumes, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="coo-scale-") as tmp:
        return measure_database(f"sqlite:///{Path(tmp) / 'coo.sqlite3'}", volumes, repeats, Path(tmp))


def startup(runs: int) -> dict[str, Any]:
    """`coo --help` and `coo parse TEXT` against `rq --help`, round-robin, medians."""
    from bench.startup import PARSE_TEXT

    rq = Path(sys.executable).with_name("rq")
    argvs = {
        "rq --help": [str(rq), "--help"] if rq.exists() else [sys.executable, "-m", "rq.cli", "--help"],
        "coo --help": [sys.executable, "-m", "bot.cli", "--help"],
        f'coo parse "{PARSE_TEXT}"': [sys.executable, "-m", "bot.cli", "parse", PARSE_TEXT],
    }
    env = dict(os.environ, COO_MODEL_SMALL="offline", PYTHONPATH=str(ROOT))
    times: dict[str, list[float]] = {label: [] for label in argvs}
    for round_ in range(runs + 1):
        for label, argv in argvs.items():
            elapsed = _child(argv, env)
            if round_:
                times[label].append(elapsed)
    base = statistics.median(times["rq --help"])
    return {
        label: {"median_ms": round(statistics.median(t) * 1000, 1), "x_rq": round(statistics.median(t) / base, 2)}
        for label, t in times.items()
    }


def _attempt(label: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return work()
    except Exception as exc:  # noqa: BLE001 - a failing target is a figure we could not take
        traceback.print_exc(file=sys.stderr)
        progress(f"{label} failed: {exc}")
        return {"error": str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__}


def _request_ms(figures: dict[str, Any], label: str) -> float | None:
    value = figures.get("requests_ms", {}).get(label)
    return None if value is None else float(value)


def _fmt_ms(ms: float) -> str:
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"


def render(result: dict[str, Any]) -> str:
    factors: list[float] = result["factors"]
    base = factors[0]
    lines = [f"coo bench scale — factors {', '.join(f'{f:g}×' for f in factors)} (1× = {Volumes()})", ""]
    for dbname, per_factor in result["databases"].items():
        lines.append(f"## {dbname}")
        first = per_factor.get(str(base), {})
        if any("error" in per_factor.get(str(f), {}) for f in factors):
            for f in factors:
                if "error" in per_factor.get(str(f), {}):
                    lines.append(f"{f:g}×: FAILED — {per_factor[str(f)]['error']}")
        head = "| request | " + " | ".join(f"{f:g}×" for f in factors)
        head += "".join(f" | {f:g}×/{base:g}×" for f in factors[1:]) + " |"
        lines += [head, "|" + " --- |" * (1 + 2 * len(factors) - 1)]
        labels = list(first.get("requests_ms", {}))
        rows: list[tuple[str, Callable[[dict[str, Any]], float | None], Callable[[float], str]]] = [
            (label, partial(_request_ms, label=label), _fmt_ms) for label in labels
        ]
        rows += [
            ("`coo export` time", lambda d: d.get("export_s"), lambda v: f"{v:.2f} s"),
            ("`coo export` peak memory", lambda d: d.get("export_peak_mb"), lambda v: f"{v:.0f} MB"),
            ("`coo import` (restore)", lambda d: d.get("import_s"), lambda v: f"{v:.2f} s"),
            ("`coo memory sync` after import", lambda d: d.get("memory_sync_s"), lambda v: f"{v:.2f} s"),
            ("memory sweep, nothing new", lambda d: d.get("memory_sync_nothing_new_ms"), _fmt_ms),
        ]
        for label, get, fmt in rows:
            values = [get(per_factor.get(str(f), {})) for f in factors]
            cells = [fmt(v) if v is not None else "—" for v in values]
            b = values[0]
            ratios = [f"{v / b:.1f}×" if v is not None and b else "—" for v in values[1:]]
            lines.append(f"| {label} | " + " | ".join(cells + ratios) + " |")
        sizes = [per_factor.get(str(f), {}).get("reply_bytes", {}) for f in factors]
        if sizes and sizes[-1]:
            biggest = max(sizes[-1].items(), key=lambda kv: kv[1])
            lines.append(f"(largest reply at {factors[-1]:g}×: {biggest[0]} — {biggest[1]:,} bytes)")
        lines.append("")
    start = result.get("startup")
    if start and "error" not in start:
        lines.append("## process start (median, × `rq --help` in the same run)")
        for label, fig in start.items():
            lines.append(f"- {label}: {fig['median_ms']:.0f} ms ({fig['x_rq']:.2f}×)")
        lines.append("")
    thr = result.get("throughput")
    if thr and "error" not in thr and "skipped" not in thr:
        lines.append("## throughput (two workers, PostgreSQL + Redis)")
        lines.append(f"- bare RQ job writing one row: {thr['bare_rq_per_s']:.0f} jobs/s")
        lines.append(f"- coo approval-free requests: {thr['coo_per_s']:.0f} runs/s ({thr['ratio']:.2f}× bare RQ)")
        if len(thr.get("rounds") or []) > 1:
            each = ", ".join(
                f"{r['bare_rq_per_s']:.0f}/{r['coo_per_s']:.0f} ({r['ratio']:.2f}×)" for r in thr["rounds"]
            )
            lines.append(f"- rounds (bare/coo per s; medians above): {each}")
        lines.append("")
    elif thr:
        lines.append(f"throughput: {thr.get('skipped') or 'FAILED — ' + str(thr.get('error'))}")
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> int:
    factors = _factors(args.factor or "1,10")
    base = Volumes(
        clients=args.clients or Volumes.clients,
        invoices=args.invoices or Volumes.invoices,
        ledger=args.ledger or Volumes.ledger,
        memories=args.memories or Volumes.memories,
    )
    repeats = args.repeats or 3
    server = args.postgres or os.environ.get("COO_TEST_DATABASE_URL")
    redis_url = args.redis or os.environ.get("COO_TEST_REDIS_URL")
    started = time.perf_counter()
    result: dict[str, Any] = {"factors": factors, "volumes_1x": base.__dict__, "databases": {}}
    targets: dict[str, Callable[[Volumes], dict[str, Any]]] = {}
    if not args.no_sqlite and not args.no_books:
        targets["SQLite"] = lambda v: _sqlite_database(v, repeats)
    if server and not args.no_books:
        targets["PostgreSQL"] = lambda v: _postgres_database(server, v, repeats)
    for name, work in targets.items():
        per: dict[str, Any] = {}
        for f in factors:
            volumes = base.times(f)
            progress(f"{name} at {f:g}× ({volumes})…")
            per[str(f)] = _attempt(f"{name} {f:g}×", partial(work, volumes))
            # each figure as soon as it is taken: a long run that is stopped keeps what it measured
            progress(f"{name} {f:g}× " + json.dumps({k: v for k, v in per[str(f)].items() if k != "replies"}))
        result["databases"][name] = per
    if not args.no_startup:
        progress("process start against `rq --help`…")
        result["startup"] = _attempt("startup", lambda: startup(args.runs or 5))
    if args.throughput:
        if server and redis_url:
            from bench.throughput import measure as throughput

            progress("throughput: two `coo worker`s against a bare RQ job…")
            result["throughput"] = _attempt(
                "throughput", lambda: throughput(server, redis_url, args.jobs or 300, args.rounds or 3)
            )
        else:
            result["throughput"] = {"skipped": "give --postgres URL and --redis URL for the throughput run"}
    result["seconds"] = round(time.perf_counter() - started, 1)
    sys.stdout.write(render(result))
    sys.stdout.write(f"(bench scale took {result['seconds']} s)\n")
    sys.stdout.write(json.dumps({"bench_scale": result}, ensure_ascii=False, default=str) + "\n")
    failed = any("error" in d for per in result["databases"].values() for d in per.values())
    failed = failed or any("error" in (result.get(k) or {}) for k in ("startup", "throughput"))
    return 1 if failed else 0
