"""The lost-work sweep: every run that is not finished has a job that will move it on, or an
approval the operator has not answered yet; every input saved in the inbox is processed.

The ledger and the runs table are the truth, the queue only a means: the sweep compares runs
in a non-final state (and inbox items not yet done) with what RQ holds, and queues again
whatever nothing will run — a job lost by a worker that died between taking and starting it,
a job whose worker was killed mid-run (seen within seconds by the workers' heartbeats,
store.lost_jobs), a job that failed because the database was restarting, every job after
Redis was flushed (and the next digest and tick, which live only in Redis). A run continues
from its last checkpoint (graphs.supervisor); when the operator has waited noticeably, one
line in the thread says so. `coo worker` and `coo serve` run it every few seconds (one process
at a time, under a Redis lock).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from bot.digest import schedule_next_digest
from bot.job_registry import JOBS as JOB_REGISTRY
from bot.jobs import schedule_send_retries
from bot.runtime import JOBS, Runtime
from bot.ticks import schedule_next_tick
from graphs.plans import plan_for_run
from store.errors import NotFound
from store.jobqueue import RQQueue
from store.lost_jobs import JobState
from store.models import Run

log = logging.getLogger(__name__)

SWEEP_EVERY = 5.0  # seconds between sweeps
# A run or an input younger than this may be between its commit and its enqueue: left alone.
GRACE = timedelta(seconds=5)
# Recovering later than this after the run last moved is worth a line in its thread.
NOTICEABLE = timedelta(seconds=10)
_LOCK = "coo:lost-work-sweep"


class Recovered(BaseModel):
    """What one sweep queued again."""

    runs: list[str] = []
    inbox: list[int] = []

    @property
    def count(self) -> int:
        return len(self.runs) + len(self.inbox)


class _Job(BaseModel):
    func: str
    job_id: str
    kwargs: dict[str, Any]


def _candidates(runtime: Runtime, run: Run) -> list[_Job]:
    """The jobs that move this run on, the one responsible now first: the resume for its
    latest decided approval, else the run's own job."""
    rows = runtime.store.db.fetchall("SELECT id, status FROM approvals WHERE run_id = ? ORDER BY id DESC", (run.id,))
    jobs = [
        _Job(
            func=JOBS.resume,
            job_id=f"resume-{run.id}-{row['id']}",
            kwargs={"run_id": run.id, "approval_id": row["id"]},
        )
        for row in rows
        if row["status"] != "pending"
    ]
    if run.status in ("queued", "running"):
        jobs.append(_Job(func=JOBS.run, job_id=f"run-{run.id}", kwargs={"run_id": run.id}))
    return jobs


