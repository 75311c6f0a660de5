"""The supervisor: one LangGraph run per intent (thread id = run id).

load context → plan → steps (specialist agents) → approval gate (``interrupt()``) before any
external side effect → perform it with an idempotency key → record the receipt → reply.
Checkpoints are written only when the graph stops (at the gate or the end) and a finished
run's checkpoints are deleted: the ledger keeps the story, storage stays bounded. A run
started afresh goes through its nodes as plain calls until one routes to the gate
(``Supervisor._direct``): a run that needs no approval writes no checkpoint and costs none of
the graph's machinery; one that does is handed to LangGraph there.

The graph's steps are plain functions of the run's state and LangGraph's ``Runtime``; their
dependencies (``Deps``: store, model runner, mailer, …) are the run's context
(``StateGraph(RunState, context_schema=Deps)``), passed with every ``invoke(..., context=deps)``
and never checkpointed. The compiled graph itself holds no dependencies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, TypedDict, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from agents.budget import SpendCapReached
from agents.llm import collect_budget_notes
from agents.slas import run_breached
from graphs.actions import reject
from graphs.approvals import Action, ApprovalDecision, ApprovalRequest, Card, Draft, card_buttons, render_card
from graphs.autonomy import approve_by_autonomy, autonomy_note
from graphs.autonomy_policy import suggestion_after
from graphs.confirm import policy_notes, steps_by_policy
from graphs.deps import Deps
from graphs.plans import plan_for, playbook
from graphs.policy_offers import offer_payload
from graphs.risk_review import notes as risk_notes
from graphs.sending import send_approved
from graphs.step_kit import StepResult
from graphs.step_registry import STEPS
from graphs.steps_memory import index_memory
from store.errors import NotFound
from store.facade import Store
from store.reminder_cards import withdraw_settled_reminders
from store.runs import FINISHED
from store.settling import settled_or_unknown
from store.settling import watching as watching_settlements
from store.working_memory import ThreadContext

log = logging.getLogger(__name__)


class RunState(TypedDict, total=False):
    run_id: str
    intent: dict[str, Any]
    channel: str
    thread_id: str
    plan: list[str]
    cursor: int
    client_id: int | None
    client_name: str | None  # client_id's name, when the step that set it gave it
    loaded: dict[str, Any]  # what load_context found, for its ledger event (written by plan)
    agent: str  # the playbook's lead agent (its SLA category)
    # Ledger events of the last step, written by finish with its own: (step, kind, payload).
    unwritten: list[tuple[str, str, dict[str, Any]]]
    notes: list[str]
    action: dict[str, Any] | None
    decision: str | None
    stop: bool
    side_effects: int
    approval_id: int | None
    failed: str | None  # why the approved side effect did not happen: the run ends "failed"
    uncertain: bool  # the side effect may or may not have happened: the run ends "sent_uncertain"
    paused: str | None  # a spend cap stopped it before a model call: the run ends "paused"
    outcome: dict[str, Any]  # final status and summary, applied once the checkpoints are cleaned up
    hold: bool  # a replay (`coo replay`): every side effect waits for the operator, autonomy or not


# -- the graph's steps: plain functions, their dependencies in the run's context (Deps) -----------


def _post(store: Store, state: RunState, text: str, key: str, payload: dict[str, Any] | None = None) -> None:
    store.conversations.post(
        state["channel"],
        state["thread_id"],
        text,
        run_id=state["run_id"],
        payload=payload,
        dedupe=f"{state['run_id']}:{key}",
    )


def load_context(state: RunState, runtime: Runtime[Deps]) -> dict[str, Any]:
    store = runtime.context.store
    intent = state["intent"]
    matches = (
        store.clients.find(intent.get("client_name"), intent.get("contact_email") or intent.get("to"))
        if intent.get("client_name") or intent.get("contact_email") or intent.get("to")
        else []
    )
    client = matches[0] if len(matches) == 1 else None
    client_id = client.id if client else None
    # Its ledger event is written with the plan's, in one statement: reading wrote nothing.
    loaded = {"client_id": client_id, "client": client.name if client else None, "candidates": len(matches)}
    return {"client_id": client_id, "loaded": loaded, "notes": [], "cursor": 0, "side_effects": 0}


def plan(state: RunState, runtime: Runtime[Deps]) -> dict[str, Any]:
    store = runtime.context.store
    run_id = state["run_id"]
    intended = plan_for(state["intent"]["kind"])
    assert intended is not None, "runs are only created for intents with a plan"
    # The steps go into the state, so the run's checkpoint carries them: a run planned
    # under v1 finishes its v1 steps even when v2 ships before it is resumed; one re-planned
    # after a crash before its first checkpoint keeps the version it had. Two statements, each
    # its own transaction (cheaper than one of both on PostgreSQL): a crash between them
    # re-plans the run, which keeps its recorded version and records its events once.
    recorded = store.runs.start_planned(run_id, intended.name, intended.version)
    chosen = intended if recorded == (intended.name, intended.version) else (playbook(*recorded) or intended)
    planned = {
        "playbook": chosen.name,
        "version": chosen.version,
        "steps": list(chosen.steps),
        "agent": chosen.lead,
        "queue": chosen.agent.queue,
    }
    loaded = state.get("loaded")
    events = [("load_context", "context_loaded", loaded)] if loaded is not None else []
    if (chosen.name, chosen.version) != recorded:  # the version it had is gone
        with store.db.transaction() as tx:
            store.runs.set_playbook(run_id, chosen.name, chosen.version, tx=tx)
    store.ledger.append_many(run_id, [*events, ("plan", "planned", planned)])
    return {"plan": list(chosen.steps), "agent": chosen.lead}


def step(state: RunState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    name = state["plan"][state["cursor"]]
    with steps_by_policy() as by_policy:
        try:
            with collect_budget_notes() as budget_notes:
                result = _reviewed(deps, state, STEPS[name](deps, dict(state)))
        except SpendCapReached as exc:
            budget = deps.runner.budget
            if budget is None or not budget.fallback_allowed():
                return _pause_for_budget(deps, state, name, exc)
            # No model tier fits under the cap: the step's deterministic (offline) path costs nothing.
            with deps.runner.offline():
                result = _reviewed(deps, state, STEPS[name](deps, dict(state)))
            budget_notes = [
                f"💸 {str(exc)[0].upper()}{str(exc)[1:]}: this step used the offline tier (no model). "
                f"/policy cap {exc.period} AMOUNT raises the cap."
            ]
            deps.store.ledger.append(
                state["run_id"], name, "budget_fallback", {"tier": "offline", "reason": str(exc), "period": exc.period}
            )
    # What the policy let the step do without asking is read back from the ledger (a retried
    # step recorded it once), and only when the step used the policy.
    by_policy_notes = policy_notes(deps, state["run_id"], name) if by_policy else []
    result.notes = [*result.notes, *by_policy_notes, *budget_notes]
    done = {"notes": result.notes, "action": result.action.action if result.action else None, **result.facts}
    update: dict[str, Any] = {
        "cursor": state["cursor"] + 1,
        "notes": state["notes"] + result.notes,
        "action": result.action.model_dump() if result.action else None,
        "client_id": result.client_id if result.client_id is not None else state.get("client_id"),
        "client_name": result.client_name if result.client_id is not None else state.get("client_name"),
        "stop": result.stop,
    }
    if after_step(cast(RunState, {**state, **update})) == "finish":
        # The run's last step: its event is written with the run's end, in one statement.
        update["unwritten"] = [(name, "step_done", done)]
    else:
        deps.store.ledger.append(state["run_id"], name, "step_done", done)
    return update


def _reviewed(deps: Deps, state: RunState, result: StepResult) -> StepResult:
    """A high-risk card gets the large tier's plan and review as notes (graphs.risk_review)."""
    if result.action is not None:
        result.notes = [*result.notes, *risk_notes(deps, state["run_id"], result.action)]
    return result


