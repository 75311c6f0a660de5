"""`coo bench chaos`: approval flows through Slack, Telegram and the console while things break
(issue #14).

Starts a rig of its own (bench.chaos_rig: a PostgreSQL cluster, Redis, `coo serve`, N `coo
worker` processes, long-running `coo chat` consoles, fake Slack and Telegram Web APIs, a
counting SMTP server), then runs one
phase per fault kind and one with every fault at once (bench.chaos_faults). In each phase the
driver (bench.chaos_flows) sends invoice requests, taps Approve on each card and waits for the
outcome while faults are injected; then the services are healed, the flows are given a bounded
time to finish, and the invariants are counted (bench.chaos_checks). Prints a table and a last
JSON line; exits 1 when an invariant was violated. Runs from a source checkout (tests/fakes).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass

from bench.chaos_checks import PhaseResult, busy_runs, check_flows, check_store, duplicates, secrets_in_logs
from bench.chaos_faults import FULL, KINDS, QUICK, Faults, Pace
from bench.chaos_flows import CHANNELS, Channel, Driver
from bench.chaos_rig import SIGNING_SECRET, SLACK_TOKEN, TG_SECRET, TG_TOKEN, Rig

PHASES = (*KINDS, "all")
FLOW_SECONDS = 1.0  # one new flow a second: what two workers on a loaded 2-core machine keep up with
CONSOLES = 2  # `coo chat` reads one line at a time: a flow held up by a fault holds its console up


@dataclass(frozen=True)
class Plan:
    phases: tuple[str, ...]
    flows: int  # over the single-fault phases
    all_flows: int  # in the all-faults phase
    workers: int
    settle: float  # seconds flows get to finish once the services are healed
    pace: Pace
    seed: int = 14
    channels: tuple[Channel, ...] = CHANNELS

    def flows_in(self, phase: str) -> int:
        singles = [p for p in self.phases if p != "all"]
        if phase == "all":
            return self.all_flows
        share, extra = divmod(self.flows, max(1, len(singles)))
        return share + (1 if singles.index(phase) < extra else 0)


def progress(text: str) -> None:
    print(f"bench chaos: {text}", file=sys.stderr, flush=True)


def run_phase(rig: Rig, driver: Driver, plan: Plan, phase: str, number: int) -> PhaseResult:
    count = plan.flows_in(phase)
    spread = max(4.0, count * FLOW_SECONDS)
    kinds = KINDS if phase == "all" else (phase,)
    faults = Faults(rig, kinds, plan.pace, seed=plan.seed + number)
    refused_before, failed_before = driver.requests_refused, driver.requests_5xx
    exits_before = len(rig.console_exits)
    flows = driver.add(phase, count, spread)
    progress(f"{phase}: {count} flows over {spread:.0f} s, faults: {', '.join(kinds)}")
    faults.start()
    time.sleep(spread + 4)  # the last flow's tap lands while faults still come
    faults.stop()
    crashed = rig.heal() + rig.console_exits[exits_before:]
    healed = time.monotonic()
    progress(f"{phase}: {faults.total} faults injected {faults.count}; services healed, settling…")
    deadline = healed + plan.settle
    busy: int | None = None
    while time.monotonic() < deadline and any(f.finished is None for f in flows):
        time.sleep(0.25)
    done = all(f.finished is not None for f in flows)
    # Quiet also means no run still moving: a run whose last step met a fault finishes after
    # its outcome line went out (the sweep queues it again); it is stuck only past the bound.
    while time.monotonic() < deadline and (busy := busy_runs(rig.pg.url)) != 0:
        time.sleep(1)
    quiet = time.monotonic() - healed if done and busy == 0 else None
    time.sleep(2)  # late duplicates: a second card or e-mail arrives after the first, if at all
    result = PhaseResult(
        phase=phase,
        flows=count,
        faults=faults.total,
        fault_kinds=dict(faults.count),
        acknowledged=0,
        answered=0,
        lost=0,
        duplicated_answers=0,
        duplicated_emails=0,
        uncertain=0,
        retrying=0,
        crashed=len(crashed),
        unfinished=0,
        stuck=0,
        number_gaps=0,
        missing_receipts=0,
        books_ok=True,
        recover_s=None if quiet is None else round(quiet, 1),
        max_flow_s=round(max((f.finished - f.due for f in flows if f.finished is not None), default=0.0), 1),
        unacknowledged_sends=driver.requests_refused - refused_before + driver.requests_5xx - failed_before,
    )
    result.details.extend(faults.errors)
    result.details.extend(f"{name} exited on its own during the phase" for name in crashed)
    check_flows(driver, flows, result)
    check_store(driver, result)
    return result


HEADER = (
    "phase",
    "flows",
    "faults",
    "acked",
    "answered",
    "lost",
    "dup mail",
    "dup ans",
    "uncertain",
    "retrying",
    "crashed",
    "unfinished",
    "stuck",
    "gaps",
    "no receipt",
    "books",
    "recover s",
    "max flow s",
)


def _row(r: PhaseResult) -> tuple[str, ...]:
    return (
        r.phase,
        str(r.flows),
        str(r.faults),
        str(r.acknowledged),
        str(r.answered),
        str(r.lost),
        str(r.duplicated_emails),
        str(r.duplicated_answers),
        str(r.uncertain),
        str(r.retrying),
        str(r.crashed),
        str(r.unfinished),
        str(r.stuck),
        str(r.number_gaps),
        str(r.missing_receipts),
        "ok" if r.books_ok else "FAIL",
        "-" if r.recover_s is None else f"{r.recover_s:.1f}",
        f"{r.max_flow_s:.1f}",
    )


def table(results: list[PhaseResult]) -> str:
    rows = [HEADER, *(_row(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)


def run(plan: Plan) -> tuple[list[PhaseResult], dict[str, object]]:
    """The whole run: the rig started, each phase in turn, the rig torn down."""
    rig = Rig(plan.workers, consoles=CONSOLES if "console" in plan.channels else 0)
    results: list[PhaseResult] = []
    late = 0
    started = time.monotonic()
    try:
        progress(
            f"starting PostgreSQL, Redis, coo serve, {plan.workers} workers and {len(rig.consoles)} consoles in {rig.dir}…"
        )
        rig.start()
        driver = Driver(rig, plan.channels)
        driver.start()
        try:
            for number, phase in enumerate(plan.phases):
                result = run_phase(rig, driver, plan, phase, number)
                results.append(result)
                progress(f"{phase}: " + json.dumps({k: v for k, v in result.as_json().items() if k != "details"}))
                for line in result.details[:20]:
                    progress(f"  {line}")
            late = duplicates(driver, driver.flows) - sum(r.duplicated_answers + r.duplicated_emails for r in results)
        finally:
            driver.stop()
    finally:
        rig.close()
    # No token or secret in any process's log (the Telegram token rides in every Bot API URL).
    leaked = secrets_in_logs(rig.logs(), (TG_TOKEN, SLACK_TOKEN, SIGNING_SECRET, TG_SECRET))
    for line in leaked[:5]:
        progress(f"a secret in the log at {line}")
    summary: dict[str, object] = {
        "flows": sum(r.flows for r in results),
        "flows_by_channel": {c: sum(1 for f in driver.flows if f.channel == c) for c in plan.channels},
        "faults": sum(r.faults for r in results),
        "lost": sum(r.lost for r in results),
        "duplicated_emails": sum(r.duplicated_emails for r in results),
        "late_duplicates": late,
        "secrets_in_logs": len(leaked),
        "violations": sum(r.violations for r in results) + len(leaked) + late,
        "seconds": round(time.monotonic() - started, 1),
        "workers": plan.workers,
        "logs": str(rig.dir),
    }
    return results, summary


def _phases(text: str | None) -> tuple[str, ...]:
    if not text:
        return PHASES
    chosen = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in chosen if p not in PHASES]
    if unknown or not chosen:
        raise SystemExit(f"coo bench chaos: --phases takes some of {','.join(PHASES)} (not {','.join(unknown)})")
    return chosen


def _channels(text: str | None) -> tuple[Channel, ...]:
    if not text:
        return CHANNELS
    chosen = tuple(c.strip() for c in text.split(",") if c.strip())
    unknown = [c for c in chosen if c not in CHANNELS]
    if unknown or not chosen:
        raise SystemExit(f"coo bench chaos: --channels takes some of {','.join(CHANNELS)} (not {','.join(unknown)})")
    return tuple(c for c in CHANNELS if c in chosen)


def main(args: argparse.Namespace) -> int:
    quick = bool(getattr(args, "quick", False))
    plan = Plan(
        phases=_phases(args.phases),
        flows=args.flows or (20 if quick else 200),
        all_flows=args.all_flows or (8 if quick else 60),
        workers=args.workers or 2,
        settle=args.settle or (120.0 if quick else 240.0),
        pace=QUICK if quick else FULL,
        channels=_channels(getattr(args, "channels", None)),
    )
    try:
        results, summary = run(plan)
    except ImportError:
        print("coo bench chaos runs from a source checkout (it needs tests/fakes).", file=sys.stderr)
        return 2
    print(
        f"coo bench chaos: {summary['flows']} approval flows ({', '.join(plan.channels)}) against coo serve, "
        f"{plan.workers} workers, PostgreSQL and Redis of its own; {summary['faults']} faults injected"
    )
    print(table(results))
    violated = int(str(summary["violations"]))
    print(
        f"duplicates after their phase was counted: {summary['late_duplicates']}; "
        f"secrets in the processes' logs: {summary['secrets_in_logs']}"
    )
    print(f"invariants: {'all held' if not violated else f'{violated} violation(s) — see the lines above'}")
    print(json.dumps({**summary, "phases": [r.as_json() for r in results]}))
    return 1 if violated else 0