def sweep_lost_work(runtime: Runtime, *, limit: int = 500) -> Recovered:
    """Queue again every job RQ lost (see the module's doc); what was queued."""
    queue = runtime.queue
    if not isinstance(queue, RQQueue):
        return Recovered()  # the in-process queue loses work only with its process (start-up re-queues it)
    store = runtime.store
    now = store.clock.now()
    recovered = Recovered()
    rows = store.db.fetchall(
        "SELECT * FROM runs r WHERE status IN ('queued', 'running', 'resuming', 'waiting_approval')"
        " AND updated_at < ? AND NOT (status = 'waiting_approval' AND EXISTS"
        " (SELECT 1 FROM approvals a WHERE a.run_id = r.id AND a.status = 'pending'))"
        " ORDER BY updated_at LIMIT ?",
        (now - GRACE, limit),
    )
    for row in rows:
        run = Run.model_validate(row)
        jobs = _candidates(runtime, run)
        if not jobs:
            continue
        states: dict[str, JobState] = {job.job_id: queue.state(job.job_id) for job in jobs}
        if any(state == "live" for state in states.values()):
            continue
        # The newest job RQ still knows of is the one that was moving the run on.
        job = next((j for j in jobs if states[j.job_id] != "missing"), jobs[0])
        state = states[job.job_id]
        job_id = job.job_id
        if state == "finished":
            # It returned, yet the run is not final: move it once more (every step is
            # idempotent) — a run past a decision by its resume, which continues a checkpoint or
            # re-plans up to the decided gate; a fixed id, so a run that still does not finish is
            # not retried forever.
            job_id = f"{job.job_id}-again"
            again = queue.state(job_id)
            if again == "live":
                continue
            if again == "finished":
                _give_up(runtime, run, job_id)
                continue
            job = _Job(func=job.func, job_id=job_id, kwargs=job.kwargs)
        plan = plan_for_run(store.runs, run.id, run.kind)
        if plan is None:
            continue
        if not queue.enqueue(job.func, job_id, plan.agent.job_spec(), **job.kwargs):
            continue
        log.warning(
            "run %s (%s) had no job that would run it (%s was %s); queued it again",
            run.id,
            run.status,
            job.job_id,
            state,
        )
        store.ledger.append(run.id, "recovery", "requeued", {"job": job_id, "was": state, "status": run.status})
        recovered.runs.append(run.id)
        if run.status in ("running", "resuming") and now - run.updated_at >= NOTICEABLE:
            store.conversations.post(
                run.channel,
                run.thread_id,
                f"(A worker stopped while preparing {_what(runtime, run)}; continuing.)",
                run_id=run.id,
                dedupe=f"{run.id}:recovered:{job_id}:{run.updated_at.isoformat()}",
            )
    inbox_job = JOB_REGISTRY["inbox"]
    items = store.db.fetchall(
        "SELECT id FROM inbox WHERE status = 'queued' AND queued_at < ? ORDER BY id LIMIT ?", (now - GRACE, limit)
    )
    for item in items:
        job_id = f"inbox-{item['id']}"
        state = queue.state(job_id)
        if state in ("live", "finished"):
            continue
        if queue.enqueue(inbox_job.func, job_id, inbox_job.spec, item_id=item["id"]):
            log.warning("inbox item %d had no job that would process it (%s); queued it again", item["id"], state)
            recovered.inbox.append(int(item["id"]))
    # A scheduled attempt at a failed send whose job failed (the database was restarting) or
    # vanished with Redis is scheduled again; one that ran is not (graphs.sending).
    schedule_send_retries(runtime)
    # The next digest and tick live only in Redis: after a flush they are put back now, not at
    # the next worker start (a no-op while they are scheduled).
    schedule_next_digest(runtime)
    schedule_next_tick(runtime)
    return recovered


def _give_up(runtime: Runtime, run: Run, job_id: str) -> None:
    """Moved twice by jobs that returned, and still not final: no sweep would ever finish it, so
    the run fails, in the open, and the operator can retry it."""
    store = runtime.store
    log.error("run %s is still %s after %s returned; marked failed (coo retry %s)", run.id, run.status, job_id, run.id)
    store.ledger.append(run.id, "recovery", "gave_up", {"job": job_id, "status": run.status}, dedupe=job_id)
    store.runs.set_status(run.id, "failed", error=f"still {run.status} after recovery")
    store.conversations.post(
        run.channel,
        run.thread_id,
        f"Sorry — {_what(runtime, run)} stopped and could not be continued on its own. "
        f"`coo retry {run.id}` tries again; the details are in `coo ledger {run.id}`.",
        run_id=run.id,
        dedupe=f"{run.id}:gave-up",
    )


def _what(runtime: Runtime, run: Run) -> str:
    """The operator's own words for the run ("invoice Northwind $2,000 …"), else its kind."""
    try:
        text = " ".join(runtime.store.conversations.intent_for_run(run.id).text.split())
    except NotFound:
        text = ""
    if not text:
        return f"the {run.kind.replace('_', ' ')}"
    return f"“{text[:77]}…”" if len(text) > 80 else f"“{text}”"


def sweep_once(runtime: Runtime, holder: str) -> Recovered:
    """One sweep, if no other process is sweeping right now (a short Redis lock)."""
    queue = runtime.queue
    if not isinstance(queue, RQQueue):
        return Recovered()
    if not queue.redis.set(_LOCK, holder, nx=True, ex=max(1, int(SWEEP_EVERY) - 1)):
        return Recovered()
    return sweep_lost_work(runtime)
