"""Connections that heal (issue #14): a request right after a PostgreSQL restart is recorded and
answered; /readyz and /healthz tell the database and Redis apart; `coo worker` and `coo serve`
started while PostgreSQL is down wait for it in one line instead of dying with a traceback.
Each test runs its own throwaway PostgreSQL cluster, so the shared one is never restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.channels import dm, slack_settings
from tests.conftest import REPO
from tests.fakes.pg_cluster import PgCluster
from tests.fakes.smtp import free_port

pytestmark = pytest.mark.slow  # a PostgreSQL cluster of its own, coo serve over HTTP, processes


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    own = PgCluster().start()
    yield own
    own.destroy()


def _answers(slack_api: Any) -> list[str]:
    return [c["text"] for c in slack_api.recorded("chat.postMessage")]


def _wait(predicate: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def test_a_message_right_after_a_postgresql_restart_is_recorded_and_answered(cluster, slack_api, serve):
    served = serve(**slack_settings(slack_api), database_url=cluster.url)
    assert (
        served.slack_event(dm("new client: Northwind, contact ops@northwind.example", "1.000100"), "EvH1").status_code
        == 200
    )
    served.settle()
    assert any("Northwind" in text for text in _answers(slack_api))

    cluster.restart()  # every pooled connection is now dead
    response = served.slack_event(dm("who are my clients?", "1.000200"), "EvH2")
    assert response.status_code == 200
    store = served.runtime.store
    _wait(lambda: any(text.startswith("Clients:") and "Northwind" in text for text in _answers(slack_api)))
    assert store.db.scalar("SELECT COUNT(*) AS n FROM inbox WHERE status = 'done'") == 2

    # Ready means the database can save what arrives; health names each service.
    cluster.stop()
    try:
        ready = served.http.get("/readyz")
        health = served.http.get("/healthz")
    finally:
        cluster.start()
    assert ready.status_code == 503 and ready.json()["ready"] is False
    assert health.status_code == 503 and health.json()["database"] == "down" and health.json()["redis"] == "unused"
    _wait(lambda: served.http.get("/readyz").status_code == 200)


def _env(coo_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COO_") or k.startswith("COO_TEST_")}
    env.update(coo_env)
    env.update(extra)
    return env


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *command],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _read_until(proc: subprocess.Popen[str], needle: str, timeout: float = 60) -> str:
    """The process's output up to the first line holding ``needle``."""
    import selectors

    assert proc.stdout is not None
    seen = ""
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while needle not in seen:
        if time.monotonic() > deadline or proc.poll() is not None and not selector.select(0):
            raise AssertionError(f"{needle!r} never came; output so far:\n{seen}")
        if selector.select(0.2):
            line = proc.stdout.readline()
            seen += line
    return seen


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_worker_and_serve_started_while_postgresql_is_down_wait_for_it(coo_env, cluster, redis_url):
    cluster.stop()
    env = _env(coo_env, COO_DATABASE_URL=cluster.url, COO_REDIS_URL=redis_url, COO_START_WAIT="60")
    port = free_port()
    worker = _start(["worker"], env)
    web = _start(["serve", "--port", str(port)], env)
    try:
        waiting = _read_until(worker, "waiting for PostgreSQL")
        assert f"coo worker: waiting for PostgreSQL at {cluster.url}" in waiting
        assert "retrying every 2 s" in waiting and "Traceback" not in waiting
        assert "coo serve: waiting for PostgreSQL" in _read_until(web, "waiting for PostgreSQL")
        time.sleep(1)
        assert worker.poll() is None and web.poll() is None  # still waiting, not dead
        cluster.start()
        assert "PostgreSQL at" in _read_until(worker, "answered; starting")
        _read_until(worker, "Listening on")  # it went on to start
        _read_until(web, "answered; starting")
        import httpx

        _wait(lambda: _get(httpx, f"http://127.0.0.1:{port}/readyz") == 200, timeout=60)
    finally:
        _kill(worker)
        _kill(web)


def _get(httpx: Any, url: str) -> int:
    try:
        return int(httpx.get(url, timeout=2).status_code)
    except httpx.HTTPError:
        return 0


def test_a_worker_gives_up_with_one_line_when_its_services_never_come(coo_env, cluster):
    cluster.stop()
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    env = _env(coo_env, COO_DATABASE_URL=cluster.url, COO_REDIS_URL=dead_redis, COO_START_WAIT="1")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker"], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert f"coo worker: waiting for PostgreSQL at {cluster.url}" in result.stderr
    assert f"and Redis at {dead_redis} (" in result.stderr
    assert "coo: gave up waiting for PostgreSQL at" in result.stderr and "Traceback" not in result.stderr


def test_inputs_whose_jobs_vanished_with_a_flushed_redis_are_queued_again_and_answered_once(slack_api, serve, pg_url):
    from redis import Redis
    from rq import Queue, SimpleWorker

    from bot.job_registry import QUEUES
    from tests.test_one_door import RedisServer

    redis_server = RedisServer()
    redis_server.start()
    try:
        served = serve(**slack_settings(slack_api), database_url=pg_url, redis_url=redis_server.url)
        assert served.slack_event(dm("what's overdue?", "1.000300"), "EvF1").status_code == 200
        store = served.runtime.store
        assert store.db.scalar("SELECT status FROM inbox") == "queued"
        redis = Redis.from_url(redis_server.url)
        redis.flushall()  # the queued job is gone; the saved input is not
        store.clock.advance(seconds=10)  # past the sweep's grace: it is not between commit and enqueue
        _wait(lambda: Queue("coo-intake", connection=redis).count == 1, timeout=30)
        SimpleWorker([Queue(n, connection=redis) for n in QUEUES], connection=redis).work(burst=True)
        served.settle()
        answers = [text for text in _answers(slack_api) if "overdue" in text.lower()]
        assert len(answers) == 1, answers
        assert store.db.scalar("SELECT status FROM inbox") == "done"
    finally:
        redis_server.stop()


def test_a_worker_outlives_a_redis_restart_in_the_middle_of_a_job(coo_env, pg_url):
    """RQ quits when Redis drops outside its dequeue (the heartbeat after a job): `coo worker`
    waits for Redis and works on, instead of leaving no worker behind (found by tests/chaos)."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job

    from tests.test_one_door import RedisServer

    redis_server = RedisServer()
    redis_server.start()
    env = _env(coo_env, COO_DATABASE_URL=pg_url, COO_REDIS_URL=redis_server.url, COO_START_WAIT="60")
    worker = _start(["worker"], env)
    try:
        _read_until(worker, "Listening on")
        queue = Queue("coo-intake", connection=Redis.from_url(redis_server.url))
        queue.enqueue("time.sleep", 3, job_id="slow")
        _wait(lambda: Job.fetch("slow", connection=queue.connection).get_status() == "started", timeout=30)
        redis_server.stop()  # while the job runs: its end (and the heartbeat after it) meets no Redis
        time.sleep(5)
        redis_server.start()  # empty, on the same port
        assert "working again once Redis answers" in _read_until(worker, "working again once Redis answers")
        assert worker.poll() is None
        queue = Queue("coo-intake", connection=Redis.from_url(redis_server.url))
        queue.enqueue("time.sleep", 0, job_id="after")
        _wait(lambda: Job.fetch("after", connection=queue.connection).get_status() == "finished", timeout=60)
        # Asked to stop, it stops (idle: RQ raises StopRequested rather than flagging it).
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        _kill(worker)
        redis_server.stop()
