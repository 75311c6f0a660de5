"""Row models: what the store hands to the layers above, with types normalised.

SQLite returns timestamps and JSON as text, PostgreSQL as native values; these models make
both look the same. Money is stored as integer cents and exposed as Decimal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict

from store.money import Money, Totals
from store.tax import TaxSummary, TaxTreatment, summarize


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _utc(value: Any) -> Any:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


# Statuses, exactly as stored in the TEXT ``status`` columns. Literals rather than enums: the
# values also travel as plain strings through LangGraph checkpoints, job arguments and JSON
# ledger payloads, and an enum member there would be serialised as its class.
RunStatus = Literal[
    "queued",
    "running",
    "waiting_approval",
    "resuming",
    "paused",
    "done",
    "failed",
    "sent_uncertain",
    "rejected",
    "cancelled",
]
InvoiceStatus = Literal["draft", "issued", "sent", "partially_paid", "paid", "void"]
# "withdrawn": coo took the card back before anyone decided (undone, or the invoice it is about
# was paid or voided meanwhile); nothing is sent for it.
ApprovalStatus = Literal["pending", "approved", "rejected", "withdrawn"]
Decided = Literal["approved", "rejected"]  # what an operator (or the autonomy policy) decides
DeliveryStatus = Literal["sending", "sent", "failed", "settled"]

JsonValue = Annotated[Any, BeforeValidator(_loads)]
JsonDict = Annotated[dict[str, Any], BeforeValidator(_loads)]
JsonStrList = Annotated[list[str], BeforeValidator(_loads)]
UtcDateTime = Annotated[datetime, BeforeValidator(_utc)]


def cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal("1")))


def from_cents(value: int | None) -> Decimal:
    return (Decimal(value or 0) / 100).quantize(Decimal("0.01"))


def format_money(amount: Decimal, currency: str = "USD") -> str:
    return str(Money.of(amount, currency))


def format_totals(amounts: Iterable[Money]) -> str:
    """Amounts summed per currency, never across: "$1,200.00 + €500.00"."""
    return str(Totals(amounts))


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Client(_Row):
    id: int
    name: str
    contact_name: str | None = None
    contact_email: str | None = None
    preferred_channel: str | None = None
    revision_limit: int | None = None
    hourly_rate_cents: int | None = None
    billing_day: int | None = None
    currency: str = "USD"
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @property
    def hourly_rate(self) -> Decimal | None:
        return None if self.hourly_rate_cents is None else from_cents(self.hourly_rate_cents)


class ClientFact(_Row):
    id: int
    client_id: int
    fact: str
    field: str | None = None
    value: str | None = None
    source: str | None = None
    created_at: UtcDateTime
    superseded_at: UtcDateTime | None = None


class Retainer(_Row):
    id: int
    client_id: int
    monthly_cents: int
    currency: str
    revision_rounds: int | None = None
    billing_day: int | None = None
    scope: str | None = None
    start_date: date | None = None
    status: str
    run_id: str | None = None
    created_at: UtcDateTime
    ends_on: date | None = None  # nothing is billed on or after it (cancelled, or ending)
    paused_from: date | None = None  # nothing is billed from it until paused_until (None: until resumed)
    paused_until: date | None = None

    @property
    def monthly_amount(self) -> Decimal:
        return from_cents(self.monthly_cents)

    def paused_on(self, day: date) -> bool:
        return (
            self.paused_from is not None
            and self.paused_from <= day
            and (self.paused_until is None or day < self.paused_until)
        )

    def ended_by(self, day: date) -> bool:
        return self.status == "ended" or (self.ends_on is not None and self.ends_on <= day)

    def state_on(self, today: date) -> str:
        """How it stands: "active", "paused until 2027-03-01", "ends 2027-01-01, …", "ended 2026-11-25"."""
        if self.ended_by(today):
            return f"ended {self.ends_on.isoformat()}" if self.ends_on else "ended"
        said = []
        if self.paused_on(today):
            said.append(
                f"paused until {self.paused_until.isoformat()}" if self.paused_until else "paused until resumed"
            )
        elif self.paused_from is not None and self.paused_from > today:
            said.append(f"pauses from {self.paused_from.isoformat()}")
        if self.ends_on is not None:
            said.append(f"ends {self.ends_on.isoformat()}, nothing billed from then")
        return ", ".join(said) or "active"

    def bills_on(self, day: date) -> bool:
        """Whether a billing date ``day`` is billed: not after the retainer's end, not in a pause."""
        return not self.ended_by(day) and not self.paused_on(day)


