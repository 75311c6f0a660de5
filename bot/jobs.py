"""Job functions: what RQ (or the in-process queue) runs. Module-level so RQ can import them."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.runtime import Runtime, get_runtime
from store.errors import NotFound
from store.jobqueue import attempts_left

log = logging.getLogger(__name__)


def _guarded(runtime: Runtime, run_id: str, work: Callable[[], None]) -> None:
    try:
        work()
    except NotFound:
        # A job for a run this database never had (restored backup, wrong COO_DATABASE_URL):
        # retrying cannot help, and there is no thread to tell.
        log.error("job for run %s dropped: no such run in %s", run_id, runtime.settings.database)
        return
    except Exception as exc:
        log.exception("run %s failed", run_id)
        if attempts_left() > 0:
            raise  # the queue retries it; steps and side effects are idempotent
        run = runtime.store.runs.get(run_id)
        runtime.store.runs.set_status(run_id, "failed", error=str(exc)[:500])
        runtime.store.conversations.post(
            run.channel,
            run.thread_id,
            f"Sorry — run {run_id} failed: {exc}. Nothing was sent. The details are in `coo ledger {run_id}`.",
            run_id=run_id,
            dedupe=f"{run_id}:failed",
        )
        raise


def run_intent(run_id: str) -> None:
    """Start (or, after a crash, continue) the run for an accepted intent."""
    runtime = get_runtime()
    _guarded(runtime, run_id, lambda: runtime.supervisor.start(run_id))


def resume_run(run_id: str, approval_id: int) -> None:
    """Resume a run after the operator decided on its approval."""
    runtime = get_runtime()
    _guarded(runtime, run_id, lambda: runtime.supervisor.resume(run_id, approval_id))


def send_digest(day: str) -> None:
    """Post the digest for ``day`` (once) and schedule the next one."""
    from datetime import date

    from bot.digest import post_digest, schedule_next_digest

    runtime = get_runtime()
    post_digest(runtime, date.fromisoformat(day))
    schedule_next_digest(runtime)


def run_tick(day: str) -> None:
    """The day's recurring work: retainer invoices, weekly reports, deadline alerts (once each)."""
    from datetime import date

    from bot.ticks import tick_job

    tick_job(get_runtime(), date.fromisoformat(day))
