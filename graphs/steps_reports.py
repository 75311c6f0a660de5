"""Steps that answer questions about the books (agents/reports.py); none changes anything."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from agents import reports
from graphs.deps import Deps
from graphs.intents import ClientBalance, Earnings, InvoiceList, InvoiceLookup, intent_from_dict
from graphs.step_kit import StepFn, StepResult, resolve_client, today_for, unknown_client
from store.models import Client


def invoice_number(said: str) -> str:
    """ "INV-0007" as written on the invoice, from "inv 7", "#7" or "7" (a model may give those)."""
    bare = re.fullmatch(r"(?i)\s*(?:inv(?:oice)?)?\s*[-#]?\s*(?:no\.?\s*)?(\d{1,6})\s*", said)
    return f"INV-{int(bare.group(1)):04d}" if bare else said.strip().upper()


def _client(deps: Deps, name: str | None) -> tuple[Client | None, StepResult | None]:
    """The client named, if any; or the reply saying the name is unknown or ambiguous."""
    if not name:
        return None, None
    client, candidates = resolve_client(deps, name, None)
    if client is None:
        return None, unknown_client(name, candidates)
    return client, None


def earnings_report(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, Earnings)
    client, refused = _client(deps, intent.client_name)
    if refused is not None:
        return refused
    today = today_for(deps)
    start = intent.start or date(today.year, today.month, 1)
    end = intent.end or (today if intent.start else _month_end(today))
    if end < start:
        start, end = end, start
    text = reports.earnings(deps.store, start, end, today, by_client=intent.by_client, client=client)
    return StepResult(notes=[text], client_id=client.id if client else None)


def _month_end(day: date) -> date:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def client_balance_report(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, ClientBalance)
    client, refused = _client(deps, intent.client_name)
    if refused is not None:
        return refused
    assert client is not None  # the intent is not complete without a client
    return StepResult(notes=[reports.client_balance(deps.store, client, today_for(deps))], client_id=client.id)


def invoice_list_report(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, InvoiceList)
    client, refused = _client(deps, intent.client_name)
    if refused is not None:
        return refused
    text = reports.invoice_list(deps.store, intent.state, today_for(deps), client)
    return StepResult(notes=[text], client_id=client.id if client else None)


def invoice_lookup_report(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, InvoiceLookup) and intent.number
    number = invoice_number(intent.number)
    found = deps.store.billing.get(number)
    return StepResult(
        notes=[reports.invoice_detail(deps.store, number, today_for(deps))],
        client_id=found.client_id if found else None,
    )


REPORT_STEPS: dict[str, StepFn] = {
    "earnings_report": earnings_report,
    "client_balance_report": client_balance_report,
    "invoice_list_report": invoice_list_report,
    "invoice_lookup_report": invoice_lookup_report,
}
