"""Runs brought back after a move to another database (`coo export` + `coo import`).

A snapshot carries the ledger, the intents, the runs and their approvals, but not LangGraph's
checkpoints (working state in a format of each database's own saver). A run that waited for
approval is therefore re-planned from its intent: its steps run again under the same run id,
where everything they record is keyed by the run (the same invoice, the same approval, the same
ledger events), up to the gate it waited at; then its card is shown again, so the operator
sees the approvals that survived the move (where the chat still has the card, Slack or
Telegram, that card is brought up to date and the thread is told it still waits). Nothing is sent on the way: side effects wait behind
the gate, and a send that already happened is found by its idempotency key.
"""

from __future__ import annotations

import logging

from graphs.approvals import Card, Draft, card_buttons, render_card
from graphs.supervisor import Supervisor

log = logging.getLogger(__name__)

AGAIN = "After the move to this database, approval #{n} is still waiting for your decision:"


def checkpointed(supervisor: Supervisor, run_id: str) -> bool:
    """True when LangGraph has a saved state for the run (waiting at a gate, or mid-run)."""
    snapshot = supervisor.graph.get_state(supervisor._run_config(run_id))
    return bool(snapshot.next or snapshot.interrupts)


def revive_waiting_runs(supervisor: Supervisor) -> list[int]:
    """Re-plan every run that waits for approval without a checkpoint, and announce its card
    again; returns the approvals announced (empty when every waiting run has its state)."""
    store = supervisor.deps.store
    announced: list[int] = []
    for approval in store.runs.pending_approvals():
        if checkpointed(supervisor, approval.run_id):
            continue
        try:
            supervisor.start(approval.run_id)
        except Exception:
            # One run that cannot be re-planned must not keep the others dead; the tap on its
            # card re-plans it again (Supervisor.resume), and the log says why this one failed.
            log.exception("run %s could not be re-planned after the import", approval.run_id)
            continue
        fresh = store.runs.approval(approval.id)
        if fresh is None or fresh.status != "pending" or not checkpointed(supervisor, approval.run_id):
            log.warning("run %s did not reach approval #%s again after the import", approval.run_id, approval.id)
            continue
        run = store.runs.get(approval.run_id)
        card, draft = Card.model_validate(fresh.card), Draft.model_validate(fresh.draft)
        store.conversations.post(
            run.channel,
            run.thread_id,
            f"{AGAIN.format(n=fresh.id)}\n{render_card(fresh.id, card, draft)}",
            run_id=run.id,
            dedupe=f"{run.id}:{fresh.step}:card:revived",
            payload={
                "approval_id": fresh.id,
                "card": card.model_dump(),
                "draft": draft.model_dump(),
                "buttons": card_buttons(draft),
            },
        )
        store.ledger.append(run.id, fresh.step, "run_replanned", {"approval_id": fresh.id, "why": "imported"})
        announced.append(fresh.id)
    return announced


def finish_decided_runs(supervisor: Supervisor) -> list[str]:
    """Runs decided just before the export ("resuming": the resume job stayed in the old queue)
    are resumed now; returns their ids."""
    store = supervisor.deps.store
    rows = store.db.fetchall(
        "SELECT a.id, a.run_id FROM approvals a JOIN runs r ON r.id = a.run_id"
        " WHERE r.status = 'resuming' AND a.status <> 'pending' ORDER BY a.id"
    )
    resumed: list[str] = []
    for row in rows:
        try:
            supervisor.resume(row["run_id"], int(row["id"]))
        except Exception:
            log.exception("run %s could not be resumed after the import", row["run_id"])
            continue
        resumed.append(row["run_id"])
    return resumed
