"""The `coo` command."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store.errors import StoreError

if TYPE_CHECKING:  # the commands import what they need when they run: `coo --help` stays fast
    from bot.runtime import Runtime
    from bot.settings import Settings
    from graphs.parsing import IntentParser
    from graphs.playbooks import Playbooks
    from store.clock import Clock
    from store.facade import Store

REPO = Path(__file__).resolve().parents[1]


def load_settings(**overrides: Any) -> Settings:
    """bot.settings.load_settings, imported when a command first needs it (pydantic-settings
    is not free: `coo --help` does without it)."""
    from bot.settings import load_settings as load

    return load(**overrides)


def _playbooks() -> Playbooks:
    """Load and validate every playbook (built-ins + COO_PLAYBOOKS_DIR) and plan with them;
    an invalid one raises PlaybookError naming the file and the field."""
    from graphs.playbooks import load_playbooks, use_playbooks

    playbooks = load_playbooks(*load_settings().playbook_dirs)
    use_playbooks(playbooks)
    return playbooks


def _clock(args: argparse.Namespace, settings: Settings) -> Clock:
    """The one clock of this command: the caller's (tests pin it), else the wall clock; either
    way it shows times in COO_TIMEZONE."""
    return _clock_in(args, settings.timezone)


def _clock_in(args: argparse.Namespace, timezone: str) -> Clock:
    """The command's clock (the caller's, or the wall clock) shown in ``timezone``."""
    from zoneinfo import ZoneInfo

    from store.clock import Clock

    clock: Clock | None = getattr(args, "clock", None)
    if clock is None:
        return Clock(timezone)
    clock.tz = ZoneInfo(timezone)
    return clock


def _store(args: argparse.Namespace, settings: Settings) -> Store:
    from bot.service_wait import reachable_or_raise
    from store.facade import Store

    reachable_or_raise(settings)
    return Store.open(settings.database, _clock(args, settings))


def _runtime(args: argparse.Namespace) -> Runtime:
    from bot.runtime import Runtime, use_runtime
    from bot.service_wait import reachable_or_raise

    _playbooks()  # before anything starts: an invalid playbook stops here, naming file and field
    settings = load_settings()
    reachable_or_raise(settings)
    runtime = Runtime(settings, clock=_clock(args, settings))
    use_runtime(runtime)
    return runtime


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.console import chat

    runtime = _runtime(args)
    try:
        return chat(runtime, sys.stdin, sys.stdout)  # read at call time: tests swap them
    finally:
        runtime.queue.wait_idle()
        runtime.close()


def cmd_worker(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.redis_url:
        print("coo worker needs COO_REDIS_URL (without it, `coo chat` runs the work in process).", file=sys.stderr)
        return 2
    from bot.service_wait import start_when_ready
    from bot.worker import run_worker

    _playbooks()  # a configuration error stops the worker at once; only services are waited for
    runtime = start_when_ready(settings, "worker", lambda: _runtime(args))
    try:
        run_worker(runtime, args.queues.split(",") if args.queues else None, burst=args.burst)
    finally:
        runtime.close()
    return 0


def cmd_ledger(args: argparse.Namespace) -> int:
    from bot.ledger_view import list_runs, show_run

    store = _store(args, load_settings())
    try:
        print(show_run(store, args.run) if args.run else list_runs(store, args.limit))
    finally:
        store.close()
    return 0


def cmd_parse(args: argparse.Namespace) -> int:
    from bot.config_error import parse_settings
    from graphs.intents import intent_to_dict

    # The offline tier needs two variables, read without the whole settings object: scripts
    # run `coo parse` often, and pydantic-settings is a third of its start.
    tier, timezone = parse_settings()
    parser: IntentParser
    if tier == "offline":
        from bot.caches import router_cache_dir
        from graphs.offline_parser import OfflineParser
        from graphs.offline_parsing.router import shipped_router

        today = _clock_in(args, timezone).today()
        # The router loads its model only for a message no rule reads.
        parser = OfflineParser(shipped_router(router_cache_dir()))
    else:
        settings = load_settings()
        today = _clock(args, settings).today()
        runtime = _runtime(args)
        parser = runtime.parser

    def emit(text: str) -> None:
        result = parser.parse(text, today)
        out = intent_to_dict(result.intent)
        if result.problems:
            out["problems"] = [p.model_dump() for p in result.problems]
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")

    if args.text == ["-"]:
        for line in sys.stdin:
            emit(line.rstrip("\n"))
    else:
        if not args.text:
            print("coo parse: give a TEXT, or - to read one text per line from standard input", file=sys.stderr)
            return 2
        emit(" ".join(args.text))
    sys.stdout.flush()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import time

    from bot.caches import router_cache_dir
    from graphs import parser_eval
    from graphs.offline_parser import OfflineParser
    from graphs.offline_parsing.router import shipped_router

    router = None if args.no_router else shipped_router(router_cache_dir())
    parser = OfflineParser(router)
    if router is not None:
        started = time.perf_counter()
        router.warm()
        print(f"Semantic router: {router.embedder.name}, loaded in {time.perf_counter() - started:.2f} s")
    else:
        print("Semantic router: off (rules only)")
    print()
    report = parser_eval.evaluate_phrasings(parser, parser_eval.all_phrasing_paths())
    print(parser_eval.format_phrasing_report(report))
    print()
    for label, path in parser_eval.PHRASING_SETS:
        part = parser_eval.evaluate_phrasings(parser, path)
        print(f"  {label:<62} {part.correct:>4}/{part.total:<4} ({part.accuracy:.1%})")
    clinc = Path(args.clinc) if args.clinc else REPO.parent / "shared" / "corpora" / "clinc150" / "test.jsonl"
    if clinc.exists():
        print()
        print(parser_eval.format_out_of_domain_report(parser_eval.evaluate_out_of_domain(parser, clinc)))
    else:
        print(f"\n(CLINC150 corpus not found at {clinc}; pass --clinc PATH)")
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from datetime import date

    from agents.digest_writer import write_digest
    from bot.digest import post_digest

    runtime = _runtime(args)
    try:
        day = date.fromisoformat(args.date) if args.date else runtime.store.clock.today()
        if not args.send:
            print(write_digest(runtime.store, day).text)
            return 0
        digest, posted = post_digest(runtime, day)
        print(digest.text)
        print(
            f"\n(posted to the operators for {day.isoformat()}; `coo serve` delivers it to Slack/Telegram)"
            if posted
            else f"\n(the digest for {day.isoformat()} was already posted; not sent again)"
        )
        return 0
    finally:
        runtime.close()


def cmd_tick(args: argparse.Namespace) -> int:
    from datetime import date

    from bot.ticks import run_tick

    runtime = _runtime(args)
    try:
        day = date.fromisoformat(args.date) if args.date else runtime.store.clock.today()
        done = run_tick(runtime, day)
        runtime.queue.wait_idle()  # embedded: the submitted runs finish (and post their cards) here
    finally:
        runtime.close()
    print(f"Tick {done.summary()}")
    if not (done.invoices or done.reports or done.alerts):
        print("(nothing new: work already done for this day is not done again)")
    elif runtime.settings.redis_url:
        print("The invoices and reports run on `coo worker`; their cards appear in each retainer's thread.")
    else:
        print("Cards and alerts are in each retainer's thread (`coo chat` shows them; `coo serve` delivers them).")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.secret_values import protect
    from store.snapshot import FORMAT_VERSION, export_to

    settings = load_settings()
    protect(settings)  # a token stored before masking existed leaves masked too
    playbooks = [
        {"file": book.path.name, "builtin": book.builtin, "yaml": book.path.read_text()} for book in _playbooks().all()
    ]
    store = _store(args, settings)
    try:
        # written row by row (memory stays flat however big the books are), to a temporary file
        # renamed over FILE at the end
        try:
            counts = export_to(store.db, Path(args.file), store.clock.now(), playbooks)
        except OSError as exc:
            print(
                f"coo export: could not write {args.file} ({exc}); any earlier file there is unchanged.",
                file=sys.stderr,
            )
            return 1
    finally:
        store.close()
    print(
        f"Exported {sum(counts.values())} rows from {len(counts)} tables to {args.file} (coo snapshot v{FORMAT_VERSION})."
    )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from store.backup import backup

    store = _store(args, load_settings())
    try:
        made = backup(store.db, Path(args.file))
    finally:
        store.close()
    how = "SQLite database (backup API)" if made.kind == "sqlite" else "PostgreSQL database (pg_dump)"
    print(f"Backed up the {how} to {made.path} ({made.size:,} bytes).")
    print(made.restore_hint())
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from bot.doctor import main as doctor_main

    return doctor_main(args)


def cmd_import(args: argparse.Namespace) -> int:
    from store.snapshot import import_file

    settings = load_settings()
    store = _store(args, settings)
    try:
        counts, playbooks = import_file(store.db, Path(args.file))  # read as a stream, inserted in batches
    finally:
        store.close()
    own = [p for p in playbooks if not p.get("builtin")]
    if own:
        # the operator's own playbooks come back where coo looks for them by default
        target = settings.data_dir / "playbooks"
        target.mkdir(parents=True, exist_ok=True)
        for book in own:
            (target / Path(book["file"]).name).write_text(book["yaml"])
    print(
        f"Imported {sum(counts.values())} rows into {len(counts)} tables from {args.file}"
        + (f"; {len(own)} playbook file(s) of your own restored to {settings.data_dir / 'playbooks'}." if own else ".")
    )
    from bot.run_commands import revive_after_import

    try:
        print(revive_after_import(_runtime(args)))
    except Exception as exc:  # the rows are in: the waiting runs re-plan themselves on the first tap
        logging.getLogger("coo").exception("waiting runs not re-planned after the import")
        print(
            f"coo import: the waiting approvals were not shown again ({exc}); they still work: "
            "a tap on a card re-plans its run.",
            file=sys.stderr,
        )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.part == "scale":
        from bench.scale import main as scale_main

        return scale_main(args)
    if args.part == "chaos":
        from bench.chaos import main as chaos_main

        return chaos_main(args)
    if args.startup:
        from bench.startup import main as startup_main

        return startup_main(args)
    from bench.main import main as bench_main

    return bench_main(args)


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.serve import main as serve_main

    _playbooks()
    return serve_main(args)


def cmd_playbooks(args: argparse.Namespace) -> int:
    from graphs.playbooks import PlaybookError
    from graphs.playbooks.listing import render_playbooks

    try:
        playbooks = _playbooks()
    except PlaybookError as exc:
        print(
            f"coo playbooks: {len(exc.problems)} problem(s); coo will not start until they are fixed:", file=sys.stderr
        )
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    store = _store(args, load_settings())
    try:
        print(render_playbooks(playbooks, store.runs.playbook_counts()))
    finally:
        store.close()
    return 0


def cmd_bench_slack(args: argparse.Namespace) -> int:
    from bench.slack import main as bench_slack_main

    return bench_slack_main(args)


def cmd_memory(args: argparse.Namespace) -> int:
    from agents.embedders import DEFAULT_EMBEDDER, EmbedderUnavailable, choose, get_embedder
    from store.memory import EmbedderMismatch
    from store.memory_sync import sync

    settings = load_settings()
    store = _store(args, settings)
    try:
        # reembed moves the memory to the configured embedder, or to the default when none is set;
        # everything else works with the one recall uses (agents.embedders.choose).
        name = (
            (settings.embedder or DEFAULT_EMBEDDER)
            if args.action == "reembed"
            else choose(settings.embedder, store.memory.embedded_with())
        )
        try:
            embedder = get_embedder(name)
        except EmbedderUnavailable as exc:
            print(f"coo memory: {exc}", file=sys.stderr)
            return 2
        if args.action == "reembed":
            before = store.memory.config()
            total = store.memory.reembed(
                embedder, progress=lambda done, n: print(f"  re-embedded {done}/{n}", flush=True)
            )
            added = sync(store, embedder)
            print(
                f"Re-embedded {total} memories with {embedder.name} ({embedder.dim} dimensions; was "
                f"{before.get('embedder', 'none')}); indexed {added} new."
            )
        elif args.action == "sync":
            try:
                added = sync(store, embedder, progress=_at_most_every_second(lambda done: f"  indexed {done:,}"))
            except EmbedderMismatch as exc:
                print(f"coo memory: {exc}", file=sys.stderr)
                return 1
            print(f"Indexed {added} new or changed memories ({store.memory.count()} in all).")
        elif args.action in ("audit", "prune"):
            return _audit_memory(store, prune=args.action == "prune", yes=args.yes)
        else:
            cfg = store.memory.config()
            source = (
                "COO_EMBEDDER"
                if settings.embedder
                else (
                    "the default"
                    if name == DEFAULT_EMBEDDER
                    else f"kept from the memory; `coo memory reembed` moves it to the default, {DEFAULT_EMBEDDER}"
                )
            )
            print(
                f"{store.memory.count()} memories · embedder {cfg.get('embedder', 'none yet')}"
                f" ({cfg.get('dim', '?')} dimensions) · in use: {name} = {embedder.name} ({source})"
            )
    finally:
        store.close()
    return 0


def _at_most_every_second(line: Callable[[int], str]) -> Callable[[int], None]:
    """A progress callback that prints ``line(count)`` at most once a second."""
    import time

    last = [0.0]

    def report(count: int) -> None:
        if time.monotonic() - last[0] >= 1.0:
            last[0] = time.monotonic()
            print(line(count), flush=True)

    return report


def _audit_memory(store: Store, *, prune: bool, yes: bool) -> int:
    """`coo memory audit` / `coo memory prune`: the report, then removals after confirmation."""
    import getpass

    from store.memory_audit import audit
    from store.memory_audit import prune as prune_findings

    report = audit(store)
    print(report.render())
    if not prune or not report.findings:
        return 0
    if not yes:
        if not sys.stdin.isatty():
            print(
                "coo memory prune: add --yes to confirm when not at a terminal; nothing was removed.", file=sys.stderr
            )
            return 2
        answer = input(f"Remove these {len(report.findings)} item(s) from the memory? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("Nothing was removed.")
            return 0
    run_id, removed = prune_findings(store, report, actor=f"cli:{getpass.getuser()}")
    print(f"Removed {removed} item(s); each removal is in the ledger: coo ledger {run_id}")
    return 0


def cmd_bench_memory(args: argparse.Namespace) -> int:
    from bench.memory import main as bench_memory_main

    return bench_memory_main(args)


def cmd_import_payments(args: argparse.Namespace) -> int:
    import getpass

    from agents.bank_csv import UnreadableExport
    from agents.bank_dates import DateFormatError, parse_date_format
    from agents.reconciler import import_payments, new_import_id, render_report

    path = Path(args.file)
    if not path.is_file():
        print(f"coo import-payments: no file {args.file}", file=sys.stderr)
        return 2
    try:
        date_format = parse_date_format(args.date_format) if args.date_format else None
    except DateFormatError as exc:
        print(f"coo import-payments: {exc}. Nothing was recorded.", file=sys.stderr)
        return 2
    settings = load_settings()
    store = _store(args, settings)
    try:
        report = import_payments(
            store,
            path.read_bytes(),
            path.name,
            run_id=new_import_id(),
            channel="console",
            thread_id="import-payments",
            user_id=getpass.getuser(),
            default_currency=args.currency.upper() if args.currency else None,
            date_format=date_format,
        )
    except UnreadableExport as exc:
        print(f"coo import-payments: {path.name}: {exc} Nothing was recorded.", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(render_report(report))
    return 0


def cmd_books(args: argparse.Namespace) -> int:
    from store.books_check import run_check

    store = _store(args, load_settings())
    try:
        result = run_check(store.db)
    finally:
        store.close()
    if result.ok:
        print(result.summary())
        return 0
    for problem in result.problems:  # one line each on stdout, for grep and scripts
        print(problem.line())
    print(result.summary(), file=sys.stderr)
    return 1


def cmd_retry(args: argparse.Namespace) -> int:
    from bot.run_commands import retry

    runtime = _runtime(args)
    try:
        return retry(runtime, args.run, yes=args.yes)
    finally:
        runtime.close()


def cmd_replay(args: argparse.Namespace) -> int:
    from bot.run_commands import replay

    runtime = _runtime(args)
    try:
        return replay(runtime, args.run, from_step=args.from_step)
    finally:
        runtime.close()


def cmd_rollback(args: argparse.Namespace) -> int:
    from bot.run_commands import rollback

    runtime = _runtime(args)
    try:
        return rollback(runtime, args.run)
    finally:
        runtime.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coo", description="coo — an AI chief operating officer for one-person companies"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("chat", help="chat with coo in this terminal (piped input works too)").set_defaults(func=cmd_chat)
    worker = sub.add_parser("worker", help="run RQ workers (needs COO_REDIS_URL)")
    worker.add_argument("--queues", help="comma-separated queue names (default: all agent queues)")
    worker.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    worker.set_defaults(func=cmd_worker)
    ledger = sub.add_parser("ledger", help="list runs, or show the events of one run")
    ledger.add_argument("run", nargs="?", help="a run id (a unique prefix is enough)")
    ledger.add_argument("--limit", type=int, default=20)
    ledger.set_defaults(func=cmd_ledger)
    parse = sub.add_parser("parse", help="print the intent coo makes of TEXT as JSON (- reads stdin, one per line)")
    parse.add_argument("text", nargs="*")
    parse.set_defaults(func=cmd_parse)
    ev = sub.add_parser("eval", help="offline parser accuracy on the phrasing set, and the CLINC150 misfire rate")
    ev.add_argument("--clinc", help="path to a CLINC150 jsonl file (default: ../shared/corpora/clinc150/test.jsonl)")
    ev.add_argument("--no-router", action="store_true", help="the rules alone, without the semantic router")
    ev.set_defaults(func=cmd_eval)
    digest = sub.add_parser("digest", help="print today's digest; --send posts it to the operators now")
    digest.add_argument("--send", action="store_true")
    digest.add_argument("--date", help="the local date of the digest (default: today)")
    digest.set_defaults(func=cmd_digest)
    tick = sub.add_parser(
        "tick",
        help="run a day's recurring work now: retainer invoices on their billing day, "
        "weekly client reports, deadline alerts (each only once)",
    )
    tick.add_argument("--date", help="the local date to run (default: today)")
    tick.set_defaults(func=cmd_tick)
    export = sub.add_parser("export", help="write one portable snapshot of everything (see README) to FILE")
    export.add_argument("file")
    export.set_defaults(func=cmd_export)
    imp = sub.add_parser("import", help="restore a snapshot into an empty database (SQLite ⇄ PostgreSQL)")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_import)
    bench = sub.add_parser("bench", help="benchmarks: parse time, message→reply latency, ledger overhead")
    bench.add_argument("--messages", type=int, help="messages per latency run (default 200; 20 with --quick)")
    bench.add_argument(
        "--postgres",
        help="PostgreSQL URL for the production-shape run (a temporary database is created on its server and dropped)",
    )
    bench.add_argument("--redis", help="Redis URL for the production-shape run (its DB is flushed before and after)")
    bench.add_argument("--quick", action="store_true", help="a smoke run: fewer messages and rounds")
    bench.add_argument(
        "--startup",
        action="store_true",
        help="only process start: `coo --help` and `coo parse TEXT` as whole processes, against a bare interpreter",
    )
    bench.add_argument("--runs", type=int, help="runs of each command with --startup (default 7; the median is shown)")
    bench.add_argument(
        "part",
        nargs="?",
        choices=["scale", "chaos"],
        help="scale: what one reply costs as the books grow; chaos: approval flows while services break (see README)",
    )
    scale = bench.add_argument_group("coo bench scale")
    scale.add_argument("--factor", help="comma-separated data factors (default 1,10; 1× = 50 clients, 5,000 invoices…)")
    scale.add_argument("--repeats", type=int, help="times each request is sent (default 3; the median is shown)")
    for volume in ("clients", "invoices", "ledger", "memories"):
        scale.add_argument(f"--{volume}", type=int, help=f"{volume} at 1× (smaller for a smoke run)")
    scale.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    scale.add_argument("--no-startup", action="store_true", help="skip the process-start figures")
    scale.add_argument(
        "--no-books", action="store_true", help="skip building and timing the books (process start, throughput only)"
    )
    scale.add_argument("--throughput", action="store_true", help="also two workers against a bare RQ job (Redis)")
    scale.add_argument("--jobs", type=int, help="jobs per throughput run (default 300)")
    scale.add_argument(
        "--rounds", type=int, help="throughput rounds, bare RQ and coo alternated (default 3; medians are shown)"
    )
    chaos = bench.add_argument_group("coo bench chaos")
    chaos.add_argument("--flows", type=int, help="approval flows over the single-fault phases (default 200)")
    chaos.add_argument("--all-flows", type=int, help="approval flows in the all-faults phase (default 60)")
    chaos.add_argument("--workers", type=int, help="`coo worker` processes (default 2)")
    chaos.add_argument("--phases", help="comma-separated phases (default workers,postgres,redis,smtp,serve,all)")
    chaos.add_argument("--channels", help="comma-separated channels of the flows (default slack,telegram,console)")
    chaos.add_argument("--settle", type=float, help="seconds flows get to finish after a phase (default 240)")
    bench.set_defaults(func=cmd_bench)
    serve = sub.add_parser(
        "serve", help="web app: Slack events, Telegram webhook, inbound e-mail (+ Socket Mode, polling)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)
    bench_slack = sub.add_parser("bench-slack", help="Slack ack latency: concurrent signed events against `coo serve`")
    bench_slack.add_argument("--events", type=int, default=50)
    bench_slack.add_argument("--database", help="database URL for coo serve (default: a fresh embedded SQLite file)")
    bench_slack.set_defaults(func=cmd_bench_slack)
    memory = sub.add_parser(
        "memory",
        help="semantic memory: stats, sync (index what is new), reembed (after "
        "changing COO_EMBEDDER), audit (stale, duplicate, orphaned, oversized), "
        "prune (remove what the audit found, after confirmation)",
    )
    memory.add_argument("action", nargs="?", choices=["stats", "sync", "reembed", "audit", "prune"], default="stats")
    memory.add_argument("--yes", action="store_true", help="prune without asking")
    memory.set_defaults(func=cmd_memory)
    bench_memory = sub.add_parser(
        "bench-memory",
        help="recall benchmark: recall@5/MRR per method and embedder, query latency at 1k/10k/100k memories",
    )
    bench_memory.add_argument(
        "--postgres",
        help="PostgreSQL server URL (a temporary database is created and dropped;"
        " default: COO_TEST_DATABASE_URL or postgresql://postgres@127.0.0.1:5432/postgres)",
    )
    bench_memory.add_argument(
        "--sizes",
        default="1000,10000,100000",
        help="memory counts for the latency runs (default 1000,10000,100000; k suffix ok)",
    )
    bench_memory.add_argument("--embedders", help="comma-separated embedders (default: every installed one)")
    bench_memory.add_argument(
        "--latency-embedder",
        help="embedder whose vectors fill the latency runs (default: "
        "hashing; a query's cost depends on the dimension and the index, and the "
        "transformer embeds ~140 filler texts/s, ~12 min per 100k)",
    )
    bench_memory.add_argument("--queries", type=int, default=200, help="timed queries per size and database")
    bench_memory.add_argument("--no-sqlite", action="store_true", help="skip the SQLite latency runs")
    bench_memory.add_argument("--quick", action="store_true", help="a smoke run: hashing only, small sizes")
    bench_memory.set_defaults(func=cmd_bench_memory)
    payments = sub.add_parser(
        "import-payments",
        help="match a bank or Stripe/PayPal CSV export to open invoices; "
        "records exact matches, lists the rest as questions",
    )
    payments.add_argument("file")
    payments.add_argument("--currency", help="currency of amounts when the file doesn't say (default USD)")
    payments.add_argument(
        "--date-format",
        help="the order of the file's dates when no date settles it: DMY (20/11/2026), MDY (11/20/2026), "
        "YMD, or a pattern such as %%d/%%m/%%Y",
    )
    payments.set_defaults(func=cmd_import_payments)
    books = sub.add_parser(
        "books",
        help="check: verify the books (paid amounts equal applied payments, no cross-currency payment, "
        "gapless unique invoice numbers, credits, a receipt for every sent invoice); exit 1 naming each problem",
    )
    books.add_argument("action", choices=["check"])
    books.set_defaults(func=cmd_books)
    playbooks = sub.add_parser(
        "playbooks",
        help="every playbook version: trigger, steps, runs on it, migration "
        "note (COO_PLAYBOOKS_DIR adds the operator's own)",
    )
    playbooks.set_defaults(func=cmd_playbooks)
    retry = sub.add_parser(
        "retry",
        help="re-run a failed run from its last good checkpoint (what went out is never sent twice; "
        "an e-mail that may have gone out is sent again only with --yes)",
    )
    retry.add_argument("run", help="a run id (a unique prefix is enough)")
    retry.add_argument(
        "--yes", action="store_true", help="send again an e-mail whose earlier attempt may have gone out"
    )
    retry.set_defaults(func=cmd_retry)
    replay = sub.add_parser(
        "replay",
        help="re-run a run on a fork (new run id, the original untouched; every side effect held for "
        "approval) and print how its decisions differ",
    )
    replay.add_argument("run", help="a run id (a unique prefix is enough)")
    replay.add_argument("--from", dest="from_step", metavar="STEP", help="re-run from this step of its plan")
    replay.set_defaults(func=cmd_replay)
    rollback = sub.add_parser(
        "rollback",
        help="undo what a run did, newest first, by compensating actions through the normal approvals "
        "(credit note for an invoice, correction e-mail, end a retainer, cancel a retry); lists what cannot be undone",
    )
    rollback.add_argument("run", help="a run id (a unique prefix is enough)")
    rollback.set_defaults(func=cmd_rollback)
    backup = sub.add_parser(
        "backup", help="a consistent copy of the database to FILE (SQLite backup API, or pg_dump); see README"
    )
    backup.add_argument("file")
    backup.set_defaults(func=cmd_backup)
    doctor = sub.add_parser(
        "doctor",
        help="check configuration, database, migrations, Redis, workers, Slack, Telegram, SMTP and disk; "
        "print each problem with its fix (exit 1 on problems)",
    )
    doctor.set_defaults(func=cmd_doctor)
    from bot.policy_cli import add_policy_parsers

    add_policy_parsers(sub)
    from bot.invoice_cli import add_parsers as add_invoice_parsers

    add_invoice_parsers(sub, _store, load_settings)
    return parser


def main(argv: list[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run one `coo` command. ``clock`` is the business clock (default: the wall clock in
    COO_TIMEZONE); tests pass a fixed one."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    args.clock = clock
    try:
        return int(args.func(args) or 0)
    except StoreError as exc:
        logging.getLogger("coo").error("store error: %s", exc)
        print(f"coo: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        # Imported only here: the settings module loads pydantic-settings, which `coo --help`
        # never needs, and the playbook module pulls in every step, which commands like
        # `coo parse` never need.
        from bot.config_error import ConfigError

        if isinstance(exc, ConfigError):
            print(f"coo: configuration error: {exc}", file=sys.stderr)
            return 2
        from agents.embedders import EmbedderUnavailable
        from graphs.playbooks import PlaybookError

        if isinstance(exc, EmbedderUnavailable):
            print(f"coo: configuration error: {exc}", file=sys.stderr)
            return 2
        if not isinstance(exc, PlaybookError):
            raise
        print(f"coo: invalid playbook: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
