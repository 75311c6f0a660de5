"""Undo: reverse the operator's last change through a compensating ledger event.

"The last change" is the newest event in store/changes.py's history that is not undone yet:
an operator change (kind ``change``), a retainer ended, paused or resumed, or an e-mail that was
sent. Each undo reverses one, so undoing twice undoes the one before. An e-mail has left the
machine and cannot be taken back: undo says so and how to send a correction, and moves past it.
"""

from __future__ import annotations

from typing import Any

from graphs.deps import Deps
from graphs.intents import VoidInvoice, intent_to_dict
from graphs.step_kit import StepFn, StepResult, today_for
from graphs.steps_invoices import prepare_void
from graphs.undo_creations import (
    CREATED_KINDS,
    INVOICE_CREATED,
    PAYMENTS_IMPORTED,
    CannotUndo,
    Reversal,
    check_credit_unused,
    undo_created,
    undo_import,
)
from store.changes import RETAINER_KINDS
from store.db import Tx
from store.models import LedgerEvent, Retainer

_RETAINER_WHAT = {"retainer_ended": "ending", "retainer_paused": "pause", "retainer_resumed": "resume"}


def _undo_change(deps: Deps, tx: Tx, event: LedgerEvent) -> str:
    """Reverse one ``change`` event; returns what is now as it was."""
    p = event.payload
    changes = deps.store.changes
    what = p.get("what")
    if what == "client_deleted":
        rows = p["rows"]
        name = rows["client"]["name"]
        if tx.fetchone("SELECT id FROM clients WHERE name_key = ?", (rows["client"]["name_key"],)):
            raise CannotUndo(f"there is a client called {name} again, so the deleted one can't come back")
        changes.restore_client(tx, rows)
    elif what == PAYMENTS_IMPORTED:
        return undo_import(deps, tx, event)
    elif what == "client_created":
        name = p["summary"].removeprefix("added the client ")
        refs = changes.client_references(tx, p["row_id"])
        if refs:
            listed = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in refs.items())
            raise CannotUndo(f"{name} has {listed} since, so the client stays")
        changes.delete_client(tx, p["row_id"])
    elif what == "payment_recorded":
        check_credit_unused(tx, [p["payment_run"]])  # an over-payment's credit may be spent already
        tx.execute("DELETE FROM payments WHERE run_id = ?", (p["payment_run"],))
        if p.get("row_id"):
            changes.restore(tx, "invoices", p["row_id"], p["before"])
    else:
        changes.restore(tx, p["table"], p["row_id"], p["before"])
    for other in p.get("also", []):
        changes.restore(tx, other["table"], other["row_id"], other["before"])
    return str(p.get("undo_note") or "It is back as it was.")


def _undo_retainer(deps: Deps, tx: Tx, event: LedgerEvent) -> tuple[str, str]:
    p = event.payload
    changes = deps.store.changes
    changes.restore(tx, "retainers", p["retainer_id"], p["before"])
    client = deps.store.clients.get(p["client_id"], tx)
    row = tx.fetchone("SELECT * FROM retainers WHERE id = ?", (p["retainer_id"],))
    summary = f"the {_RETAINER_WHAT[event.kind]} of {client.name}'s retainer"
    state = f" It is {Retainer.model_validate(row).state_on(today_for(deps))}." if row else ""
    return summary, f"{client.name}'s retainer is back as it was.{state}"


def _sent(event: LedgerEvent) -> str:
    """What undo says about an e-mail that was sent."""
    p = event.payload
    what = {"send_invoice": "invoice", "send_proposal": "proposal"}.get(str(p.get("action")), "e-mail")
    when = event.created_at.date().isoformat()
    return (
        f"The last thing was the {what} “{p.get('subject')}” sent to {p.get('to')} on {when}. "
        "It has left the machine and can't be taken back. To correct it, tell me what to say, e.g. "
        f'"email {p.get("to")} that the {what} I sent had a mistake: …" — I\'ll draft it for your approval.'
        + (" For an invoice, void it with a credit note instead." if what == "invoice" else "")
        + " Say “undo” again to undo the change before it."
    )


def _sent_invoice(deps: Deps, event: LedgerEvent) -> str | None:
    """The number of the invoice a sent e-mail carried (still not void), if it carried one."""
    p = event.payload
    if p.get("action") not in ("send_invoice", "resend_invoice"):
        return None
    invoice = deps.store.billing.get_by_run(event.run_id)
    return invoice.number if invoice is not None and invoice.status != "void" else None


