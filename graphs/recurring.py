"""Recurring work: what one day's tick does, and when routine work may skip the approval card.

One tick per local day (bot/ticks.py schedules it) prepares the day's retainer invoices,
drafts the week's client reports and raises deliverables about to slip. Invoices and reports
are intents submitted into the retainer's thread under the normal rules (persisted with an
idempotency key per retainer and period, planned, approved, sent), so a second worker, a
retried job or `coo tick` run by hand for the same day creates nothing twice. The day's
events are in the ledger under ``tick-YYYY-MM-DD``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from agents import billing_cycle, deadline_monitor, weekly_reporter
from graphs.approvals import Action
from graphs.envelope import Channel, Envelope, is_channel
from store.errors import NotFound
from store.facade import Store
from store.models import Approval, Retainer
from store.policies import AUTONOMY_LEVELS

if TYPE_CHECKING:  # the conversation imports this module for its /autonomy command
    from graphs.conversation import Conversation

SCHEDULER_USER = "coo-scheduler"  # the user id of intents the scheduler submits
AUTONOMY_VIA = "autonomy"  # decided_via of approvals the operator's autonomy policy decided
# Which agents may act on their own, and on what; everything else always asks.
AUTONOMY_SCOPE: dict[str, str] = {
    "invoicer": "recurring retainer invoices whose amount equals the retainer's",
}


class DayReport(BaseModel):
    day: date
    invoices: list[str] = Field(default_factory=list)  # runs started (new only)
    reports: list[str] = Field(default_factory=list)
    alerts: list[str] = Field(default_factory=list)  # alert keys raised (new only)

    def summary(self) -> str:
        parts = [
            f"{len(self.invoices)} invoice(s) prepared",
            f"{len(self.reports)} weekly report(s) drafted",
            f"{len(self.alerts)} deadline alert(s) raised",
        ]
        return f"{self.day.isoformat()}: " + ", ".join(parts) + "."


def tick_ledger_id(day: date) -> str:
    return f"tick-{day.isoformat()}"


def retainer_thread(store: Store, retainer: Retainer) -> tuple[Channel, str]:
    """The retainer's thread: the one its signup was said in (runs → channel/thread)."""
    if retainer.run_id:
        try:
            run = store.runs.get(retainer.run_id)
        except NotFound:
            pass
        else:
            if is_channel(run.channel):  # always, for runs started by an Envelope
                return run.channel, run.thread_id
    return "console", "console"  # e.g. a retainer restored without its run


def _submit(
    store: Store,
    conversation: Conversation,
    key: str,
    kind: str,
    retainer: Retainer,
    period: str,
    intent: dict[str, Any],
    text: str,
) -> str | None:
    """Submit the period's intent once; the new run's id, or None when it already existed."""
    store.recurring.claim(key, kind, retainer.id, period)
    channel, thread = retainer_thread(store, retainer)
    env = Envelope(
        channel=channel,
        event_id=key,
        thread_id=thread,
        user_id=SCHEDULER_USER,
        text=text,
    )
    handled = conversation.submit(env, intent, text)
    run_id = next(iter(handled.run_ids or handled.saved), None)
    if run_id:
        store.recurring.link_run(key, run_id)
    return None if handled.duplicate else run_id


def run_day(
    store: Store, conversation: Conversation, day: date, report_weekday: int = weekly_reporter.DEFAULT_WEEKDAY
) -> DayReport:
    """Do ``day``'s recurring work (a local date); safe to run any number of times."""
    done = DayReport(day=day)
    ledger_id = tick_ledger_id(day)
    for bill in billing_cycle.due_for_billing(store, day):
        text = (
            f"Monthly retainer invoice for {bill.client.name} — "
            f"{billing_cycle.month_label(bill.billing_date)} (billing day {bill.retainer.billing_day})"
        )
        run_id = _submit(
            store,
            conversation,
            bill.key,
            billing_cycle.KIND,
            bill.retainer,
            bill.period,
            billing_cycle.invoice_intent(bill),
            text,
        )
        if run_id:
            done.invoices.append(run_id)
            store.ledger.append(
                ledger_id,
                "billing_cycle",
                "invoice_prepared",
                {"retainer_id": bill.retainer.id, "period": bill.period, "run_id": run_id},
                actor="coo (billing cycle)",
                dedupe=bill.key,
            )
    for due in weekly_reporter.due_for_report(store, day, report_weekday):
        intent = {
            "kind": "weekly_report",
            "retainer_id": due.retainer.id,
            "client_name": due.client.name,
            "week_start": due.week_start.isoformat(),
            "as_of": day.isoformat(),
        }
        run_id = _submit(
            store,
            conversation,
            due.key,
            weekly_reporter.KIND,
            due.retainer,
            due.period,
            intent,
            f"Weekly client report for {due.client.name} — {due.period}",
        )
        if run_id:
            done.reports.append(run_id)
            store.ledger.append(
                ledger_id,
                "weekly_reporter",
                "report_drafting",
                {"retainer_id": due.retainer.id, "week": due.period, "run_id": run_id},
                actor="coo (weekly reporter)",
                dedupe=due.key,
            )
    for alert in deadline_monitor.alerts_for(store, day):
        if _raise(store, alert, ledger_id):
            done.alerts.append(alert.key)
    return done


