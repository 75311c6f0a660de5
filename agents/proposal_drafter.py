"""Proposal drafter: a proposal for a client, from the client's canonical facts.

Offline it fills a careful template; with a model on the ``mid`` tier it asks the model for
the body, giving it only the facts the proposal needs.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from agents.context import ClientContext
from agents.letters import greeting_for
from agents.llm import ModelRunner
from store.models import format_money


class ProposalRequest(BaseModel):
    scope: str | None = None
    amount: Decimal | None = None
    currency: str = "USD"
    monthly: bool = False
    billing_day: int | None = None
    revision_rounds: int | None = None
    sender_name: str = "coo"


class ProposalDraft(BaseModel):
    subject: str
    body: str


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _terms(ctx: ClientContext, req: ProposalRequest) -> list[str]:
    terms = []
    if req.amount is not None:
        price = format_money(req.amount, req.currency)
        terms.append(f"Fee: {price} per month" if req.monthly else f"Fee: {price}")
    if req.billing_day:
        terms.append(f"Invoiced on the {_ordinal(req.billing_day)} of each month, payable within 14 days")
    rounds = req.revision_rounds if req.revision_rounds is not None else ctx.revision_limit
    if rounds is not None:
        terms.append(
            f"Up to {rounds} revision round{'s' if rounds != 1 else ''} per deliverable; "
            "further rounds are quoted separately"
        )
    if ctx.client.preferred_channel:
        terms.append(f"Day-to-day communication over {ctx.client.preferred_channel}")
    return terms


def offline_draft(ctx: ClientContext, req: ProposalRequest) -> ProposalDraft:
    client = ctx.client
    greeting = greeting_for(client.contact_name, client.contact_email, client.name)
    scope = req.scope or ("a monthly design retainer" if req.monthly else "the work we discussed")
    what = "retainer" if req.monthly else "project"
    lines = [
        greeting,
        "",
        f"Thank you for choosing to work together. Here is the proposal for {scope}.",
        "",
        "Scope",
        f"- {scope[0].upper() + scope[1:]}",
        "",
        "Terms",
        *[f"- {t}" for t in _terms(ctx, req)],
        "",
        f"If this matches your expectations, reply to confirm and the {what} starts right away.",
        "",
        "Best regards,",
        req.sender_name,
    ]
    subject = f"Proposal for {client.name}: {scope}"
    return ProposalDraft(subject=subject, body="\n".join(lines))


def draft_proposal(
    ctx: ClientContext, req: ProposalRequest, runner: ModelRunner | None = None, run_id: str | None = None
) -> ProposalDraft:
    """The proposal draft; on a model tier the body is written by the model from the terms."""
    draft = offline_draft(ctx, req)
    if runner is None or runner.tiers.is_offline("mid"):
        return draft
    facts = "\n".join(f"- {t}" for t in _terms(ctx, req)) or "- (no fixed terms)"
    user = (
        f"Client: {ctx.client.name}\nContact: {ctx.client.contact_name or 'the team'}\n"
        f"Scope: {req.scope or 'monthly retainer'}\nTerms:\n{facts}\nSign as: {req.sender_name}"
    )
    body = runner.text(
        "mid",
        "draft_proposal",
        "Write a short, warm, professional proposal e-mail body. State every term exactly as given. "
        "No placeholders, no subject line.",
        user,
        run_id=run_id,
        step="draft",
    )
    return ProposalDraft(subject=draft.subject, body=body.strip() or draft.body)
