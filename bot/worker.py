"""`coo worker`: RQ workers on every agent queue, after re-queuing work saved while Redis was down."""

from __future__ import annotations

import logging

from bot.digest import schedule_next_digest
from bot.intake import Intake
from bot.job_registry import QUEUES
from bot.jobs import schedule_send_retries
from bot.runtime import JOBS, Runtime
from bot.ticks import catch_up_tick, schedule_next_tick
from graphs.plans import plan_for, plan_for_run

log = logging.getLogger(__name__)


def requeue_saved_work(runtime: Runtime) -> int:
    """Queue runs accepted but never queued (or lost with Redis), and decided approvals not yet resumed."""
    count = 0
    store = runtime.store
    for row in store.db.fetchall("SELECT id, kind FROM runs WHERE status = 'queued'"):
        plan = plan_for(row["kind"])
        if plan and runtime.queue.enqueue(JOBS.run, f"run-{row['id']}", plan.agent.job_spec(), run_id=row["id"]):
            count += 1
    decided = store.db.fetchall(
        "SELECT a.id, a.run_id, r.kind FROM approvals a JOIN runs r ON r.id = a.run_id"
        # "resuming": decided while the queue was down, so the resume job never got queued
        " WHERE a.status <> 'pending' AND r.status IN ('waiting_approval', 'resuming')"
    )
    for row in decided:
        plan = plan_for_run(store.runs, row["run_id"], row["kind"])
        if plan and runtime.queue.enqueue(
            JOBS.resume,
            f"resume-{row['run_id']}-{row['id']}",
            plan.agent.job_spec(),
            run_id=row["run_id"],
            approval_id=row["id"],
        ):
            count += 1
    return count


def run_worker(runtime: Runtime, queues: list[str] | None = None, burst: bool = False) -> None:
    from redis import Redis
    from rq import Queue, SimpleWorker

    assert runtime.settings.redis_url
    redis = Redis.from_url(runtime.settings.redis_url)
    requeued = (
        requeue_saved_work(runtime)
        + Intake(runtime.store, runtime.queue).sweep(limit=10_000)
        + schedule_send_retries(runtime)
    )
    if requeued:
        log.info("re-queued %d saved job(s)", requeued)
    day, moment = schedule_next_digest(runtime)
    log.info("next digest: %s at %s UTC", day, moment.isoformat())
    if catch_up_tick(runtime):
        log.info("today's tick (invoices, weekly reports, deadlines) queued now: its time has passed")
    day, moment = schedule_next_tick(runtime)
    log.info("next tick: %s at %s UTC", day, moment.isoformat())
    names = queues or list(QUEUES)
    # SimpleWorker runs jobs in this process, so the runtime (pools, compiled graph) is built
    # once instead of once per forked job; a crash is still recovered by RQ's abandoned-job retry.
    worker = SimpleWorker([Queue(n, connection=redis) for n in names], connection=redis)
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