def _raise(store: Store, alert: deadline_monitor.Alert, ledger_id: str) -> bool:
    """Post the alert into the retainer's thread once; the message and its ledger event are
    written together, so a crash in between cannot leave one without the other."""
    channel, thread = retainer_thread(store, alert.retainer)
    with store.db.transaction() as tx:
        posted = store.conversations.post(
            channel,
            thread,
            alert.text,
            run_id=alert.retainer.run_id,
            dedupe=alert.key,
            tx=tx,
            payload={"deliverable_id": alert.deliverable.id, "threshold": alert.threshold},
        )
        if posted is None:
            return False
        store.ledger.append(
            ledger_id,
            "deadline_monitor",
            "deadline_raised",
            {
                "deliverable_id": alert.deliverable.id,
                "title": alert.deliverable.title,
                "due": alert.deliverable.due_date.isoformat() if alert.deliverable.due_date else None,
                "threshold": alert.threshold,
                "thread": f"{channel}:{thread}",
            },
            actor="coo (deadline monitor)",
            dedupe=alert.key,
            tx=tx,
        )
    return True


# -- autonomy ----------------------------------------------------------------------------------


def _autonomous_agent(store: Store, run_id: str, action: Action) -> str | None:
    """The agent whose raised autonomy covers this action, or None (then the operator decides).

    Only a recurring retainer invoice qualifies: the run was submitted by the scheduler under a
    billing claim, and the invoice is exactly the retainer's monthly amount to the client's
    address. Anything unusual (edited amount, other recipient, no claim) asks as always.
    """
    if action.action != "send_invoice" or action.card.invoice_id is None or not action.draft.to:
        return None
    if store.policies.autonomy("invoicer") != "auto":
        return None
    try:
        accepted = store.conversations.intent_for_run(run_id)
    except NotFound:
        return None
    item = store.recurring.get(accepted.idempotency_key.split(":", 1)[-1])
    if item is None or item.kind != billing_cycle.KIND or accepted.user_id != SCHEDULER_USER:
        return None
    retainer = store.work.retainer(item.retainer_id)
    if retainer is None or retainer.status != "active":
        return None
    client = store.clients.get(retainer.client_id)
    invoice = store.billing.by_id(action.card.invoice_id)
    if action.draft.to != client.contact_email or not billing_cycle.is_routine(invoice, retainer):
        return None
    return "invoicer"


def _decided_by_policy(approval: Approval | None) -> str | None:
    if approval is None or approval.decided_via != AUTONOMY_VIA or not approval.decided_by:
        return None
    return approval.decided_by.removeprefix("coo (autonomy: ").removesuffix(")")


def approve_by_autonomy(store: Store, run_id: str, action: Action, approval: Approval) -> str | None:
    """The agent whose autonomy decided this approval (now, or before a replay of the gate);
    None when the operator decides. With an agent, the supervisor goes on without a card."""
    if approval.status != "pending":
        return _decided_by_policy(approval)
    agent = _autonomous_agent(store, run_id, action)
    if agent is None:
        return None
    by = f"coo (autonomy: {agent})"
    if not store.runs.decide(approval.id, "approved", by, AUTONOMY_VIA):
        return _decided_by_policy(store.runs.approval(approval.id))
    store.ledger.append(
        run_id,
        action.step,
        "approved_by_policy",
        {"approval_id": approval.id, "agent": agent, "autonomy": "auto", "scope": AUTONOMY_SCOPE[agent]},
        actor=by,
    )
    return agent


def autonomy_note(agent: str) -> str:
    return (
        f"Sent without asking: your autonomy setting for the {agent} covers {AUTONOMY_SCOPE[agent]} "
        f"(/autonomy {agent} ask to approve each one again)."
    )


def autonomy_command(store: Store, env: Envelope, rest: str) -> str:
    """`/autonomy` shows the policies; `/autonomy invoicer auto|ask` sets one. Only an operator's
    chat command gets here: forwarded e-mail and client text are never commands."""
    policies = store.policies
    words = rest.lower().split()
    if not words:
        lines = ["Autonomy (what coo may do without asking):"]
        for agent, scope in AUTONOMY_SCOPE.items():
            level = policies.autonomy(agent)
            what = f"sends {scope} on its own" if level == "auto" else "asks before sending anything"
            lines.append(f"• {agent}: {level} — {what}")
        lines.append("Everything else always waits for your approval. Change it with /autonomy invoicer auto|ask.")
        return "\n".join(lines)
    if env.channel == "email":
        return "Autonomy can only be changed by the operator in chat."
    if len(words) != 2 or words[1] not in AUTONOMY_LEVELS:
        return f"Write /autonomy AGENT {'|'.join(AUTONOMY_LEVELS)}, e.g. /autonomy invoicer auto."
    agent, level = words
    if agent not in AUTONOMY_SCOPE:
        return (
            f"Only the {', '.join(AUTONOMY_SCOPE)} can act on its own so far ({AUTONOMY_SCOPE['invoicer']}); "
            f"{agent} always asks."
        )
    change = policies.set_autonomy(agent, level, env.user_id, env.channel)
    store.ledger.append(
        "policies",
        "autonomy",
        "policy_changed",
        change.model_dump() | {"via": env.channel},
        actor=f"{env.channel}:{env.user_id}",
        dedupe=env.idempotency_key,
    )
    if level == "auto":
        return (
            f"OK: the {agent} now sends {AUTONOMY_SCOPE[agent]} without asking; anything unusual still "
            f"waits for you. /autonomy {agent} ask undoes it."
        )
    return f"OK: the {agent} asks for your approval before sending anything again."


def open_deliverables_text(store: Store) -> str:
    """The answer to a bare /done: which deliverables are open, with their numbers."""
    names = {c.id: c.name for c in store.clients.all()}
    items = store.work.open_deliverables()
    if not items:
        return "No open deliverables."
    lines = ["Which one is done? Write /done N:"]
    lines.extend(
        f"• {d.id} {d.title} ({names.get(d.client_id, '?')})"
        + (f" — due {d.due_date.isoformat()}" if d.due_date else "")
        for d in items[:15]
    )
    return "\n".join(lines)
