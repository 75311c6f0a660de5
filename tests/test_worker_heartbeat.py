"""A `coo worker` busy with one short job after another stays listed as alive (its key always
has at least WORKER_TTL seconds to live) while it skips RQ's back-to-back heartbeats."""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq import Queue, SimpleWorker

from bot.rq_worker import WORKER_TTL, CooWorker, serving_worker

JOBS = 30


def seconds_left() -> int:
    """A job reporting how long the worker running it has left before RQ counts it dead."""
    worker = serving_worker()
    assert worker is not None
    return int(worker.connection.ttl(worker.key))


def test_a_busy_worker_stays_alive_on_fewer_heartbeats(redis_url: str, monkeypatch: Any) -> None:
    redis = Redis.from_url(redis_url)
    queue = Queue("coo-beat", connection=redis)
    jobs = [queue.enqueue(seconds_left, result_ttl=600) for _ in range(JOBS)]
    sent: list[int] = []
    plain = SimpleWorker.heartbeat

    def counted(self: Any, timeout: int | None = None, pipeline: Any = None) -> None:
        sent.append(1)
        plain(self, timeout, pipeline=pipeline)

    monkeypatch.setattr(SimpleWorker, "heartbeat", counted)
    worker = CooWorker([queue], connection=redis, worker_ttl=WORKER_TTL)
    worker.work(burst=True)
    assert [job.return_value(refresh=True) is not None for job in jobs] == [True] * JOBS
    assert min(job.return_value() for job in jobs) >= WORKER_TTL
    # RQ beats five times a job: with its suspension check, before and after the dequeue, for the
    # job, after it; back to back, the two around the dequeue are left out
    assert len(sent) <= 3 * JOBS + 2, len(sent)
    redis.close()
