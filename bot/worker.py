"""`coo worker`: RQ workers on every agent queue, after re-queuing work saved while Redis was down."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from bot.digest import schedule_next_digest
from bot.intake import Intake
from bot.job_registry import QUEUES
from bot.jobs import schedule_send_retries
from bot.recovery import SWEEP_EVERY, sweep_once
from bot.rq_worker import MAINTENANCE_EVERY, WORKER_TTL, CooWorker, release_dead_schedulers
from bot.runtime import JOBS, Runtime
from bot.service_wait import RETRY_EVERY, wait_for_services
from bot.ticks import catch_up_tick, schedule_next_tick
from graphs.plans import plan_for, plan_for_run
from store.lost_jobs import BEAT_EVERY, beat
from store.outage import is_outage

log = logging.getLogger(__name__)


def requeue_saved_work(runtime: Runtime, *, running: bool = False) -> int:
    """Queue runs accepted but never queued (or lost with Redis), and decided approvals not yet
    resumed. ``running``: also runs left "running" (the embedded `coo serve` starting again after
    it stopped mid-run; they continue from their last checkpoint). On RQ, runs another worker
    may hold are left to the lost-work sweep (bot.recovery), which can tell."""
    count = 0
    store = runtime.store
    statuses = "('queued', 'running')" if running else "('queued')"
    for row in store.db.fetchall(f"SELECT id, kind FROM runs WHERE status IN {statuses}"):
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


class _Supervision:
    """Beside the RQ worker, in a thread: its heartbeat (store.lost_jobs) and the lost-work sweep
    (bot.recovery), so a run whose worker died is continued within seconds, not when RQ's own
    registry entry expires."""

    def __init__(self, runtime: Runtime, redis: Any, worker: Any) -> None:
        self.runtime = runtime
        self.redis = redis
        self.worker = worker
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="coo-worker-supervision", daemon=True)

    def start(self) -> None:
        beat(self.redis, self.worker.name)
        self.thread.start()

    def _run(self) -> None:
        last_sweep = 0.0
        failing = False
        while not self.stop.wait(BEAT_EVERY):
            try:
                beat(self.redis, self.worker.name)
                release_dead_schedulers(self.redis, self.worker.queue_names())
                if time.monotonic() - last_sweep >= SWEEP_EVERY:
                    last_sweep = time.monotonic()
                    recovered = sweep_once(self.runtime, self.worker.name)
                    if recovered.count:
                        log.info("re-queued %d lost job(s)", recovered.count)
                if failing:
                    log.info("supervision is back (database and Redis reachable)")
                failing = False
            except Exception as exc:  # the database or Redis may be restarting: next round
                if not failing:
                    log.warning("supervision sweep failed (%s: %s); retrying", type(exc).__name__, str(exc)[:200])
                failing = True


def run_worker(runtime: Runtime, queues: list[str] | None = None, burst: bool = False) -> None:
    from redis import Redis
    from rq import Queue

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
    while True:
        # SimpleWorker runs jobs in this process, so the runtime (pools, compiled graph) is built
        # once instead of once per forked job; a crash is recovered by the supervision thread.
        worker = CooWorker(
            [Queue(n, connection=redis) for n in names],
            connection=redis,
            # Idle workers look at the scheduler lock and the registries every few seconds instead
            # of every 10 minutes: a scheduler that died with its worker is taken over quickly.
            worker_ttl=WORKER_TTL,
            maintenance_interval=MAINTENANCE_EVERY,
        )
        supervision = _Supervision(runtime, redis, worker)
        if not burst:
            supervision.start()
        try:
            worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
        except Exception as exc:  # RQ's own tear-down fails too when Redis is gone
            if burst or not is_outage(exc):
                raise
        finally:
            supervision.stop.set()
        if burst or worker.stop_asked:
            return
        # RQ quits ("found an unhandled exception") when Redis drops outside its dequeue — the
        # heartbeat after a job, its maintenance — which left no worker at all after a Redis
        # restart (the chaos suite: every worker gone for minutes). Wait for Redis and work on.
        log.warning("coo worker: RQ stopped (Redis unreachable?); working again once Redis answers")
        time.sleep(RETRY_EVERY)
        wait_for_services(runtime.settings, "worker")
