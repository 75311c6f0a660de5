"""What an invoice or credit note says, once, for every form it takes (PDF, Factur-X XML, approval card).

``InvoiceDocument`` gathers the seller's profile, the client's billing details, the lines with
their tax rates and the totals from the books (store/tax.py), so the PDF, the embedded e-invoice
and the card cannot disagree: each is rendered from the same document.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from store.credit_notes import CreditNote
from store.credits import CreditUse
from store.invoice_profile import ClientBilling, SellerProfile
from store.models import Client, Invoice
from store.money import Money
from store.tax import TaxSummary, rate_text

DocumentKind = Literal["invoice", "credit_note"]

# The words printed on a document, per language of the client (ClientBilling.language).
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "credit_applied": "Credit applied",
        "amount_due": "Amount due",
        "paid_kept": "Already paid, kept as your credit",
        "no_longer_owed": "Amount no longer owed",
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "number": "Number",
        "issued": "Issue date",
        "due": "Due date",
        "bill_to": "Bill to",
        "tax_id": "VAT/Tax ID",
        "po": "PO number",
        "description": "Description",
        "qty": "Qty",
        "unit_price": "Unit price",
        "rate": "Tax",
        "amount": "Amount",
        "net": "Net total",
        "tax_on": "Tax {rate} on {base}",
        "tax": "Tax",
        "gross": "Total",
        "payment": "Payment",
        "cancels": "Cancels invoice {number} of {date}",
        "late_fee": "Late payment: {rate} per month is charged on overdue amounts.",
        "terms": "Please pay by {date}, quoting {number}.",
    },
    "de": {
        "credit_applied": "Verrechnetes Guthaben",
        "amount_due": "Zu zahlen",
        "paid_kept": "Bereits bezahlt, als Guthaben geführt",
        "no_longer_owed": "Nicht mehr geschuldet",
        "invoice": "Rechnung",
        "credit_note": "Gutschrift",
        "number": "Nummer",
        "issued": "Rechnungsdatum",
        "due": "Fällig am",
        "bill_to": "Rechnung an",
        "tax_id": "USt-IdNr.",
        "po": "Bestellnummer",
        "description": "Beschreibung",
        "qty": "Menge",
        "unit_price": "Einzelpreis",
        "rate": "USt",
        "amount": "Betrag",
        "net": "Nettobetrag",
        "tax_on": "USt {rate} auf {base}",
        "tax": "USt",
        "gross": "Gesamtbetrag",
        "payment": "Zahlung",
        "cancels": "Storniert Rechnung {number} vom {date}",
        "late_fee": "Bei Zahlungsverzug werden {rate} pro Monat auf offene Beträge berechnet.",
        "terms": "Bitte zahlen Sie bis {date} unter Angabe von {number}.",
    },
    "fr": {
        "credit_applied": "Avoir imputé",
        "amount_due": "Reste à payer",
        "paid_kept": "Déjà payé, conservé en avoir",
        "no_longer_owed": "Montant plus dû",
        "invoice": "Facture",
        "credit_note": "Avoir",
        "number": "Numéro",
        "issued": "Date de facture",
        "due": "Échéance",
        "bill_to": "Facturé à",
        "tax_id": "N° TVA",
        "po": "Bon de commande",
        "description": "Désignation",
        "qty": "Qté",
        "unit_price": "Prix unitaire",
        "rate": "TVA",
        "amount": "Montant",
        "net": "Total HT",
        "tax_on": "TVA {rate} sur {base}",
        "tax": "TVA",
        "gross": "Total TTC",
        "payment": "Paiement",
        "cancels": "Annule la facture {number} du {date}",
        "late_fee": "Pénalités de retard : {rate} par mois sur les montants échus.",
        "terms": "Merci de régler avant le {date} en indiquant {number}.",
    },
}


class Party(BaseModel):
    name: str
    address: list[str] = []
    country: str | None = None
    tax_id: str | None = None
    email: str | None = None


class DocumentLine(BaseModel):
    description: str
    quantity: Decimal
    unit: str | None = None
    unit_price: Money
    net: Money
    tax_rate: Decimal | None = None


class InvoiceDocument(BaseModel):
    kind: DocumentKind = "invoice"
    number: str
    issue_date: date
    due_date: date | None = None
    currency: str
    language: str = "en"
    seller: Party
    buyer: Party
    lines: list[DocumentLine]
    taxes: TaxSummary
    po_number: str | None = None
    payment: list[str] = []
    notes: list[str] = []
    # Below the total: credit used, what was paid, and what is then due ("Amount due").
    settlement: list[tuple[str, Money]] = []
    prepaid: Money | None = None  # the client's credit this invoice uses (EN 16931: paid amount)
    refers_to: str | None = None  # a credit note: the invoice it cancels
    refers_to_date: date | None = None
    logo: str | None = None
    eu_seller: bool = False

    def label(self, key: str, **values: object) -> str:
        words = LABELS.get(self.language, LABELS["en"])
        return words.get(key, LABELS["en"][key]).format(**values)

    @property
    def title(self) -> str:
        return f"{self.label(self.kind)} {self.number}"

    def total_lines(self) -> list[tuple[str, Money]]:
        """The totals block, as printed on the PDF and shown on the approval card."""
        rows: list[tuple[str, Money]] = []
        if self.taxes.taxed:
            rows.append((self.label("net"), self.taxes.net))
            for band in self.taxes.bands:
                rows.append((self.label("tax_on", rate=rate_text(band.rate), base=band.base), band.tax))
        rows.append((self.label("gross"), self.taxes.gross))
        rows.extend(self.settlement)
        return rows


def _seller_party(seller: SellerProfile, fallback: str) -> Party:
    return Party(
        name=seller.legal_name or fallback,
        address=(seller.address or "").splitlines(),
        country=seller.country,
        tax_id=seller.tax_id,
        email=seller.email,
    )


def _buyer_party(client: Client, billing: ClientBilling) -> Party:
    return Party(
        name=billing.legal_name or client.name,
        address=(billing.address or "").splitlines(),
        country=billing.country,
        tax_id=billing.tax_id,
        email=billing.billing_email or client.contact_email,
    )


def _lines(invoice: Invoice) -> list[DocumentLine]:
    return [
        DocumentLine(
            description=line.description,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=Money.from_cents(line.unit_price_cents, invoice.currency),
            net=Money.from_cents(line.total_cents, invoice.currency),
            tax_rate=line.tax_rate,
        )
        for line in invoice.lines
    ]


def _notes(seller: SellerProfile, taxes: TaxSummary, language: str) -> list[str]:
    notes = [taxes.note] if taxes.note else []
    if seller.late_fee:
        notes.append(LABELS.get(language, LABELS["en"])["late_fee"].format(rate=rate_text(seller.late_fee)))
    return notes


def invoice_document(
    invoice: Invoice,
    client: Client,
    seller: SellerProfile,
    billing: ClientBilling,
    sender_name: str,
    credit: CreditUse | None = None,
) -> InvoiceDocument:
    """The invoice as its documents show it; ``credit``: the client's credit it uses."""
    taxes = invoice.taxes
    settlement: list[tuple[str, Money]] = []
    language = billing.language or "en"
    words = LABELS.get(language, LABELS["en"])
    used = None
    if credit is not None and credit.status != "released" and credit.amount_cents:
        used = Money.from_cents(credit.amount_cents, invoice.currency)
        settlement = [(words["credit_applied"], -used), (words["amount_due"], taxes.gross - used)]
    document = InvoiceDocument(
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        language=language,
        seller=_seller_party(seller, sender_name),
        buyer=_buyer_party(client, billing),
        lines=_lines(invoice),
        taxes=taxes,
        po_number=billing.po_number,
        payment=seller.payment_lines,
        notes=_notes(seller, taxes, language),
        settlement=settlement,
        prepaid=used,
        logo=seller.logo,
        eu_seller=seller.eu,
    )
    terms = document.label("terms", date=invoice.due_date.isoformat(), number=invoice.number)
    return document.model_copy(update={"notes": [terms, *document.notes]})


