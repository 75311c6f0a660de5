"""Billing cycle: which retainers are billed on a given local day, and what their invoice says.

A retainer billed on day 29–31 is billed on the month's last day in shorter months (31 →
30 November, 28 February). Dates here are the operator's local calendar dates; the time of
day the work runs is the scheduler's business (bot/ticks.py).
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from pydantic import BaseModel

from store.facade import Store
from store.models import Client, Invoice, Retainer, cents

KIND = "billing"


class BillingDue(BaseModel):
    """One retainer's invoice for one month, due to be prepared."""

    retainer: Retainer
    client: Client
    billing_date: date
    period: str  # "2026-11"
    day: date  # the tick's day: the invoice is issued on it (a missed billing date is caught up later)

    @property
    def key(self) -> str:
        return billing_key(self.retainer.id, self.period)


def billing_key(retainer_id: int, period: str) -> str:
    """The idempotency key of the retainer's invoice for a month: one invoice, whoever runs it."""
    return f"{KIND}:{retainer_id}:{period}"


def billing_date(year: int, month: int, billing_day: int) -> date:
    """The billing date in that month: the billing day, or the month's last day if it is shorter."""
    return date(year, month, min(billing_day, calendar.monthrange(year, month)[1]))


def month_label(day: date) -> str:
    return f"{calendar.month_name[day.month]} {day.year}"


def due_for_billing(store: Store, day: date) -> list[BillingDue]:
    """Retainers whose invoice for ``day``'s month is due by ``day``.

    A billing date missed (no worker ran that day) is caught up later in the same month; a
    month that began before the retainer was signed is not billed.
    """
    due = []
    for retainer in store.work.active_retainers():
        if not retainer.billing_day:
            continue
        when = billing_date(day.year, day.month, retainer.billing_day)
        signed = store.clock.local(retainer.created_at).date()
        if when > day or when < max(signed, retainer.start_date or signed):
            continue
        if not retainer.bills_on(when):  # ended by then, or paused
            continue
        due.append(
            BillingDue(
                retainer=retainer,
                client=store.clients.get(retainer.client_id),
                billing_date=when,
                period=f"{when.year:04d}-{when.month:02d}",
                day=day,
            )
        )
    return due


def invoice_intent(item: BillingDue) -> dict[str, Any]:
    """The month's invoice as a create_invoice intent: one line, the retainer's amount."""
    return {
        "kind": "create_invoice",
        "client_name": item.client.name,
        "items": [
            {
                "description": f"Monthly retainer — {month_label(item.billing_date)}",
                "quantity": "1",
                "unit_price": str(item.retainer.monthly_amount),
            }
        ],
        "currency": item.retainer.currency,
        "issue_date": item.day.isoformat(),
    }


def is_routine(invoice: Invoice, retainer: Retainer) -> bool:
    """The invoice is exactly the retainer's monthly one: same client, currency and amount, one line.

    Only such an invoice may go out under raised autonomy; an edited or unusual one asks.
    """
    return (
        invoice.status == "draft"
        and invoice.client_id == retainer.client_id
        and invoice.currency == retainer.currency
        and len(invoice.lines) == 1
        and invoice.total_cents == cents(retainer.monthly_amount)
    )


def billing_dates(billing_day: int, start: date, count: int) -> list[date]:
    """The next ``count`` billing dates on or after ``start`` (month ends clamp)."""
    dates: list[date] = []
    year, month = start.year, start.month
    while len(dates) < count:
        when = billing_date(year, month, billing_day)
        if when >= start:
            dates.append(when)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return dates


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (month ends clamp: 31 January + 1 month → 28 February)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
