"""Performing approved side effects exactly once, and compensating rejected ones."""

from __future__ import annotations

from typing import Any

from agents.errors import AgentError, DeliveryUncertain
from agents.mailer import OutgoingEmail
from graphs.approvals import Action, is_address
from graphs.attachments import attachments_for
from graphs.deps import Deps
from store.models import format_money

_WHAT = {
    "send_proposal": "proposal",
    "send_invoice": "invoice",
    "send_email": "e-mail",
    "send_credit_note": "credit note",
    "resend_invoice": "invoice",
    "send_reminder": "payment reminder for",
}


def idempotency_key(run_id: str, step: str) -> str:
    return f"{run_id}:{step}"


def perform(deps: Deps, run_id: str, action: Action) -> dict[str, Any]:
    """Send what was approved. Returns the receipt; a retry returns the first receipt."""
    if not is_address(action.draft.to):
        raise AgentError(f"there is no e-mail address to send it to ({action.draft.to or 'none on file'})")
    key = idempotency_key(run_id, action.step)
    claim = deps.store.side_effects.claim(key, run_id, action.action)
    if claim.status == "done":
        return dict(claim.receipt or {})
    if claim.status == "uncertain":
        raise DeliveryUncertain(
            "an earlier attempt to send this was interrupted and may or may not have gone out; "
            "I did not send it again. Check the recipient's inbox or your mail log."
        )
    try:
        receipt = deps.mailer.send(
            OutgoingEmail(
                to=action.draft.to,
                subject=action.draft.subject,
                body=action.draft.body,
                idempotency_key=key,
                in_reply_to=action.draft.in_reply_to,
                references=action.draft.references,
                attachments=attachments_for(deps, action),
            )
        ).model_dump()
    except DeliveryUncertain:
        # The server may have it: the claim stays, so no attempt ever sends it a second time.
        raise
    except AgentError as exc:
        # Nothing left the machine: on record as not sent, and the next attempt may claim it.
        deps.store.side_effects.fail(key, str(exc))
        raise
    receipt["idempotency_key"] = key
    with deps.store.db.transaction() as tx:
        if action.card.invoice_id is not None:
            # "issued": numbered and owed, but only in the outbox; the operator sends it by hand.
            deps.store.billing.set_status(tx, action.card.invoice_id, "sent" if receipt["sent"] else "issued")
        if action.action == "send_credit_note" and action.card.number:
            # The void is booked with the credit note's receipt: a note that did not go out voids nothing.
            deps.store.credit_notes.issue(tx, action.card.number)
        deps.store.artifacts.create(
            tx,
            "email",
            action.draft.subject,
            action.draft.body,
            run_id,
            action.card.client_id,
            {"to": action.draft.to, "receipt": receipt, "action": action.action},
            dedupe=action.step,
        )
    deps.store.side_effects.complete(key, receipt)
    return receipt


def compensation_for(action: Action) -> str:
    """How the side effect could be undone, recorded beside its receipt."""
    if action.action in ("send_invoice", "resend_invoice"):
        return "void the invoice and send the client a credit note"
    return "cannot be unsent; send a correction e-mail if needed"


def reject(deps: Deps, run_id: str, action: Action) -> str:
    """Undo the drafts a rejected action leaves behind; returns what was done, for the reply."""
    what = _WHAT.get(action.action, "it")
    if action.action == "send_proposal":
        with deps.store.db.transaction() as tx:
            withdrawn, restored = deps.store.work.withdraw_retainer(tx, run_id)
        if withdrawn is not None:
            # A rejected proposal means the retainer is not going ahead: nothing bills it.
            number = action.card.number
            said = (
                f"Rejected: the proposal{' #' + number if number else ''} was not sent, and its retainer is cancelled"
            )
            if restored is not None:
                terms = format_money(restored.monthly_amount, restored.currency)
                return f"{said}; the earlier retainer ({terms}/month) applies again."
            return f"{said}: it will not be billed."
    if action.action == "send_credit_note" and action.card.number:
        with deps.store.db.transaction() as tx:
            deps.store.credit_notes.cancel(tx, action.card.number)
        return (
            f"Rejected: nothing changed — the invoice stands as it was, and credit note {action.card.number}"
            " was not sent (cancelled; its number stays in the sequence)."
        )
    if action.card.invoice_id is not None:
        invoice = deps.store.billing.by_id(action.card.invoice_id)
        credit = deps.store.credits.for_invoice(invoice.id)
        with deps.store.db.transaction() as tx:
            deps.store.billing.set_status(tx, invoice.id, "void")  # gives back the credit it held
        said = f"Rejected: invoice #{invoice.number} was not sent and is now void (its number stays in the sequence)."
        if credit is not None and credit.status == "held":
            said += f" The {format_money(credit.amount, credit.currency)} credit it would have used is still available."
        return said
    number = action.card.number
    return f"Rejected: the {what}{' #' + number if number else ''} was not sent."
