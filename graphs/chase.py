"""Chasing every late payer at once: "chase the overdue invoices", "nudge everyone who's late".

One request becomes one payment-reminder run per client with overdue invoices (a client's
several overdue invoices go in one reminder), each with its own approval card, so each can be
sent, edited or dropped on its own. The runs are accepted like any request (idempotent per
message and client), and the reminders are drafted by the ordinary payment_reminder playbook.
"""

from __future__ import annotations

from datetime import date

from store.billing import OPEN_STATUSES
from store.facade import Store
from store.models import Client, Invoice


def overdue_by_client(store: Store, today: date) -> list[tuple[Client, list[Invoice]]]:
    """The clients with open invoices past due, longest overdue first, with those invoices."""
    groups: dict[int, list[Invoice]] = {}
    for invoice in store.billing.open_invoices():
        if invoice.status in OPEN_STATUSES and invoice.due_date < today:
            groups.setdefault(invoice.client_id, []).append(invoice)
    ordered = sorted(groups.items(), key=lambda item: min((i.due_date, i.seq) for i in item[1]))
    return [(store.clients.get(client_id), invoices) for client_id, invoices in ordered]


def chase_event_id(event_id: str, client_id: int) -> str:
    """The event id of one client's reminder request within a "chase everyone" message."""
    return f"{event_id}#overdue-{client_id}"


def chase_summary(groups: list[tuple[Client, list[Invoice]]]) -> str:
    """What the operator is told before the cards arrive."""
    n = sum(len(invoices) for _, invoices in groups)
    listed = "; ".join(f"{client.name} ({', '.join(i.number for i in invoices)})" for client, invoices in groups)
    return (
        f"{n} overdue invoice{'s' if n != 1 else ''} from {len(groups)} clients: one reminder per client,"
        f" each its own card to approve — {listed}."
    )
