"""Changing a running retainer: new terms, an end, a pause, a resume.

Each shows what will change — the terms old → new, and which billing dates will and will not
be billed — and asks first (graphs/confirm.py); only the operator's "yes" changes anything, and
the change is written to the ledger with what it was before.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from agents.billing_cycle import KIND as BILLING
from agents.billing_cycle import add_months, billing_date, billing_dates
from graphs.confirm import ask_to_confirm, confirmed
from graphs.deps import Deps
from graphs.intents import RetainerEnd, RetainerPause, RetainerResume, RetainerSignup, intent_from_dict
from graphs.step_kit import StepFn, StepResult, resolve_client, today_for, unknown_client
from store.models import Client, Retainer, format_money

SHOWN = 3  # billing dates listed in a preview


def _dates(days: list[date]) -> str:
    return ", ".join(d.isoformat() for d in days)


def _monthly(r: Retainer | RetainerTerms) -> str:
    return f"{format_money(r.monthly_amount, r.currency)}/month"


def terms_text(r: Retainer) -> str:
    """ "$4,000.00/month, 3 revision rounds, billed on day 1"."""
    parts = [_monthly(r)]
    if r.revision_rounds is not None:
        parts.append(f"{r.revision_rounds} revision rounds")
    parts.append(f"billed on day {r.billing_day}" if r.billing_day else "no billing day")
    return ", ".join(parts)


def _upcoming(r: Retainer, start: date, count: int = SHOWN) -> list[date]:
    """The next billing dates that will be billed, as the retainer stands."""
    if not r.billing_day:
        return []
    found: list[date] = []
    for when in billing_dates(r.billing_day, start, 48):
        if r.ended_by(when):
            break
        if r.bills_on(when):
            found.append(when)
            if len(found) == count:
                break
    return found


def _invoiced_from(deps: Deps, r: Retainer, ends_on: date) -> list[str]:
    """Invoices the tick already prepared for billing dates on or after ``ends_on`` (not void)."""
    if not r.billing_day:
        return []
    found = []
    for item in deps.store.recurring.for_retainer(r.id, BILLING):
        year, month = (int(x) for x in item.period.split("-"))
        if billing_date(year, month, r.billing_day) < ends_on or item.run_id is None:
            continue
        invoice = deps.store.billing.get_by_run(item.run_id)
        if invoice is not None and invoice.status != "void":
            found.append(f"{invoice.number} ({invoice.status})")
    return found


def _find(deps: Deps, name: str | None) -> tuple[Client | None, Retainer | None, StepResult | None]:
    """The client and its running retainer, or the reply that says why there is none."""
    client, candidates = resolve_client(deps, name, None)
    if client is None:
        return None, None, unknown_client(name, candidates)
    today = today_for(deps)
    retainer = deps.store.work.active_retainer(client.id)
    if retainer is None or retainer.ended_by(today):
        last = deps.store.work.latest_retainer(client.id)
        why = (
            f"{client.name}'s retainer already ended ({last.state_on(today)}); nothing changed."
            if last is not None and last.ended_by(today)
            else f"{client.name} has no active retainer; nothing changed."
        )
        return client, None, StepResult(notes=[why], client_id=client.id, stop=True)
    return client, retainer, None


def _record(deps: Deps, state: dict[str, Any], step: str, kind: str, before: Retainer, after: Retainer) -> None:
    deps.store.ledger.append(
        state["run_id"],
        step,
        kind,
        {
            "retainer_id": after.id,
            "client_id": after.client_id,
            "before": before.model_dump(mode="json", include={"status", "ends_on", "paused_from", "paused_until"}),
            "after": after.model_dump(mode="json", include={"status", "ends_on", "paused_from", "paused_until"}),
        },
    )


# -- new terms for a running retainer ("signed again") ----------------------------------------


class RetainerTerms(BaseModel):
    """The terms a signup asks for, with what it leaves unsaid carried over from the current ones."""

    monthly_amount: Decimal
    currency: str
    billing_day: int | None = None
    revision_rounds: int | None = None
    scope: str | None = None

    @classmethod
    def asked(cls, intent: RetainerSignup, current: Retainer | None) -> RetainerTerms:
        assert intent.monthly_amount is not None
        said = cls(
            monthly_amount=intent.monthly_amount,
            currency=intent.currency,
            billing_day=intent.billing_day,
            revision_rounds=intent.revision_rounds,
            scope=intent.scope,
        )
        if current is None:
            return said
        return said.model_copy(
            update={
                "billing_day": said.billing_day or current.billing_day,
                "revision_rounds": current.revision_rounds if said.revision_rounds is None else said.revision_rounds,
                "scope": said.scope or current.scope,
            }
        )


def terms_change(deps: Deps, state: dict[str, Any], current: Retainer, new: RetainerTerms) -> StepResult | None:
    """Before a signup replaces a running retainer: None when the operator confirmed it; else the
    question showing old → new (or, for the same terms, that nothing changed)."""
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, RetainerSignup)
    client = deps.store.clients.get(current.client_id)
    rows = []
    if (current.monthly_amount, current.currency) != (new.monthly_amount, new.currency):
        rows.append(f"Amount: {_monthly(current)} → {_monthly(new)}")
        if current.currency != new.currency:
            rows.append(f"Currency: {current.currency} → {new.currency}")
    if current.billing_day != new.billing_day:
        rows.append(f"Billing day: {current.billing_day or 'none'} → {new.billing_day or 'none (not billed monthly)'}")
    if current.revision_rounds != new.revision_rounds:
        rows.append(f"Revision rounds: {current.revision_rounds} → {new.revision_rounds}")
    if not rows:
        return StepResult(
            notes=[f"Nothing changed: {client.name}'s retainer is already {terms_text(current)}."],
            client_id=client.id,
            stop=True,
        )
    if confirmed(deps, state, "change_retainer", client.id):
        return None
    today = today_for(deps)
    old_next = _upcoming(current, today, 1)
    new_next = (
        [d for d in billing_dates(new.billing_day, today, 1) if not current.ended_by(d)] if new.billing_day else []
    )
    if old_next or new_next:
        was = f"{old_next[0].isoformat()} for {_monthly(current).removesuffix('/month')}" if old_next else "none"
        will = f"{new_next[0].isoformat()} for {_monthly(new).removesuffix('/month')}" if new_next else "none"
        rows.append(f"Next invoice: {will} (was {was})")
    question = "\n".join(
        [f"{client.name} already has a retainer ({terms_text(current)}). Change it to the new terms?"]
        + [f"  {row}" for row in rows]
    )
    return ask_to_confirm(deps, state, question, {"retainer_id": current.id, "changes": rows})


# -- ending, pausing, resuming ----------------------------------------------------------------


def end_retainer(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, RetainerEnd)
    client, retainer, why = _find(deps, intent.client_name)
    if why is not None or client is None or retainer is None:
        return why or StepResult(stop=True)
    today = today_for(deps)
    ends_on = intent.ends_on or today
    if retainer.ends_on == ends_on:
        return StepResult(
            notes=[f"Nothing changed: {client.name}'s retainer already ends on {ends_on.isoformat()}."],
            client_id=client.id,
        )
    before = _upcoming(retainer, today, 12)
    kept = [d for d in before if d < ends_on]
    dropped = [d for d in before if d >= ends_on][:SHOWN]
    when = {True: f"as of {ends_on.isoformat()}, a date in the past", False: f"on {ends_on.isoformat()}"}[
        ends_on < today
    ]
    if ends_on == today:
        when = "today"
    billed = _invoiced_from(deps, retainer, ends_on)
    # Invoices already made for dates after the end: whether to reject or credit them is money
    # only the operator can settle, so that end is always asked about.
    unsure = "invoices already made after the end" if billed else None
    if not confirmed(deps, state, "end_retainer", client.id, unsure=unsure):
        rows = [f"End {client.name}'s retainer ({terms_text(retainer)}) {when}?"]
        if billed:
            rows.append(
                f"  Already invoiced for dates from then on: {', '.join(billed)} — these stay as they are"
                " (reject a draft, or tell me to credit a sent one)."
            )
        if kept:
            rows.append(f"  Still billed: {_dates(kept)} (the last invoice).")
        if dropped:
            rows.append(f"  No longer billed: {_dates(dropped)}{', …' if len(dropped) == SHOWN else ''}.")
        elif retainer.billing_day:
            rows.append("  No billing date is affected.")
        else:
            rows.append("  It has no billing day, so no invoice changes; weekly reports stop.")
        return ask_to_confirm(deps, state, "\n".join(rows), {"retainer_id": retainer.id, "ends_on": str(ends_on)})
    with deps.store.db.transaction() as tx:
        after = deps.store.work.end_retainer(tx, retainer.id, ends_on, today)
    _record(deps, state, "end_retainer", "retainer_ended", retainer, after)
    last = f" The last invoice is {kept[-1].isoformat()}'s." if kept else ""
    return StepResult(
        notes=[
            f"{client.name}'s retainer {'has ended' if ends_on <= today else 'ends ' + ends_on.isoformat()}:"
            f" nothing is billed from {ends_on.isoformat()} on.{last}"
        ],
        client_id=client.id,
        facts={"retainer_id": retainer.id, "ends_on": str(ends_on)},
    )


def pause_retainer(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, RetainerPause)
    client, retainer, why = _find(deps, intent.client_name)
    if why is not None or client is None or retainer is None:
        return why or StepResult(stop=True)
    today = today_for(deps)
    # "for two months" with no date (a model may say only that): two months from today.
    until = intent.paused_until or (add_months(today, intent.months) if intent.months else None)
    if until is not None and until <= today:
        return StepResult(
            notes=[f"{until.isoformat()} is not in the future; until when should {client.name}'s retainer pause?"],
            client_id=client.id,
            stop=True,
        )
    if retainer.paused_on(today) and retainer.paused_until == until:
        return StepResult(
            notes=[f"Nothing changed: {client.name}'s retainer is already {retainer.state_on(today)}."],
            client_id=client.id,
        )
    paused = retainer.model_copy(update={"paused_from": today, "paused_until": until})
    skipped = [d for d in _upcoming(retainer, today, 24) if not paused.bills_on(d)]
    resumes = _upcoming(paused, today, 1)
    span = f"until {until.isoformat()}" if until else "until you resume it"
    if not confirmed(deps, state, "pause_retainer", client.id):
        rows = [f"Pause {client.name}'s retainer ({terms_text(retainer)}) from today {span}?"]
        if skipped:
            more = ", …" if until is None and len(skipped) > SHOWN else ""
            rows.append(f"  Not billed: {_dates(skipped[:SHOWN] if until is None else skipped)}{more}.")
        elif retainer.billing_day:
            rows.append("  No billing date falls in the pause.")
        if resumes:
            rows.append(f"  Billing resumes: {resumes[0].isoformat()}.")
        elif until is None:
            rows.append("  No invoices until you resume it.")
        rows.append("  Weekly reports stop during the pause.")
        facts = {"retainer_id": retainer.id, "paused_until": str(until) if until else None}
        return ask_to_confirm(deps, state, "\n".join(rows), facts)
    with deps.store.db.transaction() as tx:
        after = deps.store.work.pause_retainer(tx, retainer.id, today, until)
    _record(deps, state, "pause_retainer", "retainer_paused", retainer, after)
    resume = f" Billing resumes {resumes[0].isoformat()}." if resumes else ""
    return StepResult(
        notes=[
            f"{client.name}'s retainer is paused {span}: {len(skipped) if until else 'no'} invoice(s) skipped.{resume}"
        ]
        if until
        else [f"{client.name}'s retainer is paused until you resume it: nothing is billed meanwhile."],
        client_id=client.id,
        facts={"retainer_id": retainer.id},
    )


def resume_retainer(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, RetainerResume)
    client, retainer, why = _find(deps, intent.client_name)
    if why is not None or client is None or retainer is None:
        return why or StepResult(stop=True)
    today = today_for(deps)
    pending_pause = retainer.paused_from is not None and retainer.paused_from > today
    if not retainer.paused_on(today) and not pending_pause:
        return StepResult(
            notes=[f"Nothing changed: {client.name}'s retainer is not paused ({retainer.state_on(today)})."],
            client_id=client.id,
        )
    resumed = retainer.model_copy(update={"paused_from": None, "paused_until": None})
    coming = _upcoming(resumed, today, SHOWN)
    if not confirmed(deps, state, "resume_retainer", client.id):
        rows = [f"Resume {client.name}'s retainer ({terms_text(retainer)}) today? It is {retainer.state_on(today)}."]
        if coming:
            rows.append(f"  Billed again: {_dates(coming)}.")
        return ask_to_confirm(deps, state, "\n".join(rows), {"retainer_id": retainer.id})
    with deps.store.db.transaction() as tx:
        after = deps.store.work.resume_retainer(tx, retainer.id, today)
    _record(deps, state, "resume_retainer", "retainer_resumed", retainer, after)
    nxt = f" Next invoice: {coming[0].isoformat()}." if coming else ""
    return StepResult(
        notes=[f"{client.name}'s retainer is running again.{nxt}"], client_id=client.id, facts={"retainer_id": after.id}
    )


RETAINER_STEPS: dict[str, StepFn] = {
    "end_retainer": end_retainer,
    "pause_retainer": pause_retainer,
    "resume_retainer": resume_retainer,
}
