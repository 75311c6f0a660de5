"""Steps of recurring retainer work: the weekly report, marking deliverables done, and the
retainer playbook's last step that says what now runs on its own."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from agents.billing_cycle import billing_date
from agents.context import load_client_context
from agents.weekly_reporter import write_report
from graphs.approvals import Action, Card, Draft
from graphs.deps import Deps
from graphs.intents import DeliverableDone, RetainerSignup, WeeklyReport, intent_from_dict
from graphs.step_kit import StepFn, StepResult, resolve_client, today_for, unknown_client
from store.clock import local_moment
from store.models import Deliverable, format_money
from store.revisions import deliverable_key

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def next_billing_date(today: date, billing_day: int) -> date:
    """The first billing date on or after ``today`` (month ends clamp: 31 → 30 Nov, 28 Feb)."""
    when = billing_date(today.year, today.month, billing_day)
    if when >= today:
        return when
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return billing_date(first.year, first.month, billing_day)


def schedule_recurring(deps: Deps, state: dict[str, Any]) -> StepResult:
    """The retainer playbook's last step: billing configured, weekly report scheduled, deadline
    monitor watching. The daily tick does the work; this records and tells what it will do."""
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, RetainerSignup)
    client_id = state.get("client_id")
    retainer = deps.store.work.active_retainer(client_id) if client_id is not None else None
    if retainer is None:
        return StepResult(notes=[])
    today = today_for(deps)
    notes = []
    facts: dict[str, Any] = {
        "report_weekday": _WEEKDAYS[deps.report_weekday - 1],
        "deadline_thresholds": ["3 days", "1 day", "overdue"],
    }
    if retainer.billing_day:
        when = next_billing_date(today, retainer.billing_day)
        mode = (
            "sent on its own (autonomy: auto)"
            if deps.store.policies.autonomy("invoicer") == "auto"
            else "waits for your approval"
        )
        notes.append(
            f"Billing configured: a {format_money(retainer.monthly_amount, retainer.currency)} invoice is "
            f"prepared on day {retainer.billing_day} each month (next {when.isoformat()}) and {mode}."
        )
        facts["next_invoice"] = when.isoformat()
    else:
        notes.append('No billing day given, so no monthly invoice is scheduled (say "bill them on the 1st").')
    notes.append(
        f"Weekly report to {deps.store.clients.get(retainer.client_id).name} scheduled for "
        f"{_WEEKDAYS[deps.report_weekday - 1]}s, drafted for your approval; deadline monitor watching "
        f"their deliverables (3 days, 1 day, overdue)."
    )
    return StepResult(notes=[" ".join(notes)], facts=facts)


def draft_weekly_report(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, WeeklyReport)
    retainer = deps.store.work.retainer(intent.retainer_id)
    if retainer is None or retainer.status != "active":
        return StepResult(notes=["That retainer has ended; no weekly report."], stop=True)
    report = write_report(deps.store, retainer, intent.week_start, intent.as_of or today_for(deps), deps.sender_name)
    ctx = load_client_context(deps.store, retainer.client_id)
    to = ctx.client.contact_email
    card = Card(
        title=f"Send weekly report to {to or ctx.client.name}",
        question=f"Send it to {to}?" if to else "Send it? (no e-mail address on file)",
        client_id=ctx.client.id,
        client=ctx.client.name,
        details=report.details,
        constraints=ctx.constraints(),
    )
    action = Action(
        step="send_weekly_report",
        action="send_email",
        card=card,
        draft=Draft(to=to, subject=report.subject, body=report.body),
    )
    return StepResult(
        notes=[f"I drafted {ctx.client.name}'s weekly report."],
        action=action,
        client_id=ctx.client.id,
        facts={"delivered": report.delivered, "due_next_week": report.due_next_week, "late": report.late},
    )


def _match(items: list[Deliverable], title: str) -> list[Deliverable]:
    """Open deliverables meant by ``title``: the same words, else every one containing them."""
    key = deliverable_key(title)
    exact = [d for d in items if deliverable_key(d.title) == key]
    return exact or [d for d in items if key in deliverable_key(d.title) or deliverable_key(d.title) in key]


def mark_deliverable_done(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, DeliverableDone)
    store = deps.store
    if intent.deliverable_id is not None:
        found = store.work.deliverable(intent.deliverable_id)
        if found is None:
            return StepResult(
                notes=[f"There is no deliverable {intent.deliverable_id}. /done lists the open ones."], stop=True
            )
    else:
        client, candidates = resolve_client(deps, intent.client_name, None)
        if client is None:
            return unknown_client(intent.client_name, candidates)
        matches = _match(store.work.open_deliverables(client.id), intent.title or "")
        if len(matches) != 1:
            listed = "; ".join(f"/done {d.id} {d.title}" for d in store.work.open_deliverables(client.id)[:8])
            what = "more than one open deliverable" if matches else "no open deliverable"
            return StepResult(
                notes=[f"“{intent.title}” matches {what} for {client.name}." + (f" Open: {listed}." if listed else "")],
                stop=True,
            )
        found = matches[0]
    client_name = store.clients.get(found.client_id).name
    today = store.clock.today()
    if intent.done_on is not None and intent.done_on > today:
        return StepResult(
            notes=[f"{intent.done_on.isoformat()} is in the future; work that is done was done already. When was it?"],
            stop=True,
        )
    # Delivered on a day said ("last Friday"): noon that day where the operator lives, so the
    # weekly report counts it in the right week; today: now.
    at = (
        local_moment(store.clock.tz, intent.done_on, "12:00")
        if intent.done_on is not None and intent.done_on < today
        else None
    )
    with store.db.transaction() as tx:
        changed = store.work.mark_done(tx, found.id, at)
        if changed:  # undoable: "undo" puts it back to open
            store.changes.record(
                tx,
                state["run_id"],
                "mark_deliverable_done",
                "deliverable_done",
                f"“{found.title}” ({client_name}) marked delivered",
                table="deliverables",
                row_id=found.id,
                before={"status": found.status, "done_at": found.done_at},
                after={"status": "done"},
            )
    if not changed and found.status == "done":
        return StepResult(
            notes=[f"“{found.title}” ({client_name}) was already marked done."], client_id=found.client_id
        )
    when = f" on {intent.done_on.isoformat()}" if at is not None and intent.done_on else ""
    return StepResult(
        notes=[
            f"Marked “{found.title}” ({client_name}) delivered{when}; it goes into that week's client report."
            if when
            else f"Marked “{found.title}” ({client_name}) delivered; it goes into this week's report."
        ],
        client_id=found.client_id,
        facts={"deliverable_id": found.id},
    )


RECURRING_STEPS: dict[str, StepFn] = {
    "schedule_recurring": schedule_recurring,
    "draft_weekly_report": draft_weekly_report,
    "mark_deliverable_done": mark_deliverable_done,
}
