"""Every job outlives a restart (issue #14): a message whose first attempt stopped between saving
the operator's line and accepting the request (the database restarting) is carried on by the
retry, not dropped as a "duplicate"; a job RQ lost is queued again instead of being refused."""

from __future__ import annotations

import pytest

from bot.intake import Intake
from graphs.envelope import Envelope
from store.errors import StoreUnavailable


def test_a_retry_after_a_failure_between_saving_and_accepting_is_carried_on(chat, monkeypatch):
    runtime = chat.runtime
    conversation = runtime.conversation
    real = conversation._request
    calls: list[str] = []

    def restarting_once(env, parsed, text):
        calls.append(text)
        if len(calls) == 1:  # the line is recorded; then the database goes away
            raise StoreUnavailable("cannot reach PostgreSQL: server closed the connection unexpectedly")
        return real(env, parsed, text)

    monkeypatch.setattr(conversation, "_request", restarting_once)
    env = Envelope(
        channel="console",
        event_id="ev-restart-1",
        thread_id="console",
        user_id="operator",
        text="new client: Northwind, contact ops@northwind.example",
    )
    assert Intake(runtime.store, runtime.queue).submit(env, post_ack=False)
    runtime.queue.wait_idle()
    assert len(calls) == 2  # retried, and the retry went on
    assert [c.name for c in runtime.store.clients.all()] == ["Northwind"]
    replies = runtime.store.conversations.messages_after("console", "console", 0)
    assert [m.text for m in replies if "Northwind" in m.text] == ["Added client Northwind (ops@northwind.example)."]
    status = runtime.store.db.scalar("SELECT status FROM inbox WHERE dedupe = ?", (env.idempotency_key,))
    assert status == "done"


def test_a_message_already_answered_is_still_a_duplicate(chat):
    runtime = chat.runtime
    env = Envelope(
        channel="console", event_id="ev-dup-1", thread_id="console", user_id="operator", text="what's overdue?"
    )
    first = runtime.conversation.handle(env)
    again = runtime.conversation.handle(env)
    assert not first.duplicate and again.duplicate


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_lost_rq_job_is_queued_again_and_a_live_one_is_not(redis_url, db_url):
    from redis import Redis
    from rq import Queue

    from store.jobqueue import JobSpec, RQQueue

    queue = RQQueue(redis_url)
    spec = JobSpec(queue="coo-test", retries=0)
    assert queue.enqueue("bot.jobs.process_inbox", "inbox-77", spec, item_id=77)
    assert not queue.enqueue("bot.jobs.process_inbox", "inbox-77", spec, item_id=77)  # live: a true duplicate
    assert queue.state("inbox-77") == "live"
    redis = Redis.from_url(redis_url)
    rq_queue = Queue("coo-test", connection=redis)
    redis.lmove(rq_queue.key, rq_queue.intermediate_queue_key, "RIGHT", "LEFT")  # a worker took it and died
    assert queue.state("inbox-77") == "lost"
    assert queue.enqueue("bot.jobs.process_inbox", "inbox-77", spec, item_id=77)  # not refused
    assert rq_queue.job_ids == ["inbox-77"] and redis.llen(rq_queue.intermediate_queue_key) == 0
    redis.flushdb()
    assert queue.state("inbox-77") == "missing"
    queue.close()


def test_a_scheduler_lock_left_by_a_dead_coo_worker_is_released_and_no_other(redis_url):
    from redis import Redis

    from bot.rq_worker import release_dead_schedulers
    from store.lost_jobs import beat, worker_alive

    redis = Redis.from_url(redis_url)
    beat(redis, "w-dead")
    beat(redis, "w-alive")
    redis.set("rq:scheduler-lock:coo-billing", "w-dead")
    redis.set("rq:scheduler-lock:coo-email", "w-alive")
    redis.set("rq:scheduler-lock:coo-reports", "some-other-scheduler")  # not a coo worker: never touched
    assert release_dead_schedulers(redis, ["coo-billing", "coo-email", "coo-reports"]) == 0
    redis.delete("coo:worker-alive:w-dead")  # its heartbeat expired: SIGKILL, a lost machine
    assert not worker_alive(redis, "w-dead") and worker_alive(redis, "w-alive")
    assert release_dead_schedulers(redis, ["coo-billing", "coo-email", "coo-reports"]) == 1
    assert redis.get("rq:scheduler-lock:coo-billing") is None
    assert redis.get("rq:scheduler-lock:coo-email") == b"w-alive"
    assert redis.get("rq:scheduler-lock:coo-reports") == b"some-other-scheduler"


ATTEMPTS_KEY = "coo-test:attempts"


def flaky_job(redis_url: str) -> None:
    """Fails on its first attempt; each attempt notes what current_attempt() says (RQ imports it)."""
    from redis import Redis

    from store.jobqueue import current_attempt

    running = current_attempt()
    redis = Redis.from_url(redis_url)
    redis.rpush(ATTEMPTS_KEY, f"{running[0]}:{running[1]}" if running else "none")
    if running is None or running[1] == 1:
        raise RuntimeError("the first attempt fails")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_rq_job_knows_which_attempt_it_is(redis_url, db_url):
    """What the job-retry metric is counted from: RQ's retries, for every job (bot.jobs.counted)."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    from store.jobqueue import JobSpec, RQQueue

    queue = RQQueue(redis_url)
    spec = JobSpec(queue="coo-test", retries=2, retry_intervals=[0])  # 0: RQ queues the retry at once
    assert queue.enqueue("tests.test_job_retries.flaky_job", "flaky-1", spec, redis_url=redis_url)
    redis = Redis.from_url(redis_url)
    SimpleWorker([Queue("coo-test", connection=redis)], connection=redis).work(burst=True)
    assert [a.decode() for a in redis.lrange(ATTEMPTS_KEY, 0, -1)] == ["flaky-1:1", "flaky-1:2"]
    redis.flushdb()
    queue.close()
