"""Digest writer: the operator's morning briefing, built from the store for one local day.

Short when there is little to say; sections with nothing in them are left out, and a quiet
day is one line, never a page of empty headings.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from agents.policy_review import ReviewOffer, quarterly_review_with_offers
from agents.slas import describe, flag_breaches
from store.facade import Store
from store.memory_audit import audit
from store.models import format_money

AUDIT_WEEKDAY = 0  # Monday's digest carries the weekly memory audit
APPROVAL_SLA_HOURS = 24  # soft SLA: an approval should not wait longer than a day


class Digest(BaseModel):
    day: date
    text: str
    approval_ids: list[int]
    quiet: bool
    offers: list[ReviewOffer] = Field(default_factory=list)  # the quarterly review's one-tap actions


def _local_day_bounds(store: Store, day: date) -> tuple[datetime, datetime]:
    """The local day as a UTC interval: stored times are UTC (and compared as text on SQLite)."""
    start = datetime.combine(day, time.min, tzinfo=store.clock.tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=store.clock.tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _cost_between(store: Store, start: datetime, end: datetime) -> Decimal:
    rows = store.db.fetchall(
        "SELECT payload FROM ledger WHERE kind = 'model_call' AND created_at >= ? AND created_at < ?", (start, end)
    )
    total = Decimal(0)
    for row in rows:
        payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
        total += Decimal(str(payload.get("cost_usd", 0) or 0))
    return total


BOOKS_LOOKBACK_DAYS = 7  # the latest daily books check is looked for in this many days' ticks


def books_problems(store: Store, day: date) -> int | None:
    """Problems the latest daily books check (graphs/tick.py, ledger ``tick-YYYY-MM-DD``) found,
    up to ``day``; None when none ran lately. Reads by the ledger's run index: a few rows."""
    ids = [f"tick-{(day - timedelta(days=n)).isoformat()}" for n in range(BOOKS_LOOKBACK_DAYS)]
    marks = ", ".join("?" for _ in ids)
    row = store.db.fetchone(
        f"SELECT payload FROM ledger WHERE run_id IN ({marks}) AND kind = 'books_checked' ORDER BY id DESC LIMIT 1",
        tuple(ids),
    )
    if row is None:
        return None
    payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
    return int(payload.get("problems", 0) or 0)


BULK_LISTED = 10  # bulk mail lines in a digest; the rest is counted
SECTION_LISTED = 10  # lines of a section that grows with the books (invoices, deliverables, …)


def _more(hidden: int, then: str = "") -> list[str]:
    """The line that counts what a bounded section leaves out (none when nothing is)."""
    return [f"• … and {hidden:,} more" + (f" ({then})" if then else "")] if hidden > 0 else []


def _sender(meta: dict) -> str:
    sender = meta.get("from") or {}
    return str(sender.get("address") or sender.get("name") or "(no sender)")


