"""The PDF of an invoice or credit note, as attached to its e-mail and written by `coo invoice pdf`.

Built from the books at the moment it is needed (same invoice, same figures: the PDF of a sent
invoice never changes unless the seller's or client's details were changed since), with the
Factur-X XML embedded when the seller is in the EU.
"""

from __future__ import annotations

from datetime import date

from agents.errors import AgentError
from agents.facturx import with_facturx
from agents.invoice_document import InvoiceDocument, credit_note_document, invoice_document
from agents.invoice_pdf import render_pdf
from agents.mailer import Attachment
from store.credit_notes import CreditNote
from store.facade import Store
from store.invoice_numbers import file_name
from store.models import Invoice


def document_for_invoice(store: Store, invoice: Invoice, sender_name: str) -> InvoiceDocument:
    client = store.clients.get(invoice.client_id)
    credit = store.credits.for_invoice(invoice.id)
    return invoice_document(
        invoice,
        client,
        store.invoice_profiles.seller(),
        store.invoice_profiles.billing(client.id),
        sender_name,
        credit,
    )


def document_for_credit_note(store: Store, note: CreditNote, sender_name: str, today: date) -> InvoiceDocument:
    invoice = store.billing.by_id(note.invoice_id)
    client = store.clients.get(note.client_id)
    issued = store.clock.local(note.issued_at).date() if note.issued_at is not None else today
    return credit_note_document(
        note,
        invoice,
        client,
        store.invoice_profiles.seller(),
        store.invoice_profiles.billing(client.id),
        sender_name,
        issued,
    )


def pdf_of(document: InvoiceDocument) -> bytes:
    """The PDF, carrying Factur-X XML for an EU seller."""
    pdf = render_pdf(document)
    return with_facturx(pdf, document) if document.eu_seller else pdf


def attachment(document: InvoiceDocument) -> Attachment:
    return Attachment(filename=file_name(document.number), content_type="application/pdf", data=pdf_of(document))


def document_by_number(store: Store, number: str, sender_name: str) -> InvoiceDocument:
    """The document numbered INV-… or CN-…; an unknown number is said plainly."""
    if number.upper().startswith("CN-"):
        note = store.credit_notes.get(number)
        if note is None:
            raise AgentError(f"There is no credit note {number}.")
        return document_for_credit_note(store, note, sender_name, store.clock.today())
    invoice = store.billing.get(number)
    if invoice is None:
        raise AgentError(f"There is no invoice {number}.")
    return document_for_invoice(store, invoice, sender_name)
