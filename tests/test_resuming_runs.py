"""A decided run never stays `resuming` (issue #14, found by the all-faults chaos phase): the
decision and the run's "resuming" are one write, so the lost-work sweep cannot finish the run
in between and have it overwritten; a run whose resume job returned without moving it is
resumed once more; one that still does not finish fails in the open, with the way to retry."""

from __future__ import annotations

from typing import Any

import pytest

from bot.recovery import sweep_lost_work
from bot.runtime import JOBS
from graphs.envelope import Envelope

pytestmark = pytest.mark.slow  # an RQ worker against PostgreSQL and Redis

CLIENT = "new client: Northwind, contact ops@northwind.example"
INVOICE = "invoice Northwind $2,000 for october design work"


def _work(runtime: Any) -> None:
    from rq import Queue, SimpleWorker

    from bot.job_registry import QUEUES

    redis = runtime.queue.redis
    SimpleWorker([Queue(n, connection=redis) for n in QUEUES], connection=redis).work(burst=True)


def _say(runtime: Any, text: str, n: int) -> None:
    env = Envelope(channel="console", event_id=f"ev-{n}", thread_id="console", user_id="ana", text=text)
    runtime.conversation.handle(env, post_ack=False)
    _work(runtime)


def _waiting_card(runtime: Any) -> Any:
    _say(runtime, CLIENT, 1)
    _say(runtime, INVOICE, 2)
    [approval] = runtime.store.runs.pending_approvals()
    assert runtime.store.runs.get(approval.run_id).status == "waiting_approval"
    return approval


def _thread(runtime: Any) -> list[str]:
    return [m.text for m in runtime.store.conversations.messages_after("console", "console", 0)]


def _resume_finished_early(runtime: Any, approval: Any, job_id: str) -> None:
    """A resume job that ran and returned without moving the run (here: it ran before the
    decision was visible), leaving its id finished in RQ."""
    spec = _spec(runtime, approval.run_id)
    assert runtime.queue.enqueue(JOBS.resume, job_id, spec, run_id=approval.run_id, approval_id=approval.id)
    _work(runtime)
    assert runtime.queue.state(job_id) == "finished"


def _spec(runtime: Any, run_id: str) -> Any:
    from graphs.plans import plan_for_run

    run = runtime.store.runs.get(run_id)
    plan = plan_for_run(runtime.store.runs, run.id, run.kind)
    assert plan is not None
    return plan.agent.job_spec()


def test_deciding_makes_the_run_resuming_in_the_same_write_and_never_reopens_a_finished_run(rq_runtime):
    runtime = rq_runtime
    approval = _waiting_card(runtime)
    runs = runtime.store.runs
    assert runs.decide(approval.id, "approved", "ana", "console")
    assert runs.get(approval.run_id).status == "resuming"
    _work(runtime)  # nobody queued the resume here: the sweep's job, below
    runtime.store.clock.advance(seconds=30)
    recovered = sweep_lost_work(runtime)
    assert recovered.runs == [approval.run_id]
    _work(runtime)
    assert runs.get(approval.run_id).status == "done"
    # The operator's /approve arriving after the sweep finished the run changes nothing.
    reply = runtime.conversation.handle(
        Envelope(channel="console", event_id="ev-3", thread_id="console", user_id="ana", text=f"/approve {approval.id}")
    )
    assert reply.run_ids == []
    assert runs.get(approval.run_id).status == "done"
    assert any(f"Approval #{approval.id} was already approved by ana" in text for text in _thread(runtime))


def test_a_resuming_run_whose_resume_job_returned_early_is_resumed_again_and_sends_once(rq_runtime, smtp):
    runtime = rq_runtime
    approval = _waiting_card(runtime)
    job_id = f"resume-{approval.run_id}-{approval.id}"
    _resume_finished_early(runtime, approval, job_id)  # before the decision: it returns at once
    assert runtime.store.runs.decide(approval.id, "approved", "ana", "console")
    runtime.store.clock.advance(seconds=30)
    assert sweep_lost_work(runtime).runs == [approval.run_id]
    assert runtime.queue.state(f"{job_id}-again") == "live"
    _work(runtime)
    assert runtime.store.runs.get(approval.run_id).status == "done"
    assert len(smtp.messages) == 1
    assert sum("Sent invoice" in text for text in _thread(runtime)) == 1
    runtime.store.clock.advance(seconds=30)
    assert sweep_lost_work(runtime).runs == []  # done: nothing more to do


def test_a_run_that_two_resumes_could_not_move_fails_in_the_open(rq_runtime, smtp):
    runtime = rq_runtime
    approval = _waiting_card(runtime)
    job_id = f"resume-{approval.run_id}-{approval.id}"
    _resume_finished_early(runtime, approval, job_id)
    _resume_finished_early(runtime, approval, f"{job_id}-again")
    assert runtime.store.runs.decide(approval.id, "approved", "ana", "console")
    runtime.store.clock.advance(seconds=30)
    assert sweep_lost_work(runtime).runs == []
    run = runtime.store.runs.get(approval.run_id)
    assert run.status == "failed" and run.error == "still resuming after recovery"
    said = [text for text in _thread(runtime) if "could not be continued on its own" in text]
    assert said == [
        f"Sorry — “{INVOICE}” stopped and could not be continued on its own. "
        f"`coo retry {run.id}` tries again; the details are in `coo ledger {run.id}`."
    ]
    assert smtp.messages == []
    assert [e.kind for e in runtime.store.ledger.events(run.id)][-1] == "gave_up"


def test_a_resume_that_died_after_the_gate_continues_from_its_checkpoint(rq_runtime, smtp, monkeypatch):
    import graphs.supervisor as supervisor_module
    from store.errors import StoreUnavailable

    runtime = rq_runtime
    approval = _waiting_card(runtime)
    real = supervisor_module.send_approved
    calls: list[int] = []

    def restarting_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:  # past the gate, the database goes away before the send
            raise StoreUnavailable("cannot reach PostgreSQL: server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(supervisor_module, "send_approved", restarting_once)
    assert runtime.store.runs.decide(approval.id, "approved", "ana", "console")
    with pytest.raises(StoreUnavailable):
        runtime.supervisor.resume(approval.run_id, approval.id)
    # LangGraph saved the run past its gate (next: the send), with no interrupt left to answer.
    assert runtime.supervisor._decided_gate(approval.run_id) is None
    runtime.supervisor.resume(approval.run_id, approval.id)  # the job's retry
    assert runtime.store.runs.get(approval.run_id).status == "done"
    assert len(calls) == 2 and len(smtp.messages) == 1


def test_the_next_digest_and_tick_are_scheduled_again_after_redis_is_flushed(rq_runtime):
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    from bot.job_registry import JOBS as REGISTRY

    runtime = rq_runtime
    redis = runtime.queue.redis

    def scheduled() -> set[str]:
        names = {REGISTRY["digest"].spec.queue, REGISTRY["tick"].spec.queue}
        return {
            job_id.split("-")[0]
            for name in names
            for job_id in ScheduledJobRegistry(queue=Queue(name, connection=redis)).get_job_ids()
        }

    sweep_lost_work(runtime)
    assert scheduled() == {"digest", "tick"}
    redis.flushdb()  # Redis lost everything it held: the schedule too
    assert scheduled() == set()
    sweep_lost_work(runtime)
    assert scheduled() == {"digest", "tick"}
    before = redis.dbsize()
    sweep_lost_work(runtime)  # already there: nothing added
    assert redis.dbsize() == before
