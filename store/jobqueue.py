"""Where runs go to be worked on: RQ on Redis in production, a thread in process embedded.

Jobs are named by dotted path (``"bot.jobs.run_intent"``) and take keyword arguments, so both
queues run exactly the same functions, and RQ can import them in another process.
"""

from __future__ import annotations

import heapq
import importlib
import itertools
import logging
import queue
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from store.clock import Clock
from store.errors import StoreUnavailable
from store.lost_jobs import JobState, claim_inline, forget, inline_state, job_state, release_inline
from store.outage import is_outage

log = logging.getLogger(__name__)


class JobSpec(BaseModel):
    """How a job runs: which queue, how long it may take, how often it is retried."""

    queue: str = "default"
    timeout: int = 300
    retries: int = 2
    retry_intervals: list[int] = [5, 30]
    # In process: runs only when no other job waits (RQ: the queue is listed last instead).
    low_priority: bool = False


class JobQueue(Protocol):
    def enqueue(self, func: str, job_id: str, spec: JobSpec, **kwargs: Any) -> bool:
        """Queue a job once; False when a job with this id was already queued."""
        ...

    def enqueue_at(self, when: datetime, func: str, job_id: str, spec: JobSpec, **kwargs: Any) -> bool:
        """Queue a job to run at ``when`` (UTC) once; False when that job id is already scheduled."""
        ...

    def depths(self) -> dict[str, int]:
        """Jobs waiting (queued or scheduled, not yet running) per queue name."""
        ...

    def wait_idle(self, timeout: float = 60) -> None:
        """Block until no job is queued or running (in-process only; RQ returns at once)."""
        ...

    def pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less when a job of this process finishes (in-process only; RQ's
        jobs finish elsewhere, so it sleeps): a poller looks again as soon as there is news."""
        ...

    def close(self) -> None: ...


_attempts_left: ContextVar[int] = ContextVar("attempts_left", default=0)
_running: ContextVar[tuple[str, int] | None] = ContextVar("running_job", default=None)
RETRIES_META = "coo_retries"  # an RQ job's meta: how many retries it was queued with


def attempts_left() -> int:
    """How many more times the current job will be tried if it fails now."""
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:  # no RQ context
        job = None
    if job is not None:
        return int(job.retries_left or 0)
    return _attempts_left.get()


def current_attempt() -> tuple[str, int] | None:
    """(job id, attempt from 1) of the job running here, on either queue; None outside a job, or
    for an RQ job queued without its retry count (before coo recorded it)."""
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:  # no RQ context
        job = None
    if job is None:
        return _running.get()
    retries = job.meta.get(RETRIES_META)
    if retries is None:
        return None
    # RQ counts retries_left down by one for each retry it queues; the first attempt has them all.
    return str(job.id), int(retries) - int(job.retries_left or 0) + 1


def resolve(func: str) -> Any:
    module, _, name = func.rpartition(".")
    return getattr(importlib.import_module(module), name)


class InProcessQueue:
    """One worker thread; jobs run in the order they were queued, retried like RQ would.

    Scheduled jobs wait on the runtime's clock, not the machine's: a test that pins the clock
    never sees tomorrow's digest fire today, and one that advances it sees the job run, as RQ's
    scheduler would. A scheduler thread re-reads the clock at least every ``poll`` seconds."""

    def __init__(self, clock: Clock | None = None, *, poll: float = 0.5) -> None:
        self.clock = clock or Clock()
        self._poll = poll
        # (priority, order, job): low-priority jobs wait behind every other; FIFO otherwise.
        self._jobs: queue.PriorityQueue[tuple[int, int, tuple[str, str, JobSpec, dict[str, Any]] | None]] = (
            queue.PriorityQueue()
        )
        self._sequence = itertools.count()
        # Recent job ids only: enough to refuse a duplicate enqueue, bounded for long-lived servers.
        self._seen: dict[str, None] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._closed = False
        self._finished = threading.Condition()  # notified after each job (pause)
        self._schedule: list[tuple[datetime, int, str, str, JobSpec, dict[str, Any]]] = []
        self._scheduled: set[str] = set()
        self._order = 0
        self._thread = threading.Thread(target=self._work, name="coo-inprocess-worker", daemon=True)
        self._thread.start()
        self._scheduler = threading.Thread(target=self._run_schedule, name="coo-inprocess-scheduler", daemon=True)
        self._scheduler.start()

    def enqueue(self, func: str, job_id: str, spec: JobSpec, **kwargs: Any) -> bool:
        with self._lock:
            if job_id in self._seen:
                return False
            self._seen[job_id] = None
            if len(self._seen) > 10_000:
                del self._seen[next(iter(self._seen))]
        self._jobs.put((1 if spec.low_priority else 0, next(self._sequence), (func, job_id, spec, kwargs)))
        return True

    def enqueue_at(self, when: datetime, func: str, job_id: str, spec: JobSpec, **kwargs: Any) -> bool:
        # A scheduled job lives as long as the process; the next start schedules it again.
        with self._wake:
            if job_id in self._seen or job_id in self._scheduled:
                return False
            self._scheduled.add(job_id)
            self._order += 1
            heapq.heappush(self._schedule, (when, self._order, func, job_id, spec, kwargs))
            self._wake.notify()
        return True

    def depths(self) -> dict[str, int]:
        with self._jobs.mutex:  # a snapshot of what waits; queue.Queue exposes its heap
            waiting = [job[2].queue for _, _, job in self._jobs.queue if job is not None]
        with self._lock:
            waiting += [spec.queue for _, _, _, _, spec, _ in self._schedule]
        counts: dict[str, int] = {}
        for name in waiting:
            counts[name] = counts.get(name, 0) + 1
        return counts

    def scheduled(self) -> list[tuple[datetime, str]]:
        """What waits on the schedule, soonest first, as (when, job id)."""
        with self._lock:
            return [(when, job_id) for when, _, _, job_id, _, _ in sorted(self._schedule)]

    def run_due(self) -> int:
        """Queue every scheduled job whose time has come on the clock; how many were queued."""
        now = self.clock.now()
        due = []
        with self._lock:
            while self._schedule and self._schedule[0][0] <= now:
                due.append(heapq.heappop(self._schedule))
        for _, _, func, job_id, spec, kwargs in due:
            with self._lock:
                self._scheduled.discard(job_id)
            self.enqueue(func, job_id, spec, **kwargs)
        return len(due)

    def _run_schedule(self) -> None:
        while True:
            self.run_due()
            with self._wake:
                if self._closed:
                    return
                wait = self._poll
                if self._schedule:
                    # never longer than the poll: a test's clock can jump ahead at any moment
                    wait = min(wait, max(0.0, (self._schedule[0][0] - self.clock.now()).total_seconds()))
                self._wake.wait(wait)

    def _work(self) -> None:
        while True:
            _, _, item = self._jobs.get()
            try:
                if item is None:
                    return
                func, job_id, spec, kwargs = item
                for attempt in range(spec.retries + 1):
                    _attempts_left.set(spec.retries - attempt)
                    _running.set((job_id, attempt + 1))
                    try:
                        resolve(func)(**kwargs)
                        break
                    except Exception as exc:
                        log.exception("job %s failed (attempt %d of %d)", job_id, attempt + 1, spec.retries + 1)
                        if is_outage(exc) and attempt < spec.retries and spec.retry_intervals:
                            # Trying again at once cannot outlive a database restart; the backoff can.
                            intervals = spec.retry_intervals
                            time.sleep(min(intervals[min(attempt, len(intervals) - 1)], 10))
            finally:
                self._jobs.task_done()
                with self._finished:
                    self._finished.notify_all()

    def wait_idle(self, timeout: float = 60) -> None:
        self._jobs.join()

    def pause(self, seconds: float) -> None:
        # A job finishing between the caller's look and this wait costs it at most ``seconds``.
        with self._finished:
            self._finished.wait(seconds)

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._schedule.clear()
            self._wake.notify()
        self._jobs.put((2, next(self._sequence), None))  # after the queued work
        self._thread.join(timeout=5)
        self._scheduler.join(timeout=5)


class HeldJob(BaseModel):
    """A job a worker claimed to run itself (RQQueue.hold) instead of queuing it."""

    func: str
    job_id: str
    spec: JobSpec
    kwargs: dict[str, Any]


class _Hold:
    def __init__(self, queues: Collection[str], funcs: Collection[str], worker_name: str, max_timeout: int) -> None:
        self.queues = set(queues)
        self.funcs = set(funcs)
        self.worker_name = worker_name
        self.max_timeout = max_timeout
        self.jobs: list[HeldJob] = []


_holding: ContextVar[_Hold | None] = ContextVar("holding", default=None)
# A claim outlives the job's own timeout by this much: a worker that hangs past it loses the job.
CLAIM_MARGIN = 60


class RQQueue:
    """RQ on Redis: ``coo worker`` processes pick the jobs up."""

    def __init__(self, redis_url: str) -> None:
        from redis import Redis

        self.redis = Redis.from_url(redis_url)
        self._queues: dict[str, Any] = {}

    def _queue(self, name: str) -> Any:
        from rq import Queue

        if name not in self._queues:
            self._queues[name] = Queue(name, connection=self.redis)
        return self._queues[name]

    @staticmethod
    def _retry(spec: JobSpec) -> Any:
        from rq import Retry

        return Retry(max=spec.retries, interval=spec.retry_intervals) if spec.retries else None

    @contextmanager
    def hold(
        self, queues: Collection[str], funcs: Collection[str], worker_name: str, *, max_timeout: int
    ) -> Iterator[list[HeldJob]]:
        """Within the block, the first job of one of ``funcs`` for one of ``queues`` (those the
        worker ``worker_name`` serves), with a timeout of at most ``max_timeout``, is not queued: it is claimed for that worker, which runs
        it itself once the block ends (the list yielded), and the lost-work sweep sees it live
        as long as the worker is (store.lost_jobs.claim_inline). If the block raises, what it
        held is queued after all."""
        hold = _Hold(queues, funcs, worker_name, max_timeout)
        token = _holding.set(hold)
        try:
            yield hold.jobs
        except BaseException:
            _holding.reset(token)
            for job in hold.jobs:
                self.requeue_held(job)
            raise
        _holding.reset(token)

    def requeue_held(self, job: HeldJob) -> bool:
        """Queue a held job after all (its worker could not run it to the end)."""
        self.release_held(job)
        return self.enqueue(job.func, job.job_id, job.spec, **job.kwargs)

    def release_held(self, job: HeldJob) -> None:
        from redis.exceptions import RedisError

        try:
            release_inline(self.redis, job.job_id)
        except RedisError as exc:
            raise StoreUnavailable(f"cannot reach Redis to release {job.job_id}: {exc}") from exc

    def _held(self, func: str, job_id: str, spec: JobSpec, kwargs: dict[str, Any]) -> bool:
        hold = _holding.get()
        # One job per block: the others go to the queue, where any free worker can take them.
        if hold is None or hold.jobs or func not in hold.funcs or spec.queue not in hold.queues:
            return False
        if spec.timeout > hold.max_timeout:
            return False  # longer than RQ gives the job that holds it: its own job, its own timeout
        if not claim_inline(self.redis, job_id, hold.worker_name, spec.timeout + CLAIM_MARGIN):
            return False
        hold.jobs.append(HeldJob(func=func, job_id=job_id, spec=spec, kwargs=kwargs))
        return True

    def enqueue(self, func: str, job_id: str, spec: JobSpec, **kwargs: Any) -> bool:
        def put() -> None:
            self._queue(spec.queue).enqueue(
                func,
                kwargs=kwargs,
                job_id=job_id,
                job_timeout=spec.timeout,
                retry=self._retry(spec),
                meta={RETRIES_META: spec.retries},
                result_ttl=86400,
                failure_ttl=7 * 86400,
                unique=True,
            )

        from redis.exceptions import RedisError

        try:
            if self._held(func, job_id, spec, kwargs):
                return True
        except RedisError as exc:
            raise StoreUnavailable(f"cannot reach Redis to queue the work: {exc}") from exc
        return self._once(job_id, put, "queue")

    def enqueue_at(self, when: datetime, func: str, job_id: str, spec: JobSpec, **kwargs: Any) -> bool:
        def put() -> None:
            self._queue(spec.queue).enqueue_at(
                when,
                func,
                kwargs=kwargs,
                job_id=job_id,
                job_timeout=spec.timeout,
                # A scheduled job (the tick, the digest) is retried like any other, as in process.
                retry=self._retry(spec),
                meta={RETRIES_META: spec.retries},
                result_ttl=86400,
                failure_ttl=7 * 86400,
                unique=True,
            )

        return self._once(job_id, put, "schedule")

    def _once(self, job_id: str, put: Any, verb: str) -> bool:
        """Queue a job under its fixed id once. RQ refuses an id whose hash is still there; when
        that hash stands for nothing that will run (a worker died holding it, it failed, it fell
        out of its queue) the leftover is cleared and the job queued again, said in the log."""
        from redis.exceptions import RedisError
        from rq.exceptions import DuplicateJobError

        try:
            if inline_state(self.redis, job_id) == "live":
                return False  # a live worker runs it in process (hold)
            try:
                put()
                return True
            except DuplicateJobError:
                state = job_state(self.redis, job_id)
                if state in ("live", "finished"):
                    return False
                log.warning("job %s was lost by the queue (%s); queued again", job_id, state)
                forget(self.redis, job_id)
                try:
                    put()
                except DuplicateJobError:
                    return False  # another process re-queued it first
                return True
        except RedisError as exc:
            raise StoreUnavailable(f"cannot reach Redis to {verb} the work: {exc}") from exc

    def state(self, job_id: str) -> JobState:
        """Where the job with this id stands (store.lost_jobs.job_state)."""
        from redis.exceptions import RedisError

        try:
            return job_state(self.redis, job_id)
        except RedisError as exc:
            raise StoreUnavailable(f"cannot reach Redis: {exc}") from exc

    def depths(self) -> dict[str, int]:
        from redis.exceptions import RedisError
        from rq import Queue
        from rq.registry import ScheduledJobRegistry

        try:
            counts: dict[str, int] = {}
            for queue in Queue.all(connection=self.redis):
                counts[queue.name] = queue.count + ScheduledJobRegistry(queue=queue).count
            return counts
        except RedisError as exc:
            raise StoreUnavailable(f"cannot reach Redis to count the queues: {exc}") from exc

    def wait_idle(self, timeout: float = 60) -> None:
        return None

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)

    def close(self) -> None:
        self.redis.close()
