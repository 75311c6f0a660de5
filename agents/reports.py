"""Reports over the books, answered from the store: earnings for a period, a client's paid and
owed, invoices by state, and one invoice in full. Read-only.

Money is summed per currency (``Totals``): "$5,140.00 + €800.00", never one number across
currencies. Earnings are payments *received* (by the day they were received), over-payments
included: that is the money that came in.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date

from store.facade import Store
from store.models import Client, Invoice, Payment, format_money
from store.money import Totals

_STATE_WORDS = {
    "open": "open",
    "overdue": "overdue",
    "paid": "paid",
    "partially_paid": "partly paid",
    "void": "void",
    "draft": "draft",
    "all": "",
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def period_label(start: date, end: date, today: date) -> str:
    """ "November 2026 (so far)", "Q4 2026", "2026", or "2026-10-03 to 2026-10-17"."""
    so_far = " (so far)" if start <= today < end else ""
    last_of_month = calendar.monthrange(end.year, end.month)[1]
    if start.day == 1 and end.day == last_of_month:
        if start.year == end.year and start.month == end.month:
            return f"{start.strftime('%B %Y')}{so_far}"
        if start.year == end.year and start.month == 1 and end.month == 12:
            return f"{start.year}{so_far}"
        if start.year == end.year and start.month % 3 == 1 and end.month == start.month + 2:
            return f"Q{(start.month - 1) // 3 + 1} {start.year}{so_far}"
    if start == end:
        return start.isoformat()
    return f"{start.isoformat()} to {end.isoformat()}{so_far}"


def earnings(
    store: Store, start: date, end: date, today: date, *, by_client: bool = False, client: Client | None = None
) -> str:
    """Payments received from ``start`` to ``end`` (inclusive), per currency; per client too."""
    label = period_label(start, end, today)
    payments = [p for p in store.billing.payments_received(start, min(end, today)) if p.amount_cents]
    if client is not None:
        payments = [p for p in payments if p.client_id == client.id]
    scope = f" from {client.name}" if client else ""
    if not payments:
        return f"No payments received{scope} in {label}."
    total = Totals(p.money for p in payments)
    lines = [f"Received{scope} in {label}: {total} ({_plural(len(payments), 'payment')})."]
    if by_client and client is None:
        names = {c.id: c.name for c in store.clients.all()}
        per_client: dict[str, list[Payment]] = defaultdict(list)
        for p in payments:
            per_client[names.get(p.client_id, "no client") if p.client_id else "no client"].append(p)
        ranked = sorted(per_client.items(), key=lambda item: (-sum(p.amount_cents for p in item[1]), item[0]))
        lines.append("By client:")
        lines.extend(
            f"• {name}: {Totals(p.money for p in paid)} ({_plural(len(paid), 'payment')})" for name, paid in ranked
        )
    return "\n".join(lines)


def _due_words(inv: Invoice, today: date) -> str:
    late = (today - inv.due_date).days
    if late > 0:
        return f"{_plural(late, 'day')} overdue"
    return "due today" if late == 0 else f"due {inv.due_date.isoformat()}"


def client_balance(store: Store, client: Client, today: date) -> str:
    """What ``client`` has paid in total and what it still owes, per currency."""
    payments = [p for p in store.billing.payments(client_id=client.id) if p.amount_cents]
    invoices = store.billing.open_invoices(client.id)
    lines = []
    if payments:
        last = max(p.received_on for p in payments)
        lines.append(
            f"{client.name} has paid you {Totals(p.money for p in payments)} in total "
            f"({_plural(len(payments), 'payment')}, the last on {last.isoformat()})."
        )
    else:
        lines.append(f"{client.name} has not paid you anything yet.")
    if invoices:
        overdue = [i for i in invoices if i.due_date < today]
        late = f", {len(overdue)} overdue" if overdue else ""
        lines.append(
            f"{client.name} owes {Totals(i.owed for i in invoices)} on {_plural(len(invoices), 'open invoice')}{late}:"
        )
        lines.extend(
            f"• {i.number}: {format_money(i.balance, i.currency)} of {format_money(i.total, i.currency)} — "
            f"{_due_words(i, today)}"
            for i in invoices
        )
    else:
        lines.append(f"{client.name} owes you nothing right now.")
    credits = store.billing.credits(client.id)
    if credits:
        lines.append(
            "Credit (paid beyond what was invoiced): " + ", ".join(format_money(a, cur) for _, cur, a in credits) + "."
        )
    return "\n".join(lines)


def _in_state(inv: Invoice, state: str, today: date) -> bool:
    if state == "all":
        return True
    if state == "open":
        return inv.status in ("sent", "issued", "partially_paid")
    if state == "overdue":
        return inv.status in ("sent", "issued", "partially_paid") and inv.due_date < today
    return inv.status == state


def _status_words(inv: Invoice, today: date) -> str:
    if inv.status in ("sent", "issued", "partially_paid"):
        part = f"{format_money(inv.balance, inv.currency)} left, " if inv.paid_cents else ""
        return f"{inv.status.replace('_', ' ')}, {part}{_due_words(inv, today)}"
    return inv.status.replace("_", " ")


def invoice_list(store: Store, state: str, today: date, client: Client | None = None) -> str:
    """The invoices in ``state`` ("overdue", "paid", "void", … or "all"), oldest number first."""
    names = {c.id: c.name for c in store.clients.all()}
    cid = client.id if client else None
    if state in ("open", "overdue"):  # read the open ones only, not every invoice ever sent
        candidates = sorted(store.billing.open_invoices(cid), key=lambda i: i.seq)
    else:
        candidates = store.billing.invoices(cid)
    found = [i for i in candidates if _in_state(i, state, today)]
    word = _STATE_WORDS.get(state, state)
    scope = f" for {client.name}" if client else ""
    if not found:
        return f"No {word + ' ' if word else ''}invoices{scope}.".replace("No  ", "No ")
    title = f"{word.capitalize() + ' i' if word else 'I'}nvoices{scope} ({len(found)}):"
    lines = [title]
    for inv in found:
        lines.append(
            f"• {inv.number} {names.get(inv.client_id, '?')}: {format_money(inv.total, inv.currency)} — "
            f"{_status_words(inv, today)} (issued {inv.issue_date.isoformat()})"
        )
    if state in ("open", "overdue", "partially_paid"):
        lines.append(f"Owed: {Totals(i.owed for i in found)}.")
    return "\n".join(lines)


def _quantity(value: object) -> str:
    text = f"{value}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def invoice_detail(store: Store, number: str, today: date) -> str:
    """One invoice: its client, dates, status, lines, payments and the e-mails that sent it.
    A number that does not exist is said not to exist (never answered with another invoice)."""
    inv = store.billing.get(number)
    if inv is None:
        latest = store.billing.invoices()
        hint = f" The latest invoice is {latest[-1].number}." if latest else " There are no invoices yet."
        return f"There is no invoice {number}.{hint}"
    client = store.clients.get(inv.client_id)
    lines = [
        f"{inv.number} — {client.name}, issued {inv.issue_date.isoformat()}, "
        f"due {inv.due_date.isoformat()}: {_status_words(inv, today)}.",
    ]
    for line in inv.lines:
        unit = f" {line.unit}" if line.unit else ""
        lines.append(
            f"• {line.description}: {_quantity(line.quantity)}{unit} × {format_money(line.unit_price, inv.currency)}"
            f" = {format_money(line.total, inv.currency)}"
        )
    paid = format_money(inv.total - inv.balance, inv.currency)
    lines.append(
        f"Total {format_money(inv.total, inv.currency)} · paid {paid} · balance {format_money(inv.balance, inv.currency)}"
    )
    payments = store.billing.payments(invoice_id=inv.id)
    if payments:
        lines.append("Payments:")
        lines.extend(
            f"• {p.received_on.isoformat()}: {format_money(p.amount, p.currency)}"
            + (f" ({p.reference})" if p.reference else "")
            for p in payments
        )
    credit = store.credits.for_invoice(inv.id)
    if credit is not None and credit.status == "applied":
        lines.append(f"Credit used: {format_money(credit.amount, credit.currency)}.")
    sent = [
        a
        for a in reversed(store.artifacts.for_client(inv.client_id, "email", limit=200))
        if a.run_id == inv.run_id or inv.number in a.title or inv.number in a.body
    ]
    if sent:
        lines.append("E-mails:")
        lines.extend(
            f"• {store.clock.local(a.created_at).date().isoformat()} to {a.meta.get('to') or '?'}: “{a.title}”"
            for a in sent
        )
    elif inv.status == "draft":
        lines.append("Not sent yet (a draft).")
    else:
        lines.append("No e-mail on file for it.")
    return "\n".join(lines)