class Deliverable(_Row):
    id: int
    client_id: int
    retainer_id: int | None = None
    title: str
    due_date: date | None = None
    status: str
    run_id: str | None = None
    created_at: UtcDateTime
    done_at: UtcDateTime | None = None


class Task(_Row):
    id: int
    client_id: int | None = None
    title: str
    due_date: date | None = None
    status: str
    run_id: str | None = None
    created_at: UtcDateTime
    done_at: UtcDateTime | None = None


class InvoiceLine(_Row):
    position: int
    description: str
    quantity: Decimal
    unit: str | None = None
    unit_price_cents: int
    total_cents: int  # the line's net amount
    tax_rate: Decimal | None = None  # percent

    @property
    def unit_price(self) -> Decimal:
        return from_cents(self.unit_price_cents)

    @property
    def total(self) -> Decimal:
        return from_cents(self.total_cents)


class Invoice(_Row):
    id: int
    seq: int
    number: str
    series: str = "invoice"  # the counter it was numbered from (store/invoice_numbers.py)
    series_seq: int | None = None  # its number within that series
    client_id: int
    status: InvoiceStatus
    currency: str
    issue_date: date
    due_date: date
    total_cents: int  # gross: the lines' net plus tax_cents
    paid_cents: int = 0
    tax_cents: int = 0
    tax_treatment: TaxTreatment | None = None  # None: standard (the lines' rates)
    run_id: str | None = None
    created_at: UtcDateTime
    sent_at: UtcDateTime | None = None
    lines: tuple[InvoiceLine, ...] = ()

    @property
    def treatment(self) -> TaxTreatment:
        return self.tax_treatment or "standard"

    @property
    def taxes(self) -> TaxSummary:
        """Net, tax per rate and gross, recomputed from the lines (equal to the stored totals)."""
        return summarize(
            ((Money.from_cents(line.total_cents, self.currency), line.tax_rate) for line in self.lines),
            self.currency,
            self.treatment,
        )

    @property
    def total(self) -> Decimal:
        return from_cents(self.total_cents)

    @property
    def balance(self) -> Decimal:
        return from_cents(self.total_cents - self.paid_cents)

    @property
    def owed(self) -> Money:
        """The balance with its currency: what is compared with a payment."""
        return Money.from_cents(self.total_cents - self.paid_cents, self.currency)


class Payment(_Row):
    id: int
    client_id: int | None = None
    invoice_id: int | None = None
    amount_cents: int
    currency: str
    received_on: date
    reference: str | None = None
    run_id: str | None = None
    created_at: UtcDateTime

    @property
    def amount(self) -> Decimal:
        return from_cents(self.amount_cents)

    @property
    def money(self) -> Money:
        return Money.from_cents(self.amount_cents, self.currency)


class Artifact(_Row):
    id: int
    kind: str
    number: str | None = None
    client_id: int | None = None
    run_id: str | None = None
    title: str
    body: str
    meta: JsonDict
    created_at: UtcDateTime


class Run(_Row):
    id: str
    intent_id: int | None = None
    kind: str
    status: RunStatus
    channel: str
    thread_id: str
    user_id: str
    summary: str | None = None
    error: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    finished_at: UtcDateTime | None = None


class Approval(_Row):
    id: int
    run_id: str
    step: str
    action: str
    status: ApprovalStatus
    card: JsonDict
    draft: JsonDict
    decided_by: str | None = None
    decided_via: str | None = None
    decided_at: UtcDateTime | None = None
    asked_at: UtcDateTime
    reminded_at: UtcDateTime | None = None


class Message(_Row):
    id: int
    run_id: str | None = None
    channel: str
    thread_id: str
    direction: str
    text: str
    payload: JsonDict
    dedupe_key: str | None = None
    created_at: UtcDateTime
    delivered_at: UtcDateTime | None = None


class LedgerEvent(_Row):
    id: int
    run_id: str
    step: str
    actor: str
    kind: str
    payload: JsonDict
    receipt: JsonValue = None
    dedupe_key: str
    created_at: UtcDateTime
