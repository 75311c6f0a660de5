"""The RQ worker `coo worker` runs: RQ's SimpleWorker, with its scheduler named after it, so
that a scheduler lock left by a worker that died (SIGKILL, a lost machine) is released as soon
as its heartbeat stops, instead of blocking every retry and scheduled job for a minute or more.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from typing import Any

from rq import SimpleWorker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.scheduler import SCHEDULER_LOCKING_KEY_TEMPLATE, RQScheduler

from store.lost_jobs import coo_worker_dead

log = logging.getLogger(__name__)

# The CooWorker running the current job, in its own process (SimpleWorker: jobs run in it).
_serving: ContextVar[CooWorker | None] = ContextVar("serving_worker", default=None)


def serving_worker() -> CooWorker | None:
    """The `coo worker` whose job runs here, if any (None in `coo serve`'s queue, in a test)."""
    return _serving.get()


# RQ's defaults (420 s, 10 min) make an idle worker look at the scheduler lock and the job
# registries every ten minutes; these make it every few seconds.
WORKER_TTL = 30
MAINTENANCE_EVERY = 20
# A plain heartbeat within this many seconds of the last is not sent (CooWorker.heartbeat).
BEAT_AGAIN_AFTER = 1.0


class CooWorker(SimpleWorker):
    # Set when SIGTERM/SIGINT (or RQ's shutdown command) asked it to stop: `coo worker` then
    # exits; RQ quitting for any other reason (Redis gone mid-loop) is worked through.
    stop_asked = False

    def request_stop(self, signum: Any, frame: Any) -> None:
        self.stop_asked = True
        super().request_stop(signum, frame)

    def perform_job(self, job: Any, queue: Any, execution: Any) -> bool:
        token = _serving.set(self)
        try:
            return bool(super().perform_job(job, queue, execution))
        finally:
            _serving.reset(token)

    # When the last beat with RQ's own TTL went out (monotonic), 0 after any other beat.
    _beat_at = 0.0

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        # RQ's heartbeat is three commands (the worker's last beat and two expiries), each its
        # own round trip unless a pipeline is given, and it beats three times per job: sent as
        # one pipeline, a job's bookkeeping takes six fewer round trips (a fifth of a run's).
        if timeout is not None:
            self._beat_at = 0.0  # a job's beat sets another TTL: the next plain beat goes out
            super().heartbeat(timeout, pipeline=pipeline)
            return
        if pipeline is not None:  # riding on another command's round trip (RQ's suspension check)
            super().heartbeat(timeout, pipeline=pipeline)
            self._beat_at = time.monotonic()
            return
        # Between two jobs RQ beats four times in a row (after the job, with its suspension check,
        # before and after the dequeue), each renewing the worker's key for WORKER_TTL + 60 s: a
        # plain one within a second of the last leaves that key over a minute to live, so it is
        # skipped (two round trips a job).
        if time.monotonic() - self._beat_at < BEAT_AGAIN_AFTER:
            return
        with self.connection.pipeline() as pipe:
            super().heartbeat(timeout, pipeline=pipe)
            pipe.execute()
        self._beat_at = time.monotonic()

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
    ) -> None:
        # RQ's own start-up, but the scheduler carries this worker's name (RQ gives it a random
        # one), so its lock names the worker whose heartbeat says whether it is still there.
        self.scheduler = RQScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
            name=self.name,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()


def release_dead_schedulers(redis: Any, queue_names: list[str]) -> int:
    """Delete scheduler locks held by `coo worker`s that died; how many."""
    released = 0
    for name in queue_names:
        key = SCHEDULER_LOCKING_KEY_TEMPLATE % name
        holder = redis.get(key)
        if holder is None:
            continue
        holder_name = holder.decode() if isinstance(holder, bytes) else str(holder)
        if coo_worker_dead(redis, holder_name):
            # Only if it is still that worker's: another scheduler may have taken it meanwhile.
            with redis.pipeline() as pipe:
                pipe.watch(key)
                if pipe.get(key) == holder:
                    pipe.multi()
                    pipe.delete(key)
                    pipe.execute()
                    released += 1
                    log.warning("released the scheduler lock of %s for %s: that worker stopped", holder_name, name)
    return released