def _pause_for_budget(deps: Deps, state: RunState, name: str, exc: SpendCapReached) -> dict[str, Any]:
    """A model call would go over a cap and the policy allows no cheaper tier: the run pauses and
    the operator is asked; raising the cap (or allowing fallback) starts it again."""
    deps.store.ledger.append(
        state["run_id"],
        name,
        "paused_for_budget",
        {"reason": str(exc), "period": exc.period, "cap": exc.cap, "spent": exc.spent},
    )
    note = (
        f"⏸ Paused before {name.replace('_', ' ')}: {exc}. Raise the cap (/policy cap {exc.period} AMOUNT) "
        f"or allow a cheaper tier (/policy cap fallback on) and I carry on; /cancel {state['run_id']} drops it. "
        "Nothing was sent."
    )
    return {"notes": [*state["notes"], note], "stop": True, "paused": str(exc)}


def gate(state: RunState, runtime: Runtime[Deps]) -> dict[str, Any]:
    store = runtime.context.store
    action = Action.model_validate(state["action"])
    run_id = state["run_id"]
    approval, _ = store.runs.ask_approval(
        run_id, action.step, action.action, action.card.model_dump(), action.draft.model_dump()
    )
    # Routine recurring work the operator raised the agent's autonomy for goes on without a card.
    autonomous = None if state.get("hold") else approve_by_autonomy(store, run_id, action, approval)
    if not autonomous:
        # The card is announced by Supervisor._announce once this interrupt's checkpoint is
        # saved, so a decision can never arrive before there is a run to resume. The decision
        # the run resumes with (an ApprovalDecision) is read back from the store below.
        interrupt(ApprovalRequest(approval_id=approval.id, notes=state["notes"]))
    decided = store.runs.approval(approval.id)
    while not autonomous and decided is not None and decided.status == "pending":
        # Resumed with a stale value (a tap on an old card, a redelivered job) while this
        # approval still waits: wait again. Each pass is one more interrupt of this node, and
        # on the real resume LangGraph answers the earlier ones with their recorded values.
        interrupt(ApprovalRequest(approval_id=approval.id, notes=state["notes"]))
        decided = store.runs.approval(approval.id)
    assert decided is not None and decided.status in ("approved", "rejected")
    store.runs.set_status(run_id, "running")
    waited = (decided.decided_at - decided.asked_at).total_seconds() if decided.decided_at else None
    store.ledger.append(
        run_id,
        action.step,
        "approval_answered",
        {
            "approval_id": decided.id,
            "decision": decided.status,
            "by": decided.decided_by,
            "via": decided.decided_via,
            "waited_seconds": waited,
        },
        actor=decided.decided_by or "?",
    )
    # What is sent is what was approved: the stored draft, including any edits.
    approved = Action(
        step=action.step,
        action=action.action,
        card=Card.model_validate(decided.card),
        draft=Draft.model_validate(decided.draft),
    )
    notes = [*state["notes"], autonomy_note(autonomous)] if autonomous else []  # no card showed them
    suggestion = suggestion_after(store, run_id, decided.id) if decided.status == "approved" else None
    if suggestion:
        # Its own message, so the chat platforms can put the one-tap button under it.
        text, offer = suggestion
        _post(store, state, text, f"offer:{decided.id}", offer_payload(offer, "auto"))
    return {"action": approved.model_dump(), "decision": decided.status, "notes": notes, "approval_id": decided.id}


