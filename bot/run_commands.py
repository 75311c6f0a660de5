"""`coo retry`, `coo replay`, `coo rollback`, and what `coo import` does for runs that were
waiting: the operator's commands on one run, each printing what it did."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable

from bot.runtime import Runtime
from graphs.replay import ReplayError, render, replay_run
from graphs.revival import finish_decided_runs, revive_waiting_runs
from graphs.rollback import RollbackError, rollback_run
from graphs.run_retry import retry_run


def revive_after_import(runtime: Runtime) -> str:
    """Re-plan the runs that waited for approval (their cards are shown again) and finish
    the ones decided just before the export; closes the runtime."""
    try:
        announced = revive_waiting_runs(runtime.supervisor)
        resumed = finish_decided_runs(runtime.supervisor)
        runtime.queue.wait_idle()
    finally:
        runtime.close()
    lines = []
    if announced:
        numbers = ", ".join(f"#{n}" for n in announced)
        lines.append(f"{len(announced)} approval(s) still waiting, shown again in their threads: {numbers}.")
    else:
        lines.append("No approvals were waiting.")
    if resumed:
        lines.append(f"{len(resumed)} run(s) decided before the export finished now: {', '.join(resumed)}.")
    return "\n".join(lines)


def _confirm_at_terminal(yes: bool) -> Callable[[str], bool]:
    """--yes answers yes; at a terminal the operator is asked; otherwise the answer is no."""

    def confirm(question: str) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            return False
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")

    return confirm


def _thread_since(runtime: Runtime, run_id: str | None, after: int) -> list[str]:
    """What coo posted in the run's thread since message ``after`` (what the operator now sees)."""
    if run_id is None:
        return []
    run = runtime.store.runs.find(run_id)
    if run is None:
        return []
    return [m.text for m in runtime.store.conversations.messages_after(run.channel, run.thread_id, after)]


def retry(runtime: Runtime, ref: str, *, yes: bool) -> int:
    """`coo retry RUN [--yes]`: prints what happened; 0 retried, 1 refused, 2 not confirmed."""
    by = f"cli:{getpass.getuser()}"
    after = runtime.store.conversations.last_message_id()
    outcome = retry_run(runtime.supervisor, ref, by=by, confirm=_confirm_at_terminal(yes))
    runtime.queue.wait_idle()
    if outcome.status == "refused":
        print(f"coo retry: {outcome.said}", file=sys.stderr)
        return 1
    if outcome.status == "asked":
        print(outcome.said, file=sys.stderr)
        return 2
    posted = [t for t in _thread_since(runtime, outcome.run_id, after) if t != outcome.said]
    print("\n".join([outcome.said, *posted]))
    return 0


def replay(runtime: Runtime, ref: str, *, from_step: str | None) -> int:
    """`coo replay RUN [--from STEP]`: the fork's decisions beside the original's."""
    try:
        result = replay_run(
            runtime.supervisor, ref, from_step=from_step, by=f"cli:{getpass.getuser()}", parser=runtime.parser
        )
    except ReplayError as exc:
        print(f"coo replay: {exc}", file=sys.stderr)
        return 1
    runtime.queue.wait_idle()
    print(render(result, runtime.store))
    return 0


def rollback(runtime: Runtime, ref: str) -> int:
    """`coo rollback RUN`: start every compensation; print each, and what cannot be undone."""
    after = runtime.store.conversations.last_message_id()
    try:
        run_id, done = rollback_run(runtime.conversation, ref, by=f"cli:{getpass.getuser()}")
    except RollbackError as exc:
        print(f"coo rollback: {exc}", file=sys.stderr)
        return 1
    runtime.queue.wait_idle()
    lines = [f"Rollback of run {run_id}, newest first:"]
    for comp in done:
        mark = "→" if comp.done else "✗"
        via = f" (run {comp.run_id})" if comp.run_id else ""
        lines.append(f"  {mark} {comp.undoes}: {comp.action}{via}")
    lines.append("Each step is in the ledger: coo ledger " + run_id)
    posted = _thread_since(runtime, run_id, after)
    if posted:
        lines.append("In the run's thread now:")
        lines.extend(posted)
    print("\n".join(lines))
    return 0