def write_digest(store: Store, day: date) -> Digest:
    """The digest for ``day`` (the operator's local date)."""
    names = {c.id: c.name for c in store.clients.all()}
    now = store.clock.now()
    sections: list[tuple[str, list[str]]] = []

    approvals = store.runs.pending_approvals()
    sections.append(
        (
            "Waiting for your approval",
            [f"• #{a.id} {a.card.get('title', a.action)} — /approve {a.id} · /reject {a.id}" for a in approvals],
        )
    )

    reminders = [a for a in approvals if a.action == "send_reminder"]
    sections.append(
        (
            "Payment reminders waiting",
            [
                f"• #{a.id} {a.card.get('client', '?')}: {a.card.get('title', a.action)} — /approve {a.id}"
                for a in reminders
            ],
        )
    )

    not_sent = []
    for failure in store.side_effects.not_sent():
        run_id, _, step = failure.key.partition(":")
        approval = store.runs.approval_for(run_id, step)
        if approval is None:
            continue
        then = (
            f"next try at {store.clock.local(failure.retry_at).strftime('%H:%M')}"
            if failure.retry_at
            else f"/resend {approval.id}"
        )
        not_sent.append(f"• #{approval.id} {approval.card.get('title', approval.action)} — {failure.error}; {then}")
    sections.append(("Approved but NOT sent", not_sent))

    # Sections that grow with the books list their first SECTION_LISTED lines (the invoices read
    # only those, and count the rest in SQL): at 10× the books a digest was 5,000 lines long.
    week_end = day + timedelta(days=8)
    overdue = store.billing.open_invoices(due_before=day, limit=SECTION_LISTED)
    overdue_count, overdue_owed = store.billing.open_totals(due_before=day)
    due_week = store.billing.open_invoices(due_from=day, due_before=week_end, limit=SECTION_LISTED)
    due_week_count, due_week_owed = store.billing.open_totals(due_from=day, due_before=week_end)
    sections.append(
        (
            "Invoices overdue",
            [
                f"• {i.number} {names.get(i.client_id, '?')}: {format_money(i.balance, i.currency)}, "
                f"{(day - i.due_date).days} days late"
                for i in overdue
            ]
            + _more(overdue_count - len(overdue), f"{overdue_owed} overdue in all — ask “what's overdue?”"),
        )
    )
    sections.append(
        (
            "Invoices due this week",
            [
                f"• {i.number} {names.get(i.client_id, '?')}: {format_money(i.balance, i.currency)}, due {i.due_date.isoformat()}"
                for i in due_week
            ]
            + _more(due_week_count - len(due_week), f"{due_week_owed} due this week in all"),
        )
    )

    deliverables = [d for d in store.work.open_deliverables() if d.due_date and d.due_date <= day + timedelta(days=7)]
    sections.append(
        (
            "Deliverables due in the next 7 days",
            [
                f"• {d.title} ({names.get(d.client_id, '?')}) — "
                + (f"{(day - d.due_date).days} days late" if d.due_date < day else f"due {d.due_date.isoformat()}")
                for d in deliverables[:SECTION_LISTED]
                if d.due_date
            ]
            + _more(len(deliverables) - SECTION_LISTED),
        )
    )

    tasks = [t for t in store.work.open_tasks() if t.due_date and t.due_date <= day + timedelta(days=7)]
    sections.append(
        (
            "Tasks due in the next 7 days",
            [
                f"• {t.title} — "
                + (f"{(day - t.due_date).days} days late" if t.due_date < day else f"due {t.due_date.isoformat()}")
                for t in tasks[:SECTION_LISTED]
                if t.due_date
            ]
            + _more(len(tasks) - SECTION_LISTED),
        )
    )

    start, end = _local_day_bounds(store, day - timedelta(days=1))
    finished = store.db.fetchall(
        "SELECT id, kind, summary FROM runs WHERE status = 'done' AND finished_at >= ? AND finished_at < ? "
        "ORDER BY finished_at",
        (start, end),
    )
    sections.append(
        (
            "Finished yesterday",
            [
                f"• {(r['summary'] or r['kind']).splitlines()[0][:100]} (run {r['id']})"
                for r in finished[:SECTION_LISTED]
            ]
            + _more(len(finished) - SECTION_LISTED, "coo ledger lists every run"),
        )
    )

    bulk = [a for a in store.artifacts.created_between("email_in", start, end) if a.meta.get("automated")]
    filed = [f"• {_sender(a.meta)}: “{a.title[:80]}” ({a.meta['automated']})" for a in bulk[:BULK_LISTED]]
    if len(bulk) > BULK_LISTED:
        filed.append(f"• … and {len(bulk) - BULK_LISTED} more")
    sections.append(
        ("Mail filed without a reply (bulk or automated) — say “this one matters” in its thread to take one up", filed)
    )

    breaches = [a for a in approvals if (now - a.asked_at).total_seconds() > APPROVAL_SLA_HOURS * 3600]
    late_work = [d for d in deliverables if d.due_date and d.due_date < day]
    sla = [
        f"• approval #{a.id} has waited {int((now - a.asked_at).total_seconds() // 3600)} h "
        f"(SLA {APPROVAL_SLA_HOURS} h)"
        for a in breaches
    ]
    sla += [f"• {d.title} ({names.get(d.client_id, '?')}) is past its due date" for d in late_work]
    # Work that took longer than its category's soft SLA (agents.slas), flagged in its thread too.
    sla += [f"• {describe(store, b)}" for b in flag_breaches(store, since=start)]
    sections.append(("SLA breaches", sla[:SECTION_LISTED] + _more(len(sla) - SECTION_LISTED)))

    lines = [f"Good morning — your digest for {day.strftime('%A %d %B %Y')}."]
    for title, items in sections:
        if items:
            lines.append(f"{title}:")
            lines.extend(items)
    wrong = books_problems(store, day)
    if wrong:
        lines.append(f"Books: {wrong} problem(s) — run coo books check")
    if day.weekday() == AUDIT_WEEKDAY:
        # The weekly recall audit: its one-line summary, and a ledger record of it per week.
        report = audit(store)
        week = day.isocalendar()
        store.ledger.append(
            f"audit-week-{week.year}-{week.week:02d}",
            "audit",
            "memory_audit",
            # sketched: memories new or changed since the last audit (only those were shingled)
            {"summary": report.summary(), **report.counts(), "sketched": report.sketched},
            actor="digest",
        )
        lines.append(report.summary())
    month_start = _local_day_bounds(store, day.replace(day=1))[0]
    yesterday_cost = _cost_between(store, start, end)
    month_cost = _cost_between(store, month_start, _local_day_bounds(store, day)[1])
    quiet = len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("Memory audit: all"))
    if quiet:
        lines = [
            f"Good morning — nothing needs you today ({day.isoformat()}). No approvals waiting, "
            "nothing overdue or due this week."
        ]
    if month_cost:
        lines.append(f"Model cost: yesterday ${yesterday_cost:.4f}, this month ${month_cost:.4f}.")
    review = quarterly_review_with_offers(store, day)
    offers: list[ReviewOffer] = []
    if review:
        lines.append(review[0])
        offers = review[1]
    return Digest(day=day, text="\n".join(lines), approval_ids=[a.id for a in approvals], quiet=quiet, offers=offers)
