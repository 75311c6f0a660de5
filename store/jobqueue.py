"""Where runs go to be worked on: RQ on Redis in production, a thread in process embedded.

Jobs are named by dotted path (``"bot.jobs.run_intent"``) and take keyword arguments, so both
queues run exactly the same functions, and RQ can import them in another process.
"""

from __future__ import annotations

import importlib
import logging
import queue
import threading
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel

from store.errors import StoreUnavailable

log = logging.getLogger(__name__)


class JobSpec(BaseModel):
    """How a job runs: which queue, how long it may take, how often it is retried."""

    queue: str = "default"
    timeout: int = 300
    retries: int = 2
    retry_intervals: list[int] = [5, 30]


class JobQueue(Protocol):
    def enqueue(self, func: str, job_id: str, spec: JobSpec, **kwargs: Any) -> bool:
        """Queue a job once; False when a job with this id was already queued."""
        ...

    def enqueue_at(self, when: datetime, func: str, job_id: str, spec: JobSpec, **kwargs: Any) -> bool:
        """Queue a job to run at ``when`` (UTC) once; False when that job id is already scheduled."""
        ...

    def wait_idle(self, timeout: float = 60) -> None:
        """Block until no job is queued or running (in-process only; RQ returns at once)."""
        ...

    def close(self) -> None: ...


_attempts_left: ContextVar[int] = ContextVar("attempts_left", default=0)


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


def resolve(func: str) -> Any:
    module, _, name = func.rpartition(".")
    return getattr(importlib.import_module(module), name)


class InProcessQueue:
    """One worker thread; jobs run in the order they were queued, retried like RQ would."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[str, str, JobSpec, dict[str, Any]] | None] = queue.Queue()
        # Recent job ids only: enough to refuse a duplicate enqueue, bounded for long-lived servers.
        self._seen: dict[str, None] = {}
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self._scheduled: set[str] = set()
        self._thread = threading.Thread(target=self._work, name="coo-inprocess-worker", daemon=True)
        self._thread.start()

    def enqueue(self, func: str, job_id: str, spec: JobSpec, **kwargs: Any) -> bool:
        with self._lock:
            if job_id in self._seen:
                return False
            self._seen[job_id] = None
            if len(self._seen) > 10_000:
                del self._seen[next(iter(self._seen))]
        self._jobs.put((func, job_id, spec, kwargs))
        return True

    def enqueue_at(self, when: datetime, func: str, job_id: str, spec: JobSpec, **kwargs: Any) -> bool:
        with self._lock:
            if job_id in self._seen or job_id in self._scheduled:
                return False
            self._scheduled.add(job_id)
        delay = max(0.0, (when - datetime.now(UTC)).total_seconds())
        timer = threading.Timer(delay, self.enqueue, args=(func, job_id, spec), kwargs=kwargs)
        timer.daemon = True  # a scheduled job dies with the process; the next start schedules it again
        timer.start()
        self._timers.append(timer)
        return True

    def _work(self) -> None:
        while True:
            item = self._jobs.get()
            try:
                if item is None:
                    return
                func, job_id, spec, kwargs = item
                for attempt in range(spec.retries + 1):
                    _attempts_left.set(spec.retries - attempt)
                    try:
                        resolve(func)(**kwargs)
                        break
                    except Exception:
                        log.exception("job %s failed (attempt %d of %d)", job_id, attempt + 1, spec.retries + 1)
            finally:
                self._jobs.task_done()

    def wait_idle(self, timeout: float = 60) -> None:
        self._jobs.join()

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._jobs.put(None)
        self._thread.join(timeout=5)


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

    def enqueue(self, func: str, job_id: str, spec: JobSpec, **kwargs: Any) -> bool:
        from redis.exceptions import RedisError
        from rq import Retry
        from rq.exceptions import DuplicateJobError

        try:
            self._queue(spec.queue).enqueue(
                func,
                kwargs=kwargs,
                job_id=job_id,
                job_timeout=spec.timeout,
                retry=Retry(max=spec.retries, interval=spec.retry_intervals) if spec.retries else None,
                result_ttl=86400,
                failure_ttl=7 * 86400,
                unique=True,
            )
        except DuplicateJobError:
            return False
        except RedisError as exc:
            raise StoreUnavailable(f"cannot reach Redis to queue the work: {exc}") from exc
        return True

    def enqueue_at(self, when: datetime, func: str, job_id: str, spec: JobSpec, **kwargs: Any) -> bool:
        from redis.exceptions import RedisError
        from rq.exceptions import DuplicateJobError

        try:
            self._queue(spec.queue).enqueue_at(
                when,
                func,
                kwargs=kwargs,
                job_id=job_id,
                job_timeout=spec.timeout,
                result_ttl=86400,
                failure_ttl=7 * 86400,
                unique=True,
            )
        except DuplicateJobError:
            return False
        except RedisError as exc:
            raise StoreUnavailable(f"cannot reach Redis to schedule the work: {exc}") from exc
        return True

    def wait_idle(self, timeout: float = 60) -> None:
        return None

    def close(self) -> None:
        self.redis.close()
