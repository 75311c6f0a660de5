"""Jobs RQ lost, told apart from jobs it still holds.

Every coo job has a fixed id and is queued with ``unique=True``, so a job's hash that outlives
the job itself blocks it from ever being queued again: a worker killed between taking a job
and starting it leaves the job in no queue; a worker killed mid-job leaves it "started" for
as long as its registry entry lasts; a failed job keeps its hash for a week. This module says
whether a job id still stands for work that will happen, and clears what does not, so that
queuing it again works.

Workers started by `coo worker` keep a short-lived heartbeat key (:func:`beat`): a started job
whose worker stopped beating is lost within seconds, not when RQ's registry entry expires.

A job a worker runs itself, inside the job that queued it, instead of through RQ (a run
started by the message that asked for it, bot.jobs) has no RQ hash: a short-lived key names
the worker running it (:func:`claim_inline`), and it is live as long as that worker is.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

log = logging.getLogger(__name__)

JobState = Literal["live", "finished", "lost", "missing"]

# A coo worker refreshes its heartbeat every BEAT_EVERY seconds; it is dead BEAT_TTL seconds
# after the last one (a SIGKILL, a lost machine).
BEAT_EVERY = 3
BEAT_TTL = 12
_ALIVE = "coo:worker-alive:{}"
_BORN = "coo:worker-born:{}"
_INLINE = "coo:inline:{}"


def beat(redis: Any, worker_name: str) -> None:
    """This worker is alive (call every BEAT_EVERY seconds from a thread of its own)."""
    with redis.pipeline() as pipe:
        pipe.set(_ALIVE.format(worker_name), 1, ex=BEAT_TTL)
        # Marks the worker as one that beats: a worker without the mark (`rq worker`, a test's
        # burst worker) is judged by RQ's own worker key instead.
        pipe.set(_BORN.format(worker_name), 1, ex=7 * 86400)
        pipe.execute()


def worker_alive(redis: Any, worker_name: str | None) -> bool:
    if not worker_name:
        return False
    if redis.exists(_ALIVE.format(worker_name)):
        return True
    if redis.exists(_BORN.format(worker_name)):
        return False  # a coo worker that stopped beating
    return bool(redis.exists(f"rq:worker:{worker_name}"))


def claim_inline(redis: Any, job_id: str, worker_name: str, ttl: int) -> bool:
    """Mark ``job_id`` as run by ``worker_name`` in process, outside RQ, for at most ``ttl``
    seconds; False when the id is marked already."""
    return bool(redis.set(_INLINE.format(job_id), worker_name, nx=True, ex=ttl))


def release_inline(redis: Any, job_id: str) -> None:
    redis.delete(_INLINE.format(job_id))


def inline_state(redis: Any, job_id: str) -> JobState:
    """``live`` while a live worker runs the job in process; ``lost`` when that worker died
    (SIGKILL mid-run); ``missing`` when no worker claimed it."""
    holder = redis.get(_INLINE.format(job_id))
    if holder is None:
        return "missing"
    name = holder.decode() if isinstance(holder, bytes) else str(holder)
    return "live" if worker_alive(redis, name) else "lost"


def job_state(redis: Any, job_id: str) -> JobState:
    """``live``: queued, scheduled, deferred or running on a live worker (through RQ, or in
    process: :func:`claim_inline`); ``finished``; ``lost``: its hash is there but nothing will
    run it, or the worker running it in process died; ``missing``: no such job (never queued,
    expired, or Redis was flushed)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        return inline_state(redis, job_id)
    status = job.get_status(refresh=False)
    origin = f"rq:queue:{job.origin}"
    if status == JobStatus.FINISHED:
        return "finished"
    if status == JobStatus.DEFERRED:
        return "live"
    if status == JobStatus.QUEUED:
        return "live" if redis.lpos(origin, job_id) is not None else "lost"
    if status == JobStatus.SCHEDULED:
        return "live" if redis.zscore(f"rq:scheduled:{job.origin}", job_id) is not None else "lost"
    if status == JobStatus.STARTED:
        return "live" if worker_alive(redis, job.worker_name) else "lost"
    return "lost"  # failed, stopped, canceled: nothing will run it again


def forget(redis: Any, job_id: str) -> None:
    """Remove a lost job from everywhere RQ could still find it, so that it can be queued again
    and RQ's own clean-ups never run (or fail) the old copy as well."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    release_inline(redis, job_id)  # a worker that died running it in process
    try:
        job = Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        return
    name = job.origin
    started = f"rq:wip:{name}"
    entries = [e for e in redis.zrange(started, 0, -1) if _entry_job(e) == job_id]
    with redis.pipeline() as pipe:
        if entries:
            pipe.zrem(started, *entries)
        pipe.lrem(f"rq:queue:{name}", 0, job_id)
        pipe.lrem(f"rq:queue:{name}:intermediate", 0, job_id)
        pipe.zrem(f"rq:scheduled:{name}", job_id)
        pipe.zrem(f"rq:failed:{name}", job_id)
        pipe.zrem(f"rq:canceled:{name}", job_id)
        pipe.delete(job.key, f"rq:executions:{job_id}")
        pipe.execute()


def _entry_job(entry: bytes | str) -> str:
    text = entry.decode() if isinstance(entry, bytes) else entry
    return text.rsplit(":", 1)[0] if ":" in text else text


def coo_worker_dead(redis: Any, worker_name: str) -> bool:
    """A `coo worker` that stopped beating (False for any other kind of worker)."""
    return bool(redis.exists(_BORN.format(worker_name))) and not redis.exists(_ALIVE.format(worker_name))
