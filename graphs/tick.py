"""The daily tick: one local day's recurring work.

One tick per local day (bot/ticks.py schedules it) prepares the day's retainer invoices,
drafts the week's client reports and raises deliverables about to slip. Invoices and reports
are intents submitted into the retainer's thread under the normal rules (persisted with an
idempotency key per retainer and period, planned, approved, sent), so a second worker, a
retried job or `coo tick` run by hand for the same day creates nothing twice. The day's
events are in the ledger under ``tick-YYYY-MM-DD``.

The intents go through a ``Submitter`` (the conversation, in the composition root): this
module does not import the conversation, which imports the chat commands, not the tick.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel, Field

from agents import billing_cycle, deadline_monitor, weekly_reporter
from graphs.autonomy import SCHEDULER_USER
from graphs.envelope import Channel, Envelope, is_channel
from store.books_check import run_check
from store.errors import NotFound
from store.facade import Store
from store.models import LedgerEvent, Retainer


class Submitted(Protocol):
    """What became of a submitted intent (the conversation's ``Handled``)."""

    @property
    def duplicate(self) -> bool: ...
    @property
    def run_ids(self) -> Sequence[str]: ...
    @property
    def saved(self) -> Sequence[str]: ...


class Submitter(Protocol):
    """Accepts an intent built by the core under the normal rules (``Conversation.submit``)."""

    def submit(self, env: Envelope, intent: dict[str, Any], text: str) -> Submitted: ...


class DayReport(BaseModel):
    day: date
    invoices: list[str] = Field(default_factory=list)  # runs started (new only)
    reports: list[str] = Field(default_factory=list)
    alerts: list[str] = Field(default_factory=list)  # alert keys raised (new only)
    reminders: list[str] = Field(default_factory=list)  # payment-reminder runs started (new only)
    books_problems: int = 0  # what `coo books check` finds now

    def summary(self) -> str:
        parts = [
            f"{len(self.invoices)} invoice(s) prepared",
            f"{len(self.reports)} weekly report(s) drafted",
            f"{len(self.alerts)} deadline alert(s) raised",
        ]
        if self.reminders:
            parts.append(f"{len(self.reminders)} payment reminder(s) drafted")
        if self.books_problems:
            parts.append(f"books: {self.books_problems} problem(s) — run coo books check")
        return f"{self.day.isoformat()}: " + ", ".join(parts) + "."


def tick_ledger_id(day: date) -> str:
    return f"tick-{day.isoformat()}"


DEFAULT_REMINDER_DAYS: tuple[int, ...] = (3, 10, 30)  # COO_REMINDER_DAYS: payment reminders, days overdue
BOOKS_STEP, BOOKS_EVENT = "books_check", "books_checked"
BOOKS_SHOWN = 20  # problems named in the ledger event and the message; `coo books check` lists all


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
    submitter: Submitter,
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
    handled = submitter.submit(env, intent, text)
    run_id = next(iter(handled.run_ids or handled.saved), None)
    if run_id:
        store.recurring.link_run(key, run_id)
    return None if handled.duplicate else run_id


def run_day(
    store: Store,
    submitter: Submitter,
    day: date,
    report_weekday: int = weekly_reporter.DEFAULT_WEEKDAY,
    reminder_days: Sequence[int] = DEFAULT_REMINDER_DAYS,
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
            submitter,
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
            submitter,
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
    done.reminders = remind_overdue(store, submitter, day, reminder_days)
    done.books_problems = check_books_daily(store, day)
    return done


def reminder_key(number: str, stage: int) -> str:
    return f"reminder:{number}:{stage}"


def remind_overdue(store: Store, submitter: Submitter, day: date, reminder_days: Sequence[int]) -> list[str]:
    """Draft the payment reminder each overdue invoice has reached (stage N at ``reminder_days[N-1]``
    days overdue), once per invoice and stage. Only the latest stage reached is drafted: a tick that
    missed days never sends a mild reminder after a firm one's time. Paid and void invoices are
    not open, so they get no more reminders. Returns the new runs."""
    started: list[str] = []
    schedule = sorted(reminder_days)
    for invoice in store.billing.open_invoices():
        late = (day - invoice.due_date).days
        reached = [n for n, days in enumerate(schedule, start=1) if late >= days]
        if not reached:
            continue
        stage = reached[-1]
        key = reminder_key(invoice.number, stage)
        taken = store.db.fetchone("SELECT run_id FROM invoice_reminders WHERE key = ?", (key,))
        if taken is not None and taken["run_id"]:
            continue
        for earlier in reached[:-1]:
            # Passed over (its day fell between ticks): on record, never drafted later.
            if store.credit_notes.claim_reminder(reminder_key(invoice.number, earlier), invoice.id, earlier):
                store.credit_notes.link_reminder(reminder_key(invoice.number, earlier), "skipped")
        store.credit_notes.claim_reminder(key, invoice.id, stage)
        channel, thread = _invoice_thread(store, invoice.run_id)
        client = store.clients.get(invoice.client_id)
        text = f"Payment reminder {stage} for {invoice.number} ({client.name}) — {late} days overdue"
        env = Envelope(channel=channel, event_id=key, thread_id=thread, user_id=SCHEDULER_USER, text=text)
        intent = {"kind": "payment_reminder", "invoice_number": invoice.number, "stage": stage}
        handled = submitter.submit(env, intent, text)
        run_id = next(iter(handled.run_ids or handled.saved), None)
        if run_id:
            store.credit_notes.link_reminder(key, run_id)
        if run_id and not handled.duplicate:
            started.append(run_id)
            store.ledger.append(
                tick_ledger_id(day),
                "collector",
                "reminder_drafting",
                {"invoice": invoice.number, "stage": stage, "days_overdue": late, "run_id": run_id},
                actor="coo (collector)",
                dedupe=key,
            )
    return started


def _invoice_thread(store: Store, run_id: str | None) -> tuple[Channel, str]:
    """The thread the invoice was prepared in (its reminders go there)."""
    if run_id:
        try:
            run = store.runs.get(run_id)
        except NotFound:
            pass
        else:
            if is_channel(run.channel):
                return run.channel, run.thread_id
    return "console", "console"


def check_books_daily(store: Store, day: date) -> int:
    """Run `coo books check`; record its outcome in the day's ledger (again only when it
    changed, so the digest reads the latest) and, when the books are wrong, tell the operators
    once a day. Returns the number of problems."""
    result = run_check(store.db)
    lines = [p.line() for p in result.problems]
    kinds: dict[str, int] = {}
    for problem in result.problems:
        kinds[problem.kind] = kinds.get(problem.kind, 0) + 1
    payload: dict[str, Any] = {
        "problems": len(lines),
        "kinds": kinds,
        "shown": lines[:BOOKS_SHOWN],
        "invoices": result.invoices,
        "payments": result.payments,
    }
    outcome = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    payload["outcome"] = outcome
    ledger_id = tick_ledger_id(day)
    with store.db.transaction() as tx:
        last = tx.fetchone(
            "SELECT * FROM ledger WHERE run_id = ? AND kind = ? ORDER BY id DESC LIMIT 1",
            (ledger_id, BOOKS_EVENT),
        )
        previous = LedgerEvent.model_validate(last) if last else None
        if previous is None or previous.payload.get("outcome") != outcome:
            # Once per outcome after the previous one: a rerun with the same result adds nothing,
            # a changed result is the newest event, and two ticks at once record it once.
            store.ledger.append(
                ledger_id,
                BOOKS_STEP,
                BOOKS_EVENT,
                payload,
                actor="coo (books check)",
                dedupe=f"{previous.id if previous else 0}:{outcome}",
                tx=tx,
            )
        if lines:
            more = f"\n… and {len(lines) - BOOKS_SHOWN} more" if len(lines) > BOOKS_SHOWN else ""
            text = (
                f"The books have {len(lines)} problem(s) — run `coo books check`:\n"
                + "\n".join(f"• {line}" for line in lines[:BOOKS_SHOWN])
                + more
            )
            store.conversations.post(
                "digest",
                f"books-{day.isoformat()}",
                text,
                dedupe=f"books:{day.isoformat()}",
                payload={"books_problems": len(lines)},
                tx=tx,
            )
    return len(lines)


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