def credit_note_document(
    note: CreditNote,
    invoice: Invoice,
    client: Client,
    seller: SellerProfile,
    billing: ClientBilling,
    sender_name: str,
    issued_on: date,
) -> InvoiceDocument:
    """A credit note cancels its whole invoice: the same lines and tax, under its own number. What
    had been paid on the invoice is shown as kept for the client (their credit)."""
    taxes = invoice.taxes
    language = billing.language or "en"
    words = LABELS.get(language, LABELS["en"])
    settlement: list[tuple[str, Money]] = []
    if note.credited_cents:
        settlement = [
            (words["paid_kept"], Money.from_cents(note.credited_cents, note.currency)),
            (words["no_longer_owed"], Money.from_cents(note.amount_cents, note.currency)),
        ]
    document = InvoiceDocument(
        kind="credit_note",
        number=note.number,
        issue_date=issued_on,
        currency=note.currency,
        language=language,
        seller=_seller_party(seller, sender_name),
        buyer=_buyer_party(client, billing),
        lines=_lines(invoice),
        taxes=taxes,
        po_number=billing.po_number,
        notes=[taxes.note] if taxes.note else [],
        settlement=settlement,
        refers_to=invoice.number,
        refers_to_date=invoice.issue_date,
        logo=seller.logo,
        eu_seller=seller.eu,
    )
    cancels = document.label("cancels", number=invoice.number, date=invoice.issue_date.isoformat())
    return document.model_copy(update={"notes": [cancels, *document.notes]})


