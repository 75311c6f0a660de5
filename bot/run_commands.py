"""`coo retry`, `coo replay`, `coo rollback`, and what `coo import` does for runs that were
waiting: the operator's commands on one run, each printing what it did."""

from __future__ import annotations

from bot.runtime import Runtime
from graphs.revival import finish_decided_runs, revive_waiting_runs


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
