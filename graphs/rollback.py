"""`coo rollback RUN`: undo what a run did outside coo, newest first, by compensating actions.

Each side effect the ledger records for the run gets its compensating action, started as an
ordinary request in the run's thread, so it goes through the normal rules: a sent invoice is
voided with a credit note (the credit note waits for approval), an e-mail gets a correction
e-mail (a draft that waits for approval, to edit before it goes), a retainer the run set up
(its monthly invoices and weekly reports are scheduled work) is ended (after a yes), and an
automatic retry of a send that failed is cancelled. Each is recorded in the run's ledger
(``compensation_requested``). What cannot be compensated is listed, with why. Running it
again starts nothing twice: every compensation is keyed by the run and the step it undoes.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from graphs.conversation import Conversation
from graphs.envelope import Envelope
from store.models import LedgerEvent

_MAIL_WHAT = {
    "send_proposal": "proposal",
    "send_email": "e-mail",
    "send_reminder": "payment reminder",
    "send_credit_note": "credit note",
}


class Compensation(BaseModel):
    undoes: str  # what the run did, in the operator's words
    action: str  # what is done about it
    run_id: str | None = None  # the run that carries it out (its card or question in the thread)
    done: bool = False  # False: it cannot be compensated (``action`` says why)


class RollbackError(Exception):
    """The run cannot be rolled back; the message says why."""


def _request(conversation: Conversation, run: Any, key: str, intent: dict[str, Any], text: str, by: str) -> str | None:
    """Start an ordinary run for ``intent`` in the original's thread (once per ``key``)."""
    env = Envelope(
        channel=run.channel, event_id=f"rollback:{run.id}:{key}", thread_id=run.thread_id, user_id=by, text=text
    )
    handled = conversation.accept(env, intent, text)
    ids = handled.run_ids or handled.saved
    return ids[0] if ids else None


def _side_effects(events: list[LedgerEvent]) -> list[LedgerEvent]:
    return sorted((e for e in events if e.kind == "side_effect"), key=lambda e: e.id, reverse=True)


def rollback_run(conversation: Conversation, ref: str, *, by: str) -> tuple[str, list[Compensation]]:
    """Start the compensation of everything run ``ref`` did; returns (run id, what was done)."""
    store = conversation.store
    run = store.runs.find(ref)
    if run is None:
        raise RollbackError(f"There is no run {ref}. `coo ledger` lists the runs.")
    if run.status in ("queued", "running", "resuming"):
        raise RollbackError(f"Run {run.id} is {run.status}; roll it back once it has stopped.")
    done: list[Compensation] = []

    def record(step: str, comp: Compensation) -> None:
        store.ledger.append(
            run.id, step, "compensation_requested" if comp.done else "not_compensable", comp.model_dump(), actor=by
        )
        done.append(comp)

    for event in _side_effects(store.ledger.events(run.id)):
        p, receipt = event.payload, event.receipt or {}
        action, to, subject = p.get("action"), p.get("to"), p.get("subject") or ""
        if not receipt.get("sent"):
            path = receipt.get("detail") or "the outbox"
            record(
                event.step,
                Compensation(
                    undoes=f"{subject} to {to} (never sent: written to {path})",
                    action=f"nothing left the machine; delete {path} if you no longer want it",
                ),
            )
            continue
        if action in ("send_invoice", "resend_invoice"):
            number = _invoice_number(store, run.id, event)
            if number is None:
                record(event.step, Compensation(undoes=subject, action="the invoice is not on record any more"))
                continue
            invoice = store.billing.get(number)
            if invoice is not None and invoice.status == "void":
                record(
                    event.step,
                    Compensation(undoes=f"invoice {number} sent to {to}", action=f"{number} is void already"),
                )
                continue
            started = _request(
                conversation, run, event.step, {"kind": "void_invoice", "invoice_number": number}, f"void {number}", by
            )
            record(
                event.step,
                Compensation(
                    undoes=f"invoice {number} sent to {to}",
                    action=f"void {number} with a credit note to the client (waits for your approval)",
                    run_id=started,
                    done=True,
                ),
            )
            continue
        if action == "send_credit_note":
            record(
                event.step,
                Compensation(
                    undoes=f"{subject} sent to {to}",
                    action="cannot be compensated: the credit note voided its invoice for good; "
                    "invoice the client again if the work is still owed",
                ),
            )
            continue
        what = _MAIL_WHAT.get(str(action), "e-mail")
        body = (
            f'Please disregard my earlier {what} "{subject}": it was sent by mistake. '
            "I'll follow up with the correct details."
        )
        started = _request(
            conversation,
            run,
            event.step,
            {"kind": "send_email", "to": to, "subject": f"Correction: {subject}"[:200], "body": body},
            f"correction e-mail to {to} for {subject!r}",
            by,
        )
        record(
            event.step,
            Compensation(
                undoes=f"{what} {subject!r} sent to {to} (an e-mail cannot be unsent)",
                action=f"a correction e-mail to {to} (a draft: edit it, then approve)",
                run_id=started,
                done=True,
            ),
        )

    retainer = store.db.fetchone("SELECT * FROM retainers WHERE run_id = ? AND status = 'active'", (run.id,))
    if retainer is not None:
        client = store.clients.get(int(retainer["client_id"]))
        started = _request(
            conversation,
            run,
            "retainer",
            {"kind": "retainer_end", "client_name": client.name},
            f"end {client.name}'s retainer",
            by,
        )
        record(
            "retainer",
            Compensation(
                undoes=f"{client.name}'s retainer: monthly invoices and weekly reports scheduled",
                action="end the retainer (you confirm in the thread); nothing is billed after it ends",
                run_id=started,
                done=True,
            ),
        )

    for failure in store.side_effects.not_sent(run.id):
        if failure.retry_at is None:
            continue
        with store.db.transaction() as tx:
            tx.execute("UPDATE side_effects SET retry_at = NULL WHERE key = ? AND status = 'failed'", (failure.key,))
        step = failure.key.partition(":")[2]
        record(
            step,
            Compensation(
                undoes=f"the next automatic attempt at a {failure.kind} that was not sent",
                action="cancelled: it will not be tried again (/resend tries it by hand)",
                done=True,
            ),
        )

    for event in store.ledger.events(run.id):
        if event.kind == "change":
            record(
                event.step,
                Compensation(
                    undoes=f"a change: {event.payload.get('summary', event.step)}",
                    action="a change to coo's own records, not a side effect: say 'undo' in the thread to reverse it",
                ),
            )
    for approval in store.runs.pending_approvals():
        if approval.run_id == run.id:
            record(
                approval.step,
                Compensation(
                    undoes=f"approval #{approval.id} ({approval.card.get('title', approval.action)}) still waiting",
                    action=f"nothing was sent for it yet: /reject {approval.id} drops it",
                ),
            )
    if not done:
        done.append(Compensation(undoes="nothing", action=f"run {run.id} did nothing outside coo; nothing to undo"))
    return run.id, done


def _invoice_number(store: Any, run_id: str, event: LedgerEvent) -> str | None:
    """The number of the invoice the side effect sent: on its approval's card."""
    approval = store.runs.approval_for(run_id, event.step)
    number = approval.card.get("number") if approval is not None else None
    return str(number) if number else None
