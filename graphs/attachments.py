"""The files an approved e-mail carries: an invoice's or credit note's PDF (with Factur-X for an
EU seller), rendered when it is sent from the books as they are."""

from __future__ import annotations

from agents.invoice_files import attachment, document_for_credit_note, document_for_invoice
from agents.mailer import Attachment
from graphs.approvals import Action
from graphs.deps import Deps
from graphs.step_kit import today_for


def attachments_for(deps: Deps, action: Action) -> list[Attachment]:
    card = action.card
    if action.action in ("send_invoice", "resend_invoice"):
        if card.invoice_id is not None:
            invoice = deps.store.billing.by_id(card.invoice_id)
        elif card.number:
            found = deps.store.billing.get(card.number)
            if found is None:
                return []
            invoice = found
        else:
            return []
        return [attachment(document_for_invoice(deps.store, invoice, deps.sender_name))]
    if action.action == "send_credit_note" and card.number:
        note = deps.store.credit_notes.get(card.number)
        if note is None:
            return []
        return [attachment(document_for_credit_note(deps.store, note, deps.sender_name, today_for(deps)))]
    return []
