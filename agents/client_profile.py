"""Client profile: "what do we know about Acme?" — a short answer where every line says
where it came from (a run, an e-mail, an approval), pointing at artifacts, not copying them."""

from __future__ import annotations

from datetime import date, datetime

from agents.context import load_client_context
from store.facade import Store
from store.models import format_money, format_totals

_FIELD_WORDS = {
    "revision_limit": "revision rounds",
    "preferred_channel": "preferred channel",
    "hourly_rate_cents": "hourly rate (cents)",
    "billing_day": "billing day",
    "contact_email": "contact e-mail",
}


def _when(store: Store, moment: datetime) -> str:
    return store.clock.local(moment).date().isoformat()


def _run(run_id: str | None) -> str:
    """Where a row came from: its run, or (no run id) `coo import` — runs always record theirs."""
    return f"run {run_id}" if run_id else "imported, no run"


def client_profile(store: Store, client_id: int, today: date) -> str:
    """The profile text, built from canonical facts and recent artifacts, with sources."""
    ctx = load_client_context(store, client_id)
    c = ctx.client
    contact = ", ".join(x for x in (c.contact_name, c.contact_email) if x) or "no contact on file"
    lines = [f"{c.name} — {contact} (client since {_when(store, c.created_at)})"]
    r = store.work.latest_retainer(client_id)
    if r is not None:
        terms = [f"{format_money(r.monthly_amount, r.currency)}/month"]
        if r.revision_rounds is not None:
            terms.append(f"{r.revision_rounds} revision rounds")
        if r.billing_day:
            terms.append(f"billed on day {r.billing_day}")
        lines.append(
            f"Retainer: {', '.join(terms)} (since {_when(store, r.created_at)}, {_run(r.run_id)}) — {r.state_on(today)}"
        )
    credits = store.billing.credits(client_id)
    if credits:
        # Per currency, never added up; the next invoice in that currency uses it.
        lines.append(
            "Credit: "
            + " + ".join(format_money(amount, currency) for _, currency, amount in credits)
            + " (paid beyond its invoices; the next invoice in the same currency uses it)"
        )
    constraints = ctx.constraints()
    if constraints:
        lines.append(f"Constraints: {'; '.join(constraints)}")
    if ctx.facts:
        lines.append("Facts:")
        for fact in ctx.facts:
            text = fact.fact
            if fact.field in _FIELD_WORDS and fact.value is not None:
                text = f"{_FIELD_WORDS[fact.field]}: {fact.value}"
            lines.append(f"• {text} — {fact.source or 'unknown source'}, {_when(store, fact.created_at)}")
    if ctx.open_invoices:
        owed = format_totals(i.owed for i in ctx.open_invoices)
        lines.append(f"Open invoices ({owed} outstanding):")
        for inv in ctx.open_invoices:
            late = f", {(today - inv.due_date).days} days overdue" if inv.due_date < today else ""
            lines.append(
                f"• {inv.number} {format_money(inv.balance, inv.currency)} due {inv.due_date.isoformat()}"
                f"{late} — {_run(inv.run_id)}"
            )
    if ctx.deliverables:
        lines.append("Deliverables:")
        for d in ctx.deliverables:
            due = f" due {d.due_date.isoformat()}" if d.due_date else ""
            lines.append(f"• {d.title}{due} — {_run(d.run_id)}")
    mails = [a for a in store.artifacts.for_client(client_id, limit=20) if a.kind in ("email", "email_in")][:3]
    if mails:
        lines.append("Last e-mails:")
        for a in mails:
            direction = "from them" if a.kind == "email_in" else f"to {a.meta.get('to', '?')}"
            lines.append(f"• {_when(store, a.created_at)} {direction}: “{a.title}” (artifact #{a.id})")
    decisions = store.runs.decided_approvals(client_id, limit=3)
    if decisions:
        lines.append("Decisions:")
        for decision in decisions:
            when = _when(store, decision.decided_at) if decision.decided_at else "?"
            lines.append(
                f"• #{decision.id} {decision.card.get('title', decision.action)} — {decision.status} "
                f"by {decision.decided_by} via {decision.decided_via}, {when} (run {decision.run_id})"
            )
    return "\n".join(lines)
