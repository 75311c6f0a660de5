"""Status reporter: answers "what's overdue?" and friends from the store, read-only."""

from __future__ import annotations

from datetime import date, timedelta

from store.facade import Store
from store.models import Approval, Client, Deliverable, Invoice, Task, format_money


def _held(store: Store, draft: Invoice) -> str:
    """What of the client's credit a draft holds (it is used when the draft is sent)."""
    credit = store.credits.for_invoice(draft.id)
    if credit is None or credit.status != "held":
        return ""
    due = format_money(draft.total - credit.amount, draft.currency)
    return f" (uses {format_money(credit.amount, credit.currency)} of credit once sent: {due} to pay)"


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def _invoice_line(inv: Invoice, names: dict[int, str], today: date) -> str:
    late = (today - inv.due_date).days
    when = f"{_days(late)} overdue" if late > 0 else ("due today" if late == 0 else f"due {inv.due_date.isoformat()}")
    paid = f", {format_money(inv.balance, inv.currency)} left" if inv.paid_cents else ""
    return f"• {inv.number} {names.get(inv.client_id, '?')}: {format_money(inv.total, inv.currency)}{paid} — {when}"


def _deliverable_line(d: Deliverable, names: dict[int, str], today: date) -> str:
    if d.due_date is None:
        return f"• {d.title} ({names.get(d.client_id, '?')}) — no due date"
    late = (today - d.due_date).days
    when = f"{_days(late)} late" if late > 0 else ("due today" if late == 0 else f"due {d.due_date.isoformat()}")
    return f"• {d.title} ({names.get(d.client_id, '?')}) — {when}"


def _task_line(t: Task, today: date) -> str:
    if t.due_date is None:
        return f"• {t.title}"
    late = (today - t.due_date).days
    when = f"{_days(late)} late" if late > 0 else ("due today" if late == 0 else f"due {t.due_date.isoformat()}")
    return f"• {t.title} — {when}"


def _approval_line(a: Approval) -> str:
    return f"• #{a.id} {a.card.get('title', a.action)} — /approve {a.id} or /reject {a.id}"


# Invoice lines a status answer shows: the most urgent first, then "and N more" and the phrase
# that lists them all. An answer costs the same with 50 open invoices as with 5,000.
SHOWN = 10


def _invoice_section(
    store: Store, names: dict[int, str], today: date, cid: int | None, scope: str, *, overdue: bool
) -> tuple[str, list[str]]:
    """Counts and totals per currency summed in SQL, then the ``SHOWN`` oldest-due invoices."""
    due_before = today if overdue else None
    count, owed = store.billing.open_totals(cid, due_before=due_before)
    if not count:
        return "", []
    shown = store.billing.open_invoices(cid, due_before=due_before, limit=SHOWN)
    lines = [_invoice_line(i, names, today) for i in shown]
    if overdue:
        title = f"Overdue invoices{scope} ({count}, {owed} outstanding)"
        phrase = "show overdue invoices"
    else:
        late, _ = store.billing.open_totals(cid, due_before=today)
        title = f"Open invoices{scope} ({count}, {owed} outstanding" + (f", {late} overdue)" if late else ")")
        phrase = "show all open invoices"
    if count > len(shown):
        title += ", most overdue first" if overdue else ", most urgent first"
        lines.append(f"…and {count - len(shown)} more: say “{phrase}{scope}” for the full list.")
    return title, lines


def _capped(lines: list[str], phrase: str) -> list[str]:
    """The first ``SHOWN`` lines (the most urgent: the lists come oldest due first), then how
    many more and the phrase that lists them all."""
    if len(lines) <= SHOWN:
        return lines
    return [*lines[:SHOWN], f"…and {len(lines) - SHOWN} more: say “{phrase}” for the full list."]


