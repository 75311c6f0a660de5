"""Asking before a change to money: a step shows what will change and asks yes / no.

The question is the thread's pending question (store/conversations.py) about the intent's
``confirmed`` field: "yes" runs the same intent again with ``confirmed`` set, "no" drops it and
changes nothing (graphs/conversation.py). Only the operator's answer sets ``confirmed``: the
conversation clears it on every parsed message.
"""

from __future__ import annotations

from typing import Any

from graphs.deps import Deps
from graphs.step_kit import StepResult
from store.errors import NotFound

FIELD = "confirmed"
HINT = "Reply yes to go ahead, or no to keep things as they are."


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
