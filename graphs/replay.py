"""`coo replay RUN [--from STEP]`: the run again on a fork, to see why coo decided what it did.

The fork is a new run (new id) of the same intent under the same playbook version, in the
original's thread, so its cards are decided where the operator decides the others; the original run, its records and its ledger are not
touched. Every side effect of the fork waits for approval whatever the autonomy settings say
(``hold`` in the run's state), so a replay sends nothing by itself. With ``--from STEP`` the
steps before STEP are not run again: their decisions are taken from the original's ledger.
A change the operator confirmed ("yes") is asked again on the fork; a run whose steps change
records without asking (a payment booked, a client added) is not replayed: it would happen twice.

The decisions compared are the ledger's: the intent (and how the message reads to the parser
now), the client found, the plan, each step's output, each approval asked, the outcome.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from pydantic import BaseModel

from graphs.intents import intent_to_dict
from graphs.parsing import IntentParser
from graphs.supervisor import RunState, Supervisor
from store.facade import Store
from store.models import Approval, LedgerEvent

# Steps that change coo's records without an approval or a "yes" (a payment booked, a client or
# a deliverable added, a record deleted…): a fork running them would do it a second time, for
# real. A replay refuses them; everything else drafts behind an approval, asks first, or reads.
WRITES_WITHOUT_ASKING = frozenset(
    {
        "add_deliverable",
        "add_task",
        "delete_record",
        "mark_deliverable_done",
        "mark_task_done",
        "move_due",
        "record_client",
        "record_payment",
        "record_revision",
        "record_void",
        "remember_fact",
        "undo_last_change",
    }
)


class ReplayError(Exception):
    """The run cannot be replayed as asked; the message says why."""


class Difference(BaseModel):
    what: str  # "intent", "context", "plan", "step prepare_invoice", "approval …", "outcome"
    original: str | None
    replay: str | None

    @property
    def same(self) -> bool:
        return self.original == self.replay


class Replay(BaseModel):
    original: str
    fork: str
    from_step: str | None
    differences: list[Difference]
    reparsed: str | None  # how the original message reads to the parser now, when it differs
    held: list[Approval]  # the fork's side effects, waiting for the operator
    status: str


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def decisions(events: list[LedgerEvent]) -> dict[str, str]:
    """The decisions a run's ledger records, by what was decided, in order."""
    out: dict[str, str] = {}
    for event in events:
        p = event.payload
        if event.kind == "intent_received":
            out["intent"] = _text(p.get("intent"))
        elif event.kind == "context_loaded":
            out["context"] = f"client {p['client']}" if p.get("client") else f"no client ({p.get('candidates')} found)"
        elif event.kind == "planned":
            out["plan"] = f"{p.get('playbook')} v{p.get('version')}: {', '.join(p.get('steps') or [])}"
        elif event.kind == "step_done":
            out[f"step {event.step}"] = _text(p)
        elif event.kind == "approval_asked":
            out[f"approval {event.step}"] = f"{p.get('title')} (to {p.get('to')})"
        elif event.kind == "run_finished":
            out["outcome"] = str(p.get("status"))
    return out


def compare(original: dict[str, str], replay: dict[str, str]) -> list[Difference]:
    keys = list(original) + [k for k in replay if k not in original]
    return [Difference(what=k, original=original.get(k), replay=replay.get(k)) for k in keys]


def _reparse(parser: IntentParser | None, store: Store, text: str, recorded: dict[str, Any], when: Any) -> str | None:
    """How the message reads now, when that differs from the recorded intent (commands and
    answers to questions were not parsed from their text alone: they are not re-read)."""
    if parser is None or not text or text.startswith("/") or " / " in text:
        return None
    now = intent_to_dict(parser.parse(text, store.clock.local(when).date(), store.clients.names()).intent)
    return None if now == recorded else _text(now)