def line_rate(said: Decimal | None, billing: ClientBilling, seller: SellerProfile) -> Decimal | None:
    """A line's tax rate: the one said for it, else the client's default, else the seller's."""
    if said is not None:
        return said
    return billing.tax_rate if billing.tax_rate is not None else seller.tax_rate


def profile_questions(seller: SellerProfile) -> list[str]:
    """Asked while the seller's profile lacks what an invoice needs (said with every invoice until set)."""
    missing = seller.missing()
    if not missing:
        return []
    return [
        f"Your invoice PDF still lacks your {', '.join(missing)}: set them once with /profile field=value"
        " (e.g. /profile legal_name=Jane Doe Design LLC address=1 Main St; Springfield iban=…)"
        " or `coo profile field=value`."
    ]


def with_conversion(document: InvoiceDocument, currency: str, rate: Decimal, on: date) -> InvoiceDocument:
    """The document with its total also stated in ``currency`` at the operator's dated rate, for
    information only: the invoice stays payable in its own currency and the books are unchanged."""
    target = Money.zero(currency).currency
    if target == document.currency:
        raise ValueError(f"the invoice is already in {target}")
    if not rate.is_finite() or rate <= 0:
        raise ValueError(f"{rate} is not an exchange rate (1 {document.currency} = how many {target}?)")
    converted = Money.of(document.taxes.gross.amount * rate, target)
    note = (
        f"For information: {document.taxes.gross} = {converted} at 1 {document.currency} = {rate.normalize():f}"
        f" {target} (rate of {on.isoformat()}). Payable in {document.currency}."
    )
    return document.model_copy(update={"notes": [*document.notes, note]})


def document_line(seller: SellerProfile, billing: ClientBilling, client: Client, sender_name: str) -> str:
    """One card line on the attached document: who to whom, the PO, the language, the e-invoice."""
    said = f"PDF attached: from {seller.legal_name or sender_name} to {billing.legal_name or client.name}"
    if billing.po_number:
        said += f", PO {billing.po_number}"
    if billing.language and billing.language != "en":
        said += f", in {billing.language}"
    if seller.eu:
        said += ", with Factur-X (EN 16931)"
    return said + "."
