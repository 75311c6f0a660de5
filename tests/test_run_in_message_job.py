"""A message's job runs the run it starts when its `coo worker` serves that run's queue (one
queued job per request, issue 15); otherwise, or when the run fails there, the run is queued
as its own job, as before."""

from __future__ import annotations

from typing import Any

import pytest

from bot.intake import Intake
from graphs.envelope import Envelope

pytestmark = pytest.mark.slow  # an RQ worker against PostgreSQL and Redis

CLIENT = "new client: Northwind, contact ops@northwind.example"
INVOICE = "invoice Northwind $2,000 for october design work"


def _say(runtime: Any, text: str, n: int) -> None:
    """As the Slack adapter does: saved through the intake door, processed by a worker."""
    env = Envelope(channel="slack", event_id=f"ev-{n}", thread_id="C1:1", user_id="U1", text=text)
    assert Intake(runtime.store, runtime.queue).submit(env)


def _work(runtime: Any, queues: list[str] | None = None) -> None:
    from rq import Queue

    from bot.job_registry import QUEUES
    from bot.rq_worker import CooWorker

    redis = runtime.queue.redis
    CooWorker([Queue(n, connection=redis) for n in queues or QUEUES], connection=redis).work(burst=True)


def _thread(runtime: Any) -> list[str]:
    return [m.text for m in runtime.store.conversations.messages_after("slack", "C1:1", 0)]


def test_a_run_that_fails_in_its_messages_job_is_queued_and_retried(rq_runtime, monkeypatch):
    from rq.job import Job

    tried: list[str] = []

    def fails(run_id: str, start: dict | None = None) -> None:
        assert start is not None and start["run_id"] == run_id  # the state it was accepted with
        tried.append(run_id)
        raise ConnectionError("the database went away mid-run")

    monkeypatch.setattr(rq_runtime.supervisor, "start_new", fails)
    _say(rq_runtime, CLIENT, 1)
    _work(rq_runtime)
    run = rq_runtime.store.runs.recent(1)[0]
    redis = rq_runtime.queue.redis
    assert tried == [run.id]  # first in the message's job
    assert run.status == "done"  # then by its own job, queued when that failed
    assert Job.fetch(f"run-{run.id}", connection=redis).get_status() == "finished"
    assert not redis.exists(f"coo:inline:run-{run.id}")
    assert any("Northwind" in text for text in _thread(rq_runtime)[1:])
    assert "Sorry" not in "\n".join(_thread(rq_runtime))


def test_a_worker_that_does_not_serve_the_runs_queue_queues_it(rq_runtime):
    from rq.job import Job

    _say(rq_runtime, CLIENT, 1)
    _work(rq_runtime)
    _say(rq_runtime, INVOICE, 2)
    _work(rq_runtime, ["coo-intake"])  # the invoice's run is the billing agent's
    run = rq_runtime.store.runs.recent(1)[0]
    redis = rq_runtime.queue.redis
    assert run.kind == "create_invoice" and run.status == "queued"
    assert Job.fetch(f"run-{run.id}", connection=redis).origin == "coo-billing"
    _work(rq_runtime)  # a worker on every queue takes it
    assert rq_runtime.store.runs.get(run.id).status == "waiting_approval"
    assert any("Invoice #INV-0001 for Northwind: $2,000.00" in text for text in _thread(rq_runtime))


def test_a_run_allowed_longer_than_its_messages_job_keeps_its_own_job(rq_runtime):
    from rq.job import Job

    _say(rq_runtime, CLIENT, 1)
    _work(rq_runtime)
    client_run = rq_runtime.store.runs.recent(1)[0]
    _say(rq_runtime, "draft a proposal for Northwind for a brand refresh, $6k", 2)
    _work(rq_runtime)
    proposal = rq_runtime.store.runs.recent(1)[0]
    redis = rq_runtime.queue.redis
    assert proposal.kind == "draft_proposal" and proposal.status in ("waiting_approval", "done")
    # Five minutes for a proposal, two for the message's job: the proposal ran as its own job.
    assert Job.fetch(f"run-{proposal.id}", connection=redis).get_status() == "finished"
    assert not redis.exists(f"rq:job:run-{client_run.id}")  # the client's run fit in its message's job


def test_an_approval_free_request_costs_a_bounded_number_of_statements(rq_runtime, monkeypatch):
    """The whole of "new client: …" in its worker — the message, its run, its reply — in at most
    this many statements on PostgreSQL, each on the job's one pinned connection (issue 15: 42
    statements before the work on throughput, 20 after, most of them one round trip each). A change that adds a round trip to
    every request shows here first."""
    import store.db as db_module

    _say(rq_runtime, "new client: Warmup Co, contact ops@warmup.example", 0)
    _work(rq_runtime)  # the parser's client names and the worker's first look-ups
    _say(rq_runtime, CLIENT, 1)
    statements: list[str] = []
    execute, fetchall = db_module.Tx.execute, db_module.Tx.fetchall

    def counted_execute(self: Any, sql: str, params: Any = ()) -> int:
        statements.append(sql)
        return execute(self, sql, params)

    def counted_fetchall(self: Any, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        statements.append(sql)
        return fetchall(self, sql, params)

    monkeypatch.setattr(db_module.Tx, "execute", counted_execute)
    monkeypatch.setattr(db_module.Tx, "fetchall", counted_fetchall)
    _work(rq_runtime)
    made = list(statements)
    assert any("Added client Northwind (ops@northwind.example)." in text for text in _thread(rq_runtime))
    run = rq_runtime.store.runs.recent(1)[0]
    assert run.status == "done"
    assert [e.kind for e in rq_runtime.store.ledger.events(run.id)] == [
        "intent_received",
        "context_loaded",
        "planned",
        "change",
        "step_done",
        "run_finished",
    ]
    assert len(made) <= 20, "\n".join(made)
