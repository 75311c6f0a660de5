"""Invoicer: turns requested work into an invoice document with totals and a due date."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from agents.letters import greeting_for
from store.credits import CreditUse
from store.invoice_numbers import file_name
from store.models import Client, Invoice, InvoiceLine, format_money, from_cents
from store.tax import rate_text

DEFAULT_TERMS_DAYS = 14


def due_date_for(issue: date, due_date: date | None, due_in_days: int | None) -> date:
    if due_date is not None:
        return due_date
    return issue + timedelta(days=DEFAULT_TERMS_DAYS if due_in_days is None else due_in_days)


def _quantity(q: Decimal) -> str:
    text = f"{q.normalize():f}"
    return text


def _rate(line: InvoiceLine, invoice: Invoice) -> str:
    return f" ({rate_text(line.tax_rate)} tax)" if line.tax_rate is not None and invoice.taxes.taxed else ""


def tax_rows(invoice: Invoice, sep: str = ": ") -> list[str]:
    """Net, the tax of each rate and the reverse-charge/exempt note, as the PDF's totals say them
    ("Net total €1,079.80", "Tax 19% on €1,000.00: €190.00"); none for an untaxed invoice."""
    taxes = invoice.taxes
    if not taxes.taxed:
        return []
    rows = [f"Net total{sep}{taxes.net}"]
    rows += [f"Tax {rate_text(b.rate)} on {b.base}{sep}{b.tax}" for b in taxes.bands]
    if taxes.note:
        rows.append(taxes.note)
    return rows


def render_invoice(invoice: Invoice, client: Client, sender: str, credit: CreditUse | None = None) -> tuple[str, str]:
    """Subject and plain-text body of the invoice e-mail (with the client's credit it uses, and
    what is then left to pay)."""
    rows = []
    for line in invoice.lines:
        unit = f"/{line.unit}" if line.unit else ""
        qty = f"{_quantity(line.quantity)} × " if line.quantity != 1 or line.unit else ""
        rows.append(
            f"- {line.description}: {qty}{format_money(line.unit_price, invoice.currency)}{unit}"
            f" = {format_money(line.total, invoice.currency)}{_rate(line, invoice)}"
        )
    greeting = greeting_for(client.contact_name, client.contact_email, client.name).replace(" team,", ",")
    body = "\n".join(
        [
            greeting,
            "",
            f"Please find invoice {invoice.number} below.",
            "",
            *rows,
            "",
            *tax_rows(invoice),
            f"Total: {format_money(invoice.total, invoice.currency)}",
            *_credit_lines(invoice, credit, "Amount due"),
            f"Issued: {invoice.issue_date.isoformat()}",
            f"Due: {invoice.due_date.isoformat()}",
            "",
            f"The invoice is attached ({file_name(invoice.number)}).",
            "",
            "Thank you!",
            sender,
        ]
    )
    return f"Invoice {invoice.number} from {sender}", body


def compare_with_previous(invoice: Invoice, previous: Invoice | None) -> str | None:
    """One line on how this invoice differs from the client's last one, for the approval card."""
    if previous is None:
        return "First invoice for this client."
    if previous.currency != invoice.currency:
        # Amounts in two currencies are never subtracted: a currency change is said instead.
        return (
            f"Last invoice {previous.number} ({previous.issue_date.isoformat()}): "
            f"{format_money(previous.total, previous.currency)}, {previous.status}; this one is in "
            f"{invoice.currency}, not {previous.currency} (not compared across currencies)."
        )
    diff = invoice.total - previous.total
    if diff == 0:
        change = "same total"
    else:
        sign = "+" if diff > 0 else "−"
        pct = f" ({sign}{abs(diff) / previous.total * 100:.0f}%)" if previous.total else ""
        change = f"{sign}{format_money(abs(diff), invoice.currency)}{pct}"
    return (
        f"Last invoice {previous.number} ({previous.issue_date.isoformat()}): "
        f"{format_money(previous.total, previous.currency)}, {previous.status}; this one: {change}."
    )


def _credit_lines(invoice: Invoice, credit: CreditUse | None, due_label: str) -> list[str]:
    if credit is None or credit.status == "released" or not credit.amount_cents:
        return []
    due = max(invoice.total_cents - credit.amount_cents, 0)
    return [credit.line(), f"{due_label}: {format_money(from_cents(due), invoice.currency)}"]


def invoice_details(
    invoice: Invoice, credit: CreditUse | None = None, other_credits: list[tuple[str, Decimal]] | None = None
) -> list[str]:
    """The invoice as approval-card lines: each line item, then total and dates, then the
    client's credit it uses (and the amount due after it), and credits in other currencies,
    which it never uses."""
    rows = []
    for line in invoice.lines:
        qty = (
            f"{line.quantity.normalize():f} {line.unit or 'x'}{'s' if line.unit and line.quantity != 1 else ''} × "
            if line.quantity != 1 or line.unit
            else ""
        )
        rows.append(
            f"• {line.description}: {qty}{format_money(line.unit_price, invoice.currency)}"
            f" = {format_money(line.total, invoice.currency)}{_rate(line, invoice)}"
        )
    rows.extend(tax_rows(invoice))
    rows.append(
        f"Total {format_money(invoice.total, invoice.currency)} · issued {invoice.issue_date.isoformat()}"
        f" · due {invoice.due_date.isoformat()}"
    )
    rows.extend(_credit_lines(invoice, credit, "Amount due"))
    for currency, amount in other_credits or []:
        if currency == invoice.currency:
            rows.append(f"{format_money(amount, currency)} of credit is kept for later: not applied to this invoice.")
            continue
        rows.append(
            f"{format_money(amount, currency)} of credit remains: it is in {currency}, this invoice in"
            f" {invoice.currency}, so it is not applied."
        )
    return rows
