"""Checkpoint storage stays bounded: a waiting run keeps its checkpoint, a finished run none
(its ledger events stay forever)."""

from __future__ import annotations


def _checkpoint_rows(runtime, run_id: str) -> int:
    return int(runtime.store.db.scalar("SELECT COUNT(*) AS n FROM checkpoints WHERE thread_id = ?", (run_id,)) or 0)


def test_waiting_run_keeps_one_checkpoint_and_finished_run_none(chat, smtp):
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("invoice Northwind $2,000 for october design work")
    runtime = chat.runtime
    waiting = runtime.store.runs.recent(1)[0]
    assert waiting.status == "waiting_approval"
    assert _checkpoint_rows(runtime, waiting.id) == 1  # durability="exit": only where it stopped
    chat.say("/approve 1")
    assert runtime.store.runs.get(waiting.id).status == "done"
    assert _checkpoint_rows(runtime, waiting.id) == 0
    assert runtime.store.ledger.count(waiting.id) >= 8
    finished = runtime.store.runs.recent(2)[1]
    assert finished.kind == "new_client" and _checkpoint_rows(runtime, finished.id) == 0


def test_a_crashed_step_is_replayed_without_duplicating_work(chat, smtp, monkeypatch):
    """A job that dies mid-run is run again from its last checkpoint; records are keyed by run."""
    import graphs.step_registry as registry
    import graphs.steps as steps

    original = steps.prepare_invoice
    calls = {"n": 0}

    def flaky(deps, state):
        result = original(deps, state)
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("worker lost its connection after creating the invoice")
        return result

    monkeypatch.setitem(registry.STEPS, "prepare_invoice", flaky)
    chat.say("new client: Northwind, contact ops@northwind.example")
    shown = chat.say("invoice Northwind $2,000 for october design work")
    assert "Invoice #INV-0001 for Northwind: $2,000.00" in shown
    assert calls["n"] == 2  # retried by the queue
    assert chat.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM invoices") == 1
    assert chat.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM approvals") == 1


def test_a_fresh_run_that_fails_saves_its_checkpoint_and_its_retry_continues_from_it(chat, smtp, monkeypatch):
    """A run started afresh writes its checkpoint only if it stops: at a gate (above), or here,
    failing mid-way, so the queue's retry continues where it stopped instead of starting over."""
    import graphs.step_registry as registry
    import graphs.steps as steps
    import graphs.supervisor as supervisor

    original = steps.prepare_invoice
    seen: list[int] = []

    def flaky(deps, state):
        seen.append(_checkpoint_rows(chat.runtime, state["run_id"]))
        if len(seen) == 1:
            raise ConnectionError("the database went away mid-step")
        return original(deps, state)

    loaded: list[str] = []
    load_context = supervisor.load_context

    def counting_load(state, runtime):
        loaded.append(state["run_id"])
        return load_context(state, runtime)

    monkeypatch.setitem(registry.STEPS, "prepare_invoice", flaky)
    monkeypatch.setattr(supervisor, "load_context", counting_load)
    chat.runtime.supervisor.graph = supervisor.build_supervisor(chat.runtime.supervisor.checkpointer)
    chat.say("new client: Northwind, contact ops@northwind.example")
    shown = chat.say("invoice Northwind $2,000 for october design work")
    assert "Invoice #INV-0001 for Northwind: $2,000.00" in shown
    assert seen == [0, 1]  # nothing written before it failed; its checkpoint there on the retry
    invoice_run = chat.runtime.store.runs.recent(1)[0].id
    assert loaded.count(invoice_run) == 1  # the retry did not start the run over


def test_a_run_without_approval_needs_no_graph_and_one_with_goes_on_in_it(chat, smtp, monkeypatch):
    """A fresh run goes through its nodes as plain calls (Supervisor._direct); one that reaches
    a gate is handed to LangGraph there, with its checkpoint saved as the step's output."""
    supervisor = chat.runtime.supervisor
    invoked: list[object] = []
    invoke = supervisor.graph.invoke

    def counting(payload, *args, **kwargs):
        invoked.append(payload)
        return invoke(payload, *args, **kwargs)

    monkeypatch.setattr(supervisor.graph, "invoke", counting)
    assert "Added client Northwind" in chat.say("new client: Northwind, contact ops@northwind.example")
    assert invoked == []  # no graph for a run that needs no approval
    shown = chat.say("invoice Northwind $2,000 for october design work")
    assert "Invoice #INV-0001 for Northwind: $2,000.00" in shown
    assert invoked == [None]  # continued from the checkpoint saved before the gate
    run = chat.runtime.store.runs.recent(1)[0]
    kinds = [e.kind for e in chat.runtime.store.ledger.events(run.id)]
    assert kinds.count("context_loaded") == 1 and kinds.count("planned") == 1
    assert kinds[-1] == "approval_asked"
    chat.say("/approve 1")
    assert chat.runtime.store.runs.get(run.id).status == "done"
    assert [e.kind for e in chat.runtime.store.ledger.events(run.id)][-1] == "run_finished"