def report(store: Store, topic: str, today: date, client: Client | None = None) -> str:
    """The answer to a status question, built from the store as it is now."""
    names = {c.id: c.name for c in store.clients.all()}
    cid = client.id if client else None
    deliverables = store.work.open_deliverables(cid)
    late_deliverables = [d for d in deliverables if d.due_date and d.due_date < today]
    approvals = [a for a in store.runs.pending_approvals() if cid is None or a.card.get("client_id") == cid]
    tasks = [t for t in store.work.open_tasks() if cid is None or t.client_id == cid]
    late_tasks = [t for t in tasks if t.due_date and t.due_date < today]
    scope = f" for {client.name}" if client else ""
    sections: list[tuple[str, list[str]]] = []

    if topic == "overdue":
        sections = [
            _invoice_section(store, names, today, cid, scope, overdue=True),
            (
                "Deliverables past due",
                _capped([_deliverable_line(d, names, today) for d in late_deliverables], "what's due this week?"),
            ),
            ("Tasks past due", _capped([_task_line(t, today) for t in late_tasks], "show my tasks")),
            ("Waiting for your approval", [_approval_line(a) for a in approvals]),
        ]
        if not any(lines for _, lines in sections):
            return f"Nothing is overdue{scope}, and nothing waits for your approval."
    elif topic == "invoices":
        credits = store.billing.credits(cid)
        drafts = [i for i in store.billing.drafts() if cid is None or i.client_id == cid]
        open_title, open_lines = _invoice_section(store, names, today, cid, scope, overdue=False)
        sections = [
            (open_title, open_lines),
            (
                "Credits (paid beyond what was invoiced; the next invoice can use them)",
                [f"• {names.get(c, '?')}: {format_money(amount, cur)}" for c, cur, amount in credits],
            ),
            (
                "Drafts waiting to be sent",
                [
                    f"• {i.number} {names.get(i.client_id, '?')}: {format_money(i.total, i.currency)}{_held(store, i)}"
                    for i in drafts
                ],
            ),
        ]
        if not open_lines and not drafts and not credits:
            return f"No open invoices{scope}: nobody owes you money right now."
    elif topic == "deliverables":
        horizon = today + timedelta(days=7)
        soon = [d for d in deliverables if d.due_date is None or d.due_date <= horizon]
        later = [d for d in deliverables if d not in soon]
        tasks_soon = [t for t in tasks if t.due_date and t.due_date <= horizon]
        sections = [
            ("Due in the next 7 days (or late)", [_deliverable_line(d, names, today) for d in soon]),
            ("Later", [_deliverable_line(d, names, today) for d in later]),
            ("Tasks due in the next 7 days (or late)", [_task_line(t, today) for t in tasks_soon]),
        ]
        if not deliverables and not tasks_soon:
            return f"No open deliverables{scope}."
    elif topic == "approvals":
        if not approvals:
            return "Nothing is waiting for your approval."
        sections = [("Waiting for your approval", [_approval_line(a) for a in approvals])]
    elif topic == "tasks":
        tasks = store.work.open_tasks()
        if not tasks:
            return "Your task list is empty."
        sections = [("Open tasks", [_task_line(t, today) for t in tasks])]
    elif topic == "clients":
        clients = [client] if client else store.clients.all()
        if not clients:
            return 'No clients yet. Tell me about one, e.g. "Acme signed the retainer: $4k a month".'
        lines = []
        for c in clients:
            retainer = store.work.latest_retainer(c.id)
            terms = (
                f" — retainer {format_money(retainer.monthly_amount, retainer.currency)}/month"
                f" ({retainer.state_on(today)})"
                if retainer
                else ""
            )
            contact = f" <{c.contact_email}>" if c.contact_email else ""
            lines.append(f"• {c.name}{contact}{terms}")
        sections = [("Clients", lines)]
    else:  # summary
        count, owed = store.billing.open_totals(cid)
        late, _ = store.billing.open_totals(cid, due_before=today)
        return "\n".join(
            [
                f"Status{scope} on {today.isoformat()}:",
                f"• {count} open invoice(s), {owed} outstanding, {late} overdue",
                f"• {len(deliverables)} open deliverable(s), {len(late_deliverables)} past due",
                f"• {len(approvals)} approval(s) waiting",
                f"• {len(store.work.open_tasks())} open task(s)",
            ]
        )
    out = []
    for title, lines in sections:
        if lines:
            out.append(f"{title}:")
            out.extend(lines)
    return "\n".join(out)
