"""Changing the currency a client is billed in, by chatting ("Globex is billed in EUR from now on").

Money: coo shows what changes and asks first. Nothing is converted: invoices already made keep
their currency and amounts, and what is still owed on them is still owed in theirs; the client's
credit stays in the currency it was paid in. New invoices that do not name a currency use the new
one (graphs/steps.py prepare_invoice). A retainer bills in its own currency until its terms change.
The change is a ledger event with the old currency, so "undo" puts it back.
"""

from __future__ import annotations

from typing import Any

from graphs.confirm import ask_to_confirm, confirmed
from graphs.deps import Deps
from graphs.intents import ChangeCurrency, intent_from_dict
from graphs.step_kit import StepFn, StepResult, plural, resolve_client, unknown_client
from graphs.steps_changes import UNDO_HINT
from store.models import format_money


def change_currency(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, ChangeCurrency) and intent.client_name and intent.currency
    client, candidates = resolve_client(deps, intent.client_name, None)
    if client is None:
        return unknown_client(intent.client_name, candidates)
    new, old = intent.currency.upper(), client.currency
    if new == old:
        return StepResult(notes=[f"Nothing changed: {client.name} is already billed in {new}."], client_id=client.id)
    open_invoices = [i for i in deps.store.billing.open_invoices(client.id) if i.currency != new]
    retainer = deps.store.work.active_retainer(client.id)
    if not confirmed(deps, state, "change_currency", client.id):
        rows = [
            f"Bill {client.name} in {new} from now on?",
            f"  Currency: {old} → {new} (new invoices that don't name a currency)",
            "  Nothing is converted: invoices already made keep their currency and amounts.",
        ]
        if open_invoices:
            owed = ", ".join(f"{i.number} {format_money(i.balance, i.currency)}" for i in open_invoices)
            rows.append(f"  Still owed as before: {owed}.")
        if retainer is not None and retainer.currency != new:
            rows.append(
                f"  The retainer stays {format_money(retainer.monthly_amount, retainer.currency)}/month until its"
                " terms change."
            )
        return ask_to_confirm(deps, state, "\n".join(rows), {"client_id": client.id})
    with deps.store.db.transaction() as tx:
        deps.store.clients.set_constraints(tx, client.id, f"run {state['run_id']}", currency=new)
        deps.store.changes.record(
            tx,
            state["run_id"],
            "change_currency",
            "currency_changed",
            f"{client.name}'s currency changed from {old} to {new}",
            table="clients",
            row_id=client.id,
            before={"currency": old},
            after={"currency": new},
            extra={"undo_note": f"{client.name} is billed in {old} again."},
        )
    kept = (
        f" {plural(len(open_invoices), 'open invoice')} keep{'s' if len(open_invoices) == 1 else ''} theirs."
        if open_invoices
        else ""
    )
    return StepResult(
        notes=[f"{client.name} is billed in {new} from now on (was {old}); nothing was converted.{kept}{UNDO_HINT}"],
        client_id=client.id,
    )


CURRENCY_STEPS: dict[str, StepFn] = {"change_currency": change_currency}