def replay_run(
    supervisor: Supervisor, ref: str, *, from_step: str | None, by: str, parser: IntentParser | None = None
) -> Replay:
    store = supervisor.deps.store
    run = store.runs.find(ref)
    if run is None:
        raise ReplayError(f"There is no run {ref}. `coo ledger` lists the runs.")
    accepted = store.conversations.intent_for_run(run.id)
    events = store.ledger.events(run.id)
    original = decisions(events)
    planned = next((e for e in events if e.kind == "planned"), None)
    playbook = store.runs.playbook_of(run.id)
    steps: list[str] = list(planned.payload.get("steps") or []) if planned else []
    if from_step is not None and from_step not in steps:
        known = ", ".join(steps) if steps else "none (it was never planned)"
        raise ReplayError(f"Run {run.id} has no step {from_step}; its steps: {known}.")

    unsafe = [step for step in steps[steps.index(from_step) if from_step else 0 :] if step in WRITES_WITHOUT_ASKING]
    if unsafe:
        raise ReplayError(
            f"Run {run.id} cannot be replayed: its step {unsafe[0]} changes the records without asking, so a "
            f"replay would do it a second time. Its decisions are in `coo ledger {run.id}`."
        )
    # A change the operator confirmed is asked again on the fork: a "yes" in the thread applies it.
    intent = {**accepted.intent, "confirmed": False} if "confirmed" in accepted.intent else accepted.intent

    fork = "r-" + secrets.token_hex(5)
    channel, thread = run.channel, run.thread_id
    with store.db.transaction() as tx:
        copy, _ = store.conversations.accept(
            tx, f"replay:{fork}", channel, thread, by, accepted.text, intent, run_id=fork
        )
        store.runs.create(tx, fork, copy.id, run.kind, channel, thread, by)
        if playbook is not None:  # the same playbook version as the original
            store.runs.set_playbook(fork, playbook[0], playbook[1], tx=tx)
        store.ledger.append(
            fork,
            "intake",
            "intent_received",
            {"intent": intent, "channel": channel, "text": accepted.text, "replay_of": run.id},
            actor=by,
            tx=tx,
        )
        store.ledger.append(fork, "replay", "replay_started", {"run": run.id, "from": from_step}, actor=by, tx=tx)
    state: RunState = {
        "run_id": fork,
        "intent": intent,
        "channel": channel,
        "thread_id": thread,
        "hold": True,
    }
    if from_step is None:
        supervisor.run_from(fork, state)
    else:
        # The steps before STEP are the original's: their decisions come from its ledger.
        cursor = steps.index(from_step)
        notes: list[str] = []
        for event in events:
            if event.kind == "step_done" and event.step in steps[:cursor]:
                notes.extend(event.payload.get("notes") or [])
        loaded = next((e for e in events if e.kind == "context_loaded"), None)
        client_id = loaded.payload.get("client_id") if loaded else None
        store.runs.set_status(fork, "running")
        for event in events:
            if event.kind in ("context_loaded", "planned") or (
                event.kind == "step_done" and event.step in steps[:cursor]
            ):
                store.ledger.append(fork, event.step, event.kind, event.payload)  # as decided then
        state["plan"], state["cursor"], state["notes"] = steps, cursor, notes
        state["client_id"], state["side_effects"], state["action"], state["stop"] = client_id, 0, None, False
        supervisor.run_from(fork, state, after="plan")
    replayed = decisions(store.ledger.events(fork))
    held = [
        a
        for a in (
            store.runs.approval(int(r["id"]))
            for r in store.db.fetchall("SELECT id FROM approvals WHERE run_id = ? ORDER BY id", (fork,))
        )
        if a is not None and a.status == "pending"
    ]
    return Replay(
        original=run.id,
        fork=fork,
        from_step=from_step,
        differences=compare(original, replayed),
        reparsed=_reparse(parser, store, accepted.text, accepted.intent, accepted.created_at),
        held=held,
        status=store.runs.get(fork).status,
    )


def render(replay: Replay, store: Store) -> str:
    start = f" from step {replay.from_step}" if replay.from_step else ""
    lines = [
        f"Replay of run {replay.original}{start} as run {replay.fork} (the original is untouched): {replay.status}."
    ]
    if replay.reparsed is not None:
        lines.append(f"  The message reads differently now: {replay.reparsed}")
    changed = [d for d in replay.differences if not d.same]
    same = [d.what for d in replay.differences if d.same]
    if same:
        lines.append(f"  Same decisions: {', '.join(same)}.")
    if not changed:
        lines.append("  No decision differs.")
    waiting = "(not reached: the replay waits for approval)" if replay.held else "(not reached)"
    for d in changed:
        lines.append(f"  {d.what} differs:")
        lines.append(f"    - original: {d.original if d.original is not None else '(not reached)'}")
        lines.append(f"    + replay:   {d.replay if d.replay is not None else waiting}")
    for approval in replay.held:
        title = approval.card.get("title", approval.action)
        lines.append(
            f"  Held for approval: #{approval.id} {title}, its card in the run's thread. Nothing was sent:"
            f" /reject {approval.id} discards it (/approve {approval.id} would really send it)."
        )
    lines.append(f"  The replay's events: coo ledger {replay.fork}")
    return "\n".join(lines)