def _offer_void(deps: Deps, state: dict[str, Any], event: LedgerEvent, number: str) -> StepResult:
    """A sent invoice can't be unsent: undo offers its void with a credit note, through approval,
    and moves past it (and past the invoice's creation, which the void covers)."""
    invoice = deps.store.billing.get(number)
    assert invoice is not None
    with deps.store.db.transaction() as tx:
        deps.store.changes.mark_undone(tx, state["run_id"], event, f"void of {number} offered", reverted=False)
        created = tx.fetchall(
            "SELECT * FROM ledger WHERE kind = 'change' AND run_id = ? ORDER BY id", (invoice.run_id or "",)
        )
        for row in created:
            other = LedgerEvent.model_validate(row)
            if other.id != event.id and other.payload.get("what") == INVOICE_CREATED:
                deps.store.changes.mark_undone(tx, state["run_id"], other, f"void of {number} offered", reverted=False)
    sent = f"{number} was sent to {_sent_to(deps, event, invoice.run_id)}" if invoice.status != "draft" else number
    lead = f"{sent}: it has left the machine, so it can't simply be taken back. "
    offer = prepare_void(deps, {**state, "intent": intent_to_dict(VoidInvoice(invoice_number=number))})
    if offer.action is None:
        return StepResult(notes=[lead + " ".join(offer.notes)], stop=True, facts={"undoes": event.id})
    return StepResult(
        notes=[lead + "I can void it with a credit note to the client, once you approve:", *offer.notes],
        action=offer.action,
        client_id=offer.client_id,
        facts={"undoes": event.id, "reverted": False, **offer.facts},
    )


def _sent_to(deps: Deps, event: LedgerEvent, run_id: str | None) -> str:
    to = event.payload.get("to") if event.kind == "side_effect" else None
    if to:
        return str(to)
    row = deps.store.db.fetchone(
        "SELECT * FROM ledger WHERE kind = 'side_effect' AND run_id = ? ORDER BY id DESC", (run_id or "",)
    )
    return str(LedgerEvent.model_validate(row).payload.get("to")) if row is not None else "the client"


def undo_last_change(deps: Deps, state: dict[str, Any]) -> StepResult:
    event = deps.store.changes.last()
    if event is None:
        return StepResult(notes=["There is nothing to undo: I have no change of yours that is not undone already."])
    if event.kind == "side_effect":
        number = _sent_invoice(deps, event)
        if number is not None:
            return _offer_void(deps, state, event, number)
        note = _sent(event)
        with deps.store.db.transaction() as tx:
            deps.store.changes.mark_undone(tx, state["run_id"], event, "sent e-mail acknowledged", reverted=False)
        return StepResult(notes=[note], facts={"undoes": event.id, "reverted": False})
    if event.payload.get("what") in CREATED_KINDS:
        return _undo_creation(deps, state, event)
    try:
        with deps.store.db.transaction() as tx:
            if event.kind in RETAINER_KINDS:
                summary, restored = _undo_retainer(deps, tx, event)
            else:
                summary, restored = str(event.payload.get("summary", "your last change")), _undo_change(deps, tx, event)
            if not deps.store.changes.mark_undone(tx, state["run_id"], event, summary, reverted=True):
                raise CannotUndo("it was undone already")
    except CannotUndo as exc:
        return StepResult(
            notes=[f"I can't undo {event.payload.get('summary', 'that')}: {exc}. Nothing changed."], stop=True
        )
    return StepResult(notes=[f"Undone: {summary}. {restored}"], facts={"undoes": event.id, "reverted": True})


def _undo_creation(deps: Deps, state: dict[str, Any], event: LedgerEvent) -> StepResult:
    summary = str(event.payload.get("summary", "that"))
    try:
        with deps.store.db.transaction() as tx:
            reversal: Reversal = undo_created(deps, tx, event)
            if reversal.void is None and not deps.store.changes.mark_undone(
                tx, state["run_id"], event, summary, reverted=reversal.reverted
            ):
                raise CannotUndo("it was undone already")
    except CannotUndo as exc:
        return StepResult(notes=[f"I can't undo {summary}: {exc}. Nothing changed."], stop=True)
    if reversal.void is not None:
        return _offer_void(deps, state, event, reversal.void)
    said = f"Undone: {summary}. " if reversal.reverted else f"Nothing to put back for {summary}: "
    return StepResult(notes=[said + reversal.note], facts={"undoes": event.id, "reverted": reversal.reverted})


UNDO_STEPS: dict[str, StepFn] = {"undo_last_change": undo_last_change}
