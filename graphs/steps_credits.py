"""The invoice playbook's last step: the client's credit an approved invoice used, on record."""

from __future__ import annotations

from typing import Any

from graphs.deps import Deps
from graphs.step_kit import StepFn, StepResult
from store.models import format_money


def record_credit_use(deps: Deps, state: dict[str, Any]) -> StepResult:
    """After the send: the credit the invoice held was applied with it (store/credits.py);
    say so and record it in the ledger. Nothing when it used no credit."""
    invoice = deps.store.billing.get_by_run(state["run_id"])
    if invoice is None:
        return StepResult(notes=[])
    credit = deps.store.credits.for_invoice(invoice.id)
    if credit is None or credit.status != "applied":
        return StepResult(notes=[])
    deps.store.ledger.append(
        state["run_id"],
        "record_credit_use",
        "credit_applied",
        {
            "invoice": invoice.number,
            "client_id": invoice.client_id,
            "amount": str(credit.amount),
            "currency": credit.currency,
            "source": credit.source,
            "balance": str(invoice.balance),
        },
        dedupe=f"credit:{invoice.number}",
    )
    left = (
        "it is paid in full"
        if invoice.status == "paid"
        else f"{format_money(invoice.balance, invoice.currency)} is left to pay"
    )
    return StepResult(
        notes=[
            f"Applied {format_money(credit.amount, credit.currency)} of credit ({credit.source}) to"
            f" {invoice.number}: {left}."
        ],
        client_id=invoice.client_id,
    )


CREDIT_STEPS: dict[str, StepFn] = {"record_credit_use": record_credit_use}
