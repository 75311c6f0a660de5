"""Factur-X / ZUGFeRD (EN 16931) for an EU seller: the document as CII XML, embedded in its PDF.

The XML is built with ``drafthorse`` from the same InvoiceDocument as the PDF (so their figures
are one), checked against the Factur-X EN 16931 schema when it is serialised, and attached to the
PDF as ``factur-x.xml`` (PDF/A-3 with the Factur-X metadata) by ``drafthorse.pdf.attach_xml``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem
from drafthorse.pdf import attach_xml

from agents.errors import AgentError
from agents.invoice_document import InvoiceDocument, Party
from store.money import Money

PROFILE = "urn:cen.eu:en16931:2017"
SCHEMA = "FACTUR-X_EN16931"

# UN/ECE Recommendation 20 unit codes for the units coo writes on a line.
_UNIT_CODES = {"hour": "HUR", "day": "DAY", "week": "WEE", "month": "MON", "page": "C62", "session": "C62"}
_POSTCODE_CITY = re.compile(r"^(?P<postcode>[A-Z]{0,3}-?\d[\dA-Z -]{1,9}?)\s+(?P<city>\D.*)$")
_TAX_CODES = {"reverse_charge": "AE", "exempt": "E"}
_EXEMPTIONS = {
    "AE": ("VATEX-EU-AE", "Reverse charge"),
    "E": (None, "Exempt from VAT"),
    "O": ("VATEX-EU-O", "Not subject to VAT"),
}


def _amount(money: Money) -> Decimal:
    return money.amount


def _plain(number: Decimal) -> Decimal:
    """Without an exponent: a quantity stored as "1E+1" is written 10 (the schema wants digits)."""
    return Decimal(f"{number:f}")


def _address(party: Party, target: object, fallback_country: str | None) -> None:
    lines = list(party.address)
    address = target.address  # type: ignore[attr-defined]
    if lines:
        last = _POSTCODE_CITY.match(lines[-1])
        if last:
            address.postcode = last.group("postcode").strip()
            address.city_name = last.group("city").strip()
            lines = lines[:-1]
        elif len(lines) > 1:
            address.city_name = lines.pop()
    for field, line in zip(("line_one", "line_two", "line_three"), lines, strict=False):
        setattr(address, field, line)
    address.country_id = party.country or fallback_country or "DE"


def _category(document: InvoiceDocument, rate: Decimal | None) -> str:
    if document.taxes.treatment in _TAX_CODES:
        return _TAX_CODES[document.taxes.treatment]
    if not document.taxes.bands:
        return "O"
    return "S" if rate else "Z"


def facturx_xml(document: InvoiceDocument) -> bytes:
    """The document as Factur-X EN 16931 CII XML (schema-checked by drafthorse as it serialises)."""
    doc = Document()
    doc.context.guideline_parameter.id = PROFILE
    doc.header.id = document.number
    credit = document.kind == "credit_note"
    doc.header.type_code = "381" if credit else "380"
    doc.header.issue_date_time = document.issue_date
    for text in document.notes:
        note = IncludedNote()
        note.content = text
        doc.header.notes.add(note)

    seller, buyer = doc.trade.agreement.seller, doc.trade.agreement.buyer
    seller.name = document.seller.name
    _address(document.seller, seller, None)
    if document.seller.tax_id:
        seller.tax_registrations.add(TaxRegistration(id=("VA", document.seller.tax_id)))
    if document.seller.email:
        seller.electronic_address.uri_ID = ("EM", document.seller.email)
    buyer.name = document.buyer.name
    _address(document.buyer, buyer, document.seller.country)
    if document.buyer.tax_id:
        buyer.tax_registrations.add(TaxRegistration(id=("VA", document.buyer.tax_id)))
    if document.buyer.email:
        buyer.electronic_address.uri_ID = ("EM", document.buyer.email)
    if document.po_number:
        doc.trade.agreement.buyer_order.issuer_assigned_id = document.po_number

    settlement = doc.trade.settlement
    settlement.currency_code = document.currency
    settlement.payment_reference = document.refers_to or document.number
    if document.refers_to:
        settlement.invoice_referenced_document.issuer_assigned_id = document.refers_to
        settlement.invoice_referenced_document.issue_date_time = document.refers_to_date
    means = PaymentMeans()
    iban = next((line for line in document.payment if line.startswith("IBAN ")), None)
    if iban:
        means.type_code = "58"  # SEPA credit transfer
        means.payee_account.iban = iban.split(" · ")[0].removeprefix("IBAN ").replace(" ", "")
        if " · BIC " in iban:
            means.payee_institution.bic = iban.split(" · BIC ")[1].strip()
    else:
        means.type_code = "30" if document.payment else "1"  # credit transfer; not defined
    settlement.payment_means.add(means)

    for position, line in enumerate(document.lines, start=1):
        item = LineItem()
        item.document.line_id = str(position)
        item.product.name = line.description
        item.agreement.net.amount = line.unit_price.amount
        item.delivery.billed_quantity = (_plain(line.quantity), _UNIT_CODES.get(line.unit or "", "C62"))
        category = _category(document, line.tax_rate)
        item.settlement.trade_tax.type_code = "VAT"
        item.settlement.trade_tax.category_code = category
        item.settlement.trade_tax.rate_applicable_percent = (
            (line.tax_rate or Decimal(0)) if category in "SZ" else Decimal(0)
        )
        item.settlement.monetary_summation.total_amount = _amount(line.net)
        doc.trade.items.add(item)

    taxes = document.taxes
    bands = [(band.rate, band.base, band.tax) for band in taxes.bands] or [
        (Decimal(0), taxes.net, Money.zero(document.currency))
    ]
    for rate, base, tax in bands:
        trade_tax = ApplicableTradeTax()
        category = _category(document, rate)
        trade_tax.type_code = "VAT"
        trade_tax.category_code = category
        trade_tax.basis_amount = _amount(base)
        trade_tax.calculated_amount = _amount(tax)
        if category in _EXEMPTIONS:
            code, reason = _EXEMPTIONS[category]
            trade_tax.exemption_reason = reason
            if code:
                trade_tax.exemption_reason_code = code
        else:
            trade_tax.rate_applicable_percent = _plain(rate)
        settlement.trade_tax.add(trade_tax)

    if document.due_date is not None:
        terms = PaymentTerms()
        terms.due = document.due_date
        settlement.terms.add(terms)
    prepaid = document.prepaid or Money.zero(document.currency)
    summary = settlement.monetary_summation
    summary.line_total = _amount(taxes.net)
    summary.charge_total = Decimal("0.00")
    summary.allowance_total = Decimal("0.00")
    summary.tax_basis_total = _amount(taxes.net)
    summary.tax_total = (_amount(taxes.tax), document.currency)
    summary.grand_total = _amount(taxes.gross)
    summary.prepaid_total = _amount(prepaid)
    summary.due_amount = _amount(taxes.gross - prepaid)
    try:
        return bytes(doc.serialize(schema=SCHEMA))
    except Exception as exc:  # drafthorse raises a bare Exception or lxml's errors on invalid XML
        raise AgentError(f"the e-invoice for {document.number} does not validate ({exc})") from exc


def with_facturx(pdf: bytes, document: InvoiceDocument) -> bytes:
    """The PDF with its Factur-X XML attached (PDF/A-3, profile EN 16931)."""
    return bytes(attach_xml(pdf, facturx_xml(document), level="EN 16931", lang=document.language))
