"""LangGraph's resume pitfalls, tested explicitly against the checkpointers coo runs on:
a node is re-run from its top on resume (what it did before its interrupt must be idempotent),
a node with two interrupts (resume values are matched by order), and a stale resume value
(a tap on an old card, a redelivered resume job) that must not answer the gate a run waits at."""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from graphs.approvals import ApprovalDecision
from store.checkpoints import open_checkpointer
from store.facade import Store
from tests.conftest import ChatDriver


class _State(TypedDict, total=False):
    to: str
    confirmed: bool
    sent: str


def _graph(store: Store, checkpointer: Any, calls: dict[str, int]):
    """One node: prepares (a side effect with an idempotency key), asks twice, then sends once."""

    def prepare_and_send(state: _State) -> dict[str, Any]:
        calls["top"] += 1  # counts every (re-)run of the node from its top
        claim = store.side_effects.claim("pitfall-run:prepare", "pitfall-run", "prepare")
        if claim.status == "claimed":
            calls["prepared"] += 1
            store.side_effects.complete("pitfall-run:prepare", {"prepared": True})
        to = interrupt({"ask": "to whom?"})
        confirmed = interrupt({"ask": f"send to {to}?"})
        if not confirmed:
            return {"to": to, "confirmed": False}
        sent = store.side_effects.claim("pitfall-run:send", "pitfall-run", "send")
        if sent.status == "claimed":
            calls["sent"] += 1
            store.side_effects.complete("pitfall-run:send", {"to": to})
        return {"to": to, "confirmed": True, "sent": to}

    graph = StateGraph(_State)
    graph.add_node("prepare_and_send", prepare_and_send)
    graph.add_edge(START, "prepare_and_send")
    graph.add_edge("prepare_and_send", END)
    return graph.compile(checkpointer=checkpointer)


def test_a_node_with_two_interrupts_reruns_from_its_top_and_does_its_work_once(db_url, clock):
    store = Store.open(db_url, clock)
    calls = {"top": 0, "prepared": 0, "sent": 0}
    config: Any = {"configurable": {"thread_id": "pitfall-run"}}
    try:
        with open_checkpointer(store.db) as saver:
            graph = _graph(store, saver, calls)
            first = graph.invoke({}, config)
            assert first["__interrupt__"][0].value == {"ask": "to whom?"}
            second = graph.invoke(Command(resume="ops@northwind.example"), config)
            assert second["__interrupt__"][0].value == {"ask": "send to ops@northwind.example?"}
        # A new process (a worker restarted between the two answers) resumes from the database.
        with open_checkpointer(store.db) as saver:
            graph = _graph(store, saver, calls)
            done = graph.invoke(Command(resume=True), config)
            assert done["sent"] == "ops@northwind.example"
            again = graph.invoke(Command(resume=True), config)  # a redelivered resume
            assert "__interrupt__" not in again
        assert calls["top"] == 3  # the node ran from its top on every resume…
        assert calls["prepared"] == 1 and calls["sent"] == 1  # …and its side effects happened once
    finally:
        store.close()


def _two_waiting(chat: ChatDriver) -> tuple[str, str]:
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("new client: Globex, contact ap@globex.example")
    assert "[/approve 1]" in chat.say("invoice Northwind $2,000 for october design work")
    assert "[/approve 2]" in chat.say("invoice Globex $900 for the logo")
    store = chat.runtime.store
    first, second = (store.runs.approval(n) for n in (1, 2))
    assert first is not None and second is not None
    return first.run_id, second.run_id


def test_a_stale_resume_never_answers_the_gate_a_run_waits_at(chat, smtp):
    runtime = chat.runtime
    store, supervisor = runtime.store, runtime.supervisor
    northwind, globex = _two_waiting(chat)
    assert "Sent invoice #INV-0001" in chat.say("/approve 1")
    asked = store.ledger.count(globex)

    supervisor.resume(globex, 1)  # a job carrying another run's approval
    supervisor.resume(globex, 2)  # a job for the approval still waiting (no decision yet)
    supervisor.resume(northwind, 1)  # a redelivered resume of a run that finished
    assert store.runs.get(globex).status == "waiting_approval"
    assert store.runs.get(northwind).status == "done"
    assert len(smtp.messages) == 1 and store.ledger.count(globex) == asked

    # Past Supervisor.resume's guard, straight into the graph: the gate waits again (a second
    # interrupt of the same node) instead of acting on a decision that is not its own.
    stale = ApprovalDecision(approval_id=1, decision="approved")
    result = supervisor.graph.invoke(
        Command(resume=stale), supervisor._run_config(globex), context=runtime.deps, durability="exit"
    )
    assert [i.value["approval_id"] for i in result["__interrupt__"]] == [2]
    assert len(smtp.messages) == 1

    said = chat.say("/approve 2")
    assert "Sent invoice #INV-0002 to ap@globex.example" in said
    assert len(smtp.messages) == 1 + 1
    assert "already approved" in chat.say("/approve 2")  # the old card tapped again
    assert len(smtp.messages) == 2
    cards = [m for m in store.conversations.messages_after("console", "console", 0) if "[/approve 2]" in m.text]
    assert len(cards) == 1  # the gate re-ran from its top on each resume; its card was posted once
    assert store.db.scalar("SELECT COUNT(*) AS n FROM approvals") == 2