def side_effect(state: RunState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    store = deps.store
    action = Action.model_validate(state["action"])
    run_id = state["run_id"]
    if state["decision"] != "approved":
        note = reject(deps, run_id, action)
        store.ledger.append(run_id, action.step, "compensated", {"note": note})
        return {"notes": state["notes"] + [note], "action": None, "stop": True}
    result = send_approved(deps, run_id, action, state.get("approval_id") or 0)
    if not result.sent:
        return {
            "notes": state["notes"] + [result.note],
            "action": None,
            "stop": True,
            "failed": result.error,
            "uncertain": result.uncertain,
        }
    return {"notes": state["notes"] + [result.note], "action": None, "side_effects": state["side_effects"] + 1}


def finish(state: RunState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    store = deps.store
    run_id = state["run_id"]
    failed = state.get("failed")
    if failed:
        status = "sent_uncertain" if state.get("uncertain") else "failed"
    elif state.get("paused"):
        status = "paused"
    else:
        status = "rejected" if state.get("decision") == "rejected" else "done"
    ended = ("finish", "run_finished", {"status": status, "error": failed})
    unwritten = [(str(step), str(kind), dict(payload)) for step, kind, payload in state.get("unwritten") or []]
    store.ledger.append_many(run_id, [*unwritten, ended])
    if settled_or_unknown():  # a payment or void this run booked may settle a waiting reminder
        withdraw_settled_reminders(store)
    notes = list(state["notes"])
    if state.get("side_effects") or state.get("decision"):
        notes.append(f"Ledger: run {run_id} ({store.ledger.count(run_id)} events).")
    if notes:
        # A paused run is started again when the cap is raised: each of its ends is said once.
        key = "final" if status != "paused" else f"paused:{store.ledger.count(run_id)}"
        _post(store, state, "\n".join(notes), key)
    index_memory(deps)  # semantic memory: index what this run created (idempotent sweep)
    if status in ("done", "failed", "sent_uncertain") and run_breached(store, run_id, state.get("agent")):
        notes_late = "⏱ SLA breach: this work took longer than its soft SLA (/policy shows the SLAs)."
        store.ledger.append(run_id, "sla", "sla_breached", {"at": "finish"}, actor="coo")
        _post(store, state, notes_late, "sla-breach")
    client = state.get("client_id")
    name = state.get("client_name")
    if client is not None and name is None:
        try:
            name = store.clients.get(client).name
        except NotFound:
            name = None  # this run deleted its client: there is nothing for a follow-up to mean
    if client is not None and name is not None:
        # Follow-ups in this thread ("bill them on the 15th instead") mean this client.
        deps.working_memory.remember(
            f"{state['channel']}:{state['thread_id']}",
            ThreadContext(client_id=client, client_name=name, run_id=run_id, kind=state["intent"]["kind"]),
        )
    summary = notes[0][:200] if notes else None
    return {
        "notes": [],
        "unwritten": [],
        "outcome": {"status": status, "summary": summary, "error": failed or state.get("paused")},
    }


def after_step(state: RunState) -> str:
    if state.get("stop"):
        return "finish"
    if state.get("action"):
        return "gate"
    return "step" if state["cursor"] < len(state["plan"]) else "finish"


def after_side_effect(state: RunState) -> str:
    if state.get("stop") or state["cursor"] >= len(state["plan"]):
        return "finish"
    return "step"


class Node(Protocol):
    def __call__(self, state: RunState, runtime: Runtime[Deps]) -> dict[str, Any]: ...


def nodes() -> dict[str, Node]:
    """The graph's steps by name, looked up when called (a test may replace one)."""
    return {
        "load_context": load_context,
        "plan": plan,
        "step": step,
        "gate": gate,
        "side_effect": side_effect,
        "finish": finish,
    }


# Where each node goes next: a node, or a function of the state choosing among the listed ones.
FLOW: dict[str, str | tuple[Callable[[RunState], str], list[str]]] = {
    START: "load_context",
    "load_context": "plan",
    "plan": "step",
    "step": (after_step, ["gate", "step", "finish"]),
    "gate": "side_effect",
    "side_effect": (after_side_effect, ["step", "finish"]),
    "finish": END,
}

# The nodes a fresh run goes through without LangGraph until one routes to the gate
# (Supervisor._direct): none of them interrupts or has an external side effect.
DIRECT = frozenset({"load_context", "plan", "step", "finish"})


def next_node(node: str, state: RunState) -> str:
    route = FLOW[node]
    return route if isinstance(route, str) else route[0](state)


SupervisorGraph = CompiledStateGraph[RunState, Deps, RunState, RunState]


def build_supervisor(checkpointer: BaseCheckpointSaver) -> SupervisorGraph:
    """Compile the supervisor graph. It holds no dependencies: every run gets them as its
    context (``invoke(..., context=deps)``), which the steps read from ``runtime.context``."""
    graph = StateGraph(RunState, context_schema=Deps)
    for name, node in nodes().items():
        graph.add_node(name, node)
    for source, route in FLOW.items():
        if isinstance(route, str):
            graph.add_edge(source, route)
        else:
            graph.add_conditional_edges(source, route[0], route[1])
    return graph.compile(checkpointer=checkpointer)


class Supervisor:
    """Starts and resumes runs; safe to call twice for the same run (jobs are retried)."""

    # The nodes a run goes through without the graph (the latency bench counts them here).
    node_table: Callable[[], dict[str, Node]] = staticmethod(nodes)

    def __init__(self, deps: Deps, checkpointer: BaseCheckpointSaver) -> None:
        self.deps = deps
        self.checkpointer = checkpointer
        self.graph = build_supervisor(checkpointer)

    def _config(self, run_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": run_id}}

    def _run_config(self, run_id: str) -> RunnableConfig:
        # _config stays a plain dict: the latency bench wraps it to add its callbacks.
        return cast(RunnableConfig, self._config(run_id))

    def _waiting(self, run_id: str) -> bool:
        snapshot = self.graph.get_state(self._run_config(run_id))
        return bool(snapshot.next)

    def start(self, run_id: str) -> None:
        run = self.deps.store.runs.get(run_id)
        if run.status in FINISHED:
            log.info("run %s already %s; nothing to start", run_id, run.status)
            return
        snapshot = self.graph.get_state(self._run_config(run_id))
        if snapshot.interrupts:
            # A retried job after the run reached its gate: make sure the card was posted.
            for pending in snapshot.interrupts:
                self._announce(run_id, pending.value)
            return
        if snapshot.next:
            # An earlier attempt died mid-run: continue from its last checkpoint.
            self._invoke(run_id, None)
            return
        self._invoke(run_id, self._from_intent(run_id, run.channel, run.thread_id), fresh=snapshot.created_at is None)

    def start_new(self, run_id: str, start: dict[str, Any] | None = None) -> bool:
        """Start a run this process accepted a moment ago and holds (bot.jobs: the message's
        job runs the run it started): no other job can have moved it, so neither its status
        nor a checkpoint is read first. ``start``: its starting state as accepted
        (``Handled.starts``), else it is read from its intent. True when it ended without
        reaching a gate: it sent nothing (so it has no failed send to retry)."""
        state = cast(RunState, dict(start)) if start and start.get("run_id") == run_id else self._from_intent(run_id)
        return self._invoke(run_id, state, fresh=True)

    def resume(self, run_id: str, approval_id: int) -> None:
        approval = self.deps.store.runs.approval(approval_id)
        if approval is None or approval.status not in ("approved", "rejected") or approval.run_id != run_id:
            return  # pending; withdrawn (its run cancelled: nothing resumes it); or another run's
        if not self._waiting(run_id):
            if self.deps.store.runs.get(run_id).status != "resuming":
                log.info("run %s was already resumed for approval %s", run_id, approval_id)
                return
            # No saved state (a snapshot imported into another database carries the ledger and
            # intents, not checkpoints): re-plan the run from its intent up to its gate.
            self.replan(run_id)
            if not self._waiting(run_id):
                raise RuntimeError(
                    f"run {run_id} has no saved state to resume, and re-planning it did not reach a gate"
                )
        snapshot = self.graph.get_state(self._run_config(run_id))
        if snapshot.next and not snapshot.interrupts:
            # An earlier attempt passed the gate and died mid-run (the database restarting, a
            # killed worker): continue from its last checkpoint, or the run stays unfinished.
            self._invoke(run_id, None)
        # Resume only a gate whose approval is decided: a stale tap or a redelivered job for an
        # earlier card must not answer the gate the run waits at now with another decision.
        for _ in range(len(self._plan_of(run_id)) + 1):
            decided = self._decided_gate(run_id)
            if decided is None:
                return
            self._invoke(run_id, Command(resume=decided))

    def replan(self, run_id: str) -> None:
        """Run the run again from its intent (steps are keyed by the run: nothing is made twice)."""
        run = self.deps.store.runs.get(run_id)
        log.warning("run %s has no saved state; re-planning it from its intent", run_id)
        self._invoke(run_id, self._from_intent(run_id, run.channel, run.thread_id))

    def _from_intent(self, run_id: str, channel: str | None = None, thread_id: str | None = None) -> RunState:
        """The state a run starts from: its accepted intent, in its thread (the intent's own,
        unless the run's is given)."""
        accepted = self.deps.store.conversations.intent_for_run(run_id)
        return {
            "run_id": run_id,
            "intent": accepted.intent,
            "channel": channel if channel is not None else accepted.channel,
            "thread_id": thread_id if thread_id is not None else accepted.thread_id,
        }

    def run_from(self, run_id: str, state: RunState, *, after: str | None = None) -> None:
        """Run ``run_id`` from ``state``: from the top, or (``after`` a node) from a state set as
        that node's output — a fork of another run (`coo replay --from STEP`)."""
        if after is None:
            self._invoke(run_id, state)
            return
        self.graph.update_state(self._run_config(run_id), dict(state), as_node=after)
        self._invoke(run_id, None)

    def _plan_of(self, run_id: str) -> list[str]:
        values = self.graph.get_state(self._run_config(run_id)).values
        return list(values.get("plan") or []) if isinstance(values, dict) else []

    def _decided_gate(self, run_id: str) -> ApprovalDecision | None:
        """The decision for the gate the run waits at, once the operator (or policy) gave it."""
        snapshot = self.graph.get_state(self._run_config(run_id))
        for pending in snapshot.interrupts:
            approval = self.deps.store.runs.approval(pending.value["approval_id"])
            if approval is not None and approval.status in ("approved", "rejected"):  # withdrawn: never resumed
                return ApprovalDecision(approval_id=approval.id, decision=approval.status)
        return None

    def _invoke(
        self, run_id: str, payload: RunState | Command[ApprovalDecision] | None, *, fresh: bool = False
    ) -> bool:
        """``fresh``: the run has no checkpoint yet: it goes through its first nodes as plain
        calls (:meth:`_direct`) and writes no checkpoint if it finishes so; one that reaches a
        gate or fails saves its checkpoint there and goes on in LangGraph. True when it ended
        without reaching a gate."""
        if fresh and isinstance(payload, dict):
            ended = self._direct(run_id, payload)
            if ended is not None:
                self._settle(run_id, ended, deleted=True)
                return True
            payload = None  # continue from the checkpoint _direct saved before the gate
        # The dependencies go with every invocation (start, continue, resume): the steps read
        # them from runtime.context; they are never checkpointed.
        result = self.graph.invoke(payload, self._run_config(run_id), context=self.deps, durability="exit")
        interrupts = result.get("__interrupt__", []) if isinstance(result, dict) else []
        for pending in interrupts:
            self._announce(run_id, pending.value)
        if not interrupts:
            self._settle(run_id, result, deleted=False)
        return False

    def _direct(self, run_id: str, state: RunState) -> RunState | None:
        """Run a fresh run's nodes as plain calls, as LangGraph would (each node's update
        replaces those keys of the state), while they stay in ``DIRECT``: a run that needs no
        approval costs no graph machinery and no checkpoint. The finished state, or None when
        the run was handed to LangGraph at its gate (its checkpoint saved as the last node's
        output, as `coo replay --from` does). A failure saves the checkpoint of the nodes done,
        so a retry continues from there instead of starting over."""
        runtime: Runtime[Deps] = Runtime(context=self.deps)
        table = self.node_table()
        done: str | None = None
        node = next_node(START, state)
        try:
            # Its finish knows whether any of its nodes touched an invoice (store.settling).
            with watching_settlements():
                while node != END:
                    if node not in DIRECT:
                        assert done is not None
                        self.graph.update_state(self._run_config(run_id), dict(state), as_node=done)
                        return None
                    state = cast(RunState, {**state, **table[node](state, runtime)})
                    done, node = node, next_node(node, state)
        except BaseException:
            if done is not None:
                self._save_after(run_id, state, done)
            raise
        return state

    def _save_after(self, run_id: str, state: RunState, node: str) -> None:
        try:
            self.graph.update_state(self._run_config(run_id), dict(state), as_node=node)
        except Exception:  # the store that failed the node may fail this too: the run starts over
            log.warning("run %s: could not save its state after %s", run_id, node, exc_info=True)

    def _settle(self, run_id: str, result: Any, *, deleted: bool) -> None:
        """A finished run: its checkpoints go (the ledger keeps the story), then its status."""
        if not deleted:
            self.checkpointer.delete_thread(run_id)
        outcome = result.get("outcome") or {"status": "done", "summary": None}
        # Settled last: whoever waits on the run sees it finished only when all is in place.
        self.deps.store.runs.set_status(
            run_id, outcome["status"], summary=outcome["summary"], error=outcome.get("error")
        )

    def _announce(self, run_id: str, value: ApprovalRequest) -> None:
        """Post the approval card into the run's thread (once) and mark the run waiting."""
        store = self.deps.store
        approval = store.runs.approval(value["approval_id"])
        assert approval is not None
        if approval.status != "pending":
            return
        run = store.runs.get(run_id)
        card, draft = Card.model_validate(approval.card), Draft.model_validate(approval.draft)
        store.ledger.append(
            run_id, approval.step, "approval_asked", {"approval_id": approval.id, "title": card.title, "to": draft.to}
        )
        text = "\n".join([*value.get("notes", []), render_card(approval.id, card, draft)])
        store.conversations.post(
            run.channel,
            run.thread_id,
            text,
            run_id=run_id,
            dedupe=f"{run_id}:{approval.step}:card",
            payload={
                "approval_id": approval.id,
                "card": card.model_dump(),
                "draft": draft.model_dump(),
                "buttons": card_buttons(draft),
            },
        )
        store.runs.set_status(run_id, "waiting_approval")
        if card.client_id is not None and card.client:
            self.deps.working_memory.remember(
                f"{run.channel}:{run.thread_id}",
                ThreadContext(client_id=card.client_id, client_name=card.client, run_id=run_id, kind=run.kind),
            )
