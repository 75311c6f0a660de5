"""Asking before a change to money: a step shows what will change and asks yes / no.

The question is the thread's pending question (store/conversations.py) about the intent's
``confirmed`` field: "yes" runs the same intent again with ``confirmed`` set, "no" drops it and
changes nothing (graphs/conversation.py). Only the operator's answer sets ``confirmed``: the
conversation clears it on every parsed message.

Each of these changes is internal bookkeeping (graphs.autonomy_policy.SIDE_EFFECTS): when the
operator set the run's agent to ``ask-external`` (or ``auto``) for the kind, ``confirmed`` lets it
run without the question, records that in the ledger (``approved_by_policy``, with the level), and
the run's reply says so. What is *uncertain* about money (``unsure``) is still always a question.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any

from graphs.autonomy_policy import KINDS, allowed_internal
from graphs.deps import Deps
from graphs.step_kit import StepResult
from store.collecting import collecting
from store.errors import NotFound

FIELD = "confirmed"
HINT = "Reply yes to go ahead, or no to keep things as they are."
BY_POLICY = "approved_by_policy"  # the ledger event of a change the operator's /policy let run
# Set while a step runs (steps_by_policy): whether it let a change run by the policy, so the
# step's notes read the ledger only then.
_by_policy: ContextVar[list[str] | None] = ContextVar("by_policy", default=None)


def steps_by_policy() -> AbstractContextManager[list[str]]:
    """Collect the kinds of change the policy let run within this block (a step)."""
    return collecting(_by_policy)


def confirmed(
    deps: Deps, state: dict[str, Any], kind: str, client_id: int | None, *, unsure: str | None = None
) -> bool:
    """True when the change may be made now: the operator answered yes, or their /policy lets the
    run's agent make this kind of internal change on its own (recorded in the ledger). ``unsure``
    says what about the money is uncertain; then it is a question whatever the policy."""
    if state["intent"].get(FIELD):
        return True
    if unsure is not None:
        return False
    allowed = allowed_internal(deps.store, state["run_id"], kind, client_id)
    if allowed is None:
        return False
    agent, rule = allowed
    collected = _by_policy.get()
    if collected is not None:
        collected.append(kind)
    deps.store.ledger.append(
        state["run_id"],
        _step_name(state, kind),
        BY_POLICY,
        {"agent": agent, "autonomy": rule.level, "kind": kind, "client_id": client_id, "external": False},
        actor=f"coo (autonomy: {agent})",
    )
    return True


def _step_name(state: dict[str, Any], kind: str) -> str:
    plan, cursor = state.get("plan") or [], state.get("cursor", 0)
    return str(plan[cursor]) if 0 <= cursor < len(plan) else kind


def policy_notes(deps: Deps, run_id: str, step: str) -> list[str]:
    """What the step did without asking because of the policy, read back from the ledger."""
    notes = []
    for event in deps.store.ledger.events(run_id):
        if event.step == step and event.kind == BY_POLICY and event.payload.get("external") is False:
            agent, level = event.payload.get("agent"), event.payload.get("autonomy")
            what = KINDS.get(str(event.payload.get("kind")), str(event.payload.get("kind")))
            notes.append(
                f"Done without asking: your /policy has the {agent}'s {what} at {level} (internal bookkeeping runs "
                f"on its own; anything leaving the system still waits for you). /policy {agent} "
                f"{event.payload.get('kind')} ask asks again."
            )
    return notes


def ask_to_confirm(deps: Deps, state: dict[str, Any], question: str, facts: dict[str, Any]) -> StepResult:
    """Stop the run with ``question`` as the thread's pending question; the answer decides."""
    thread_key = f"{state['channel']}:{state['thread_id']}"
    intent = {k: v for k, v in state["intent"].items() if k != FIELD}
    try:
        source = deps.store.conversations.intent_for_run(state["run_id"]).text
    except NotFound:
        source = question.splitlines()[0]
    with deps.store.db.transaction() as tx:
        deps.store.conversations.ask(tx, thread_key, intent, [FIELD], question, source)
    return StepResult(notes=[f"{question}\n{HINT}"], stop=True, facts={"asked": FIELD, **facts})


def declined(intent: dict[str, Any]) -> str:
    """The reply to "no": nothing changed, and what stays."""
    who = intent.get("client_name")
    if not str(intent.get("kind", "")).startswith(("retainer", "update_terms")):
        return f"OK, nothing changed{': ' + who + ' stays as it is' if who else ''}."
    what = f"{who}'s retainer stays as it is" if who else "the retainer stays as it is"
    return f"OK, nothing changed: {what}."
