"""Steps for an invoice after it was sent: void it with a credit note, send it again, remind.

Each prepares one e-mail that waits at the approval gate. Nothing changes the books before
the operator approves: a void is booked with its credit note's receipt (graphs/actions.py,
store/credit_notes.py), and a rejected one changes nothing but cancelling the draft note.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from agents.invoicer import invoice_details, render_invoice
from agents.letters import greeting_for
from graphs.approvals import Action, Card, Draft, is_address
from graphs.autonomy import SCHEDULER_USER
from graphs.deps import Deps
from graphs.intents import PaymentReminder, ResendInvoice, VoidInvoice, intent_from_dict
from graphs.step_kit import StepFn, StepResult, plural, resolve_client, today_for, unknown_client
from store.billing import OPEN_STATUSES
from store.errors import NotFound
from store.models import Client, Invoice, format_money, from_cents


def _invoice(deps: Deps, number: str | None) -> tuple[Invoice | None, StepResult | None]:
    invoice = deps.store.billing.get(number) if number else None
    if invoice is None:
        return None, StepResult(
            notes=[f'I can\'t find invoice {number}. Ask "who owes me money?" for the list.'], stop=True
        )
    return invoice, None


def _sent_to(deps: Deps, invoice: Invoice) -> str | None:
    """The address the invoice was last sent to (its approval's draft)."""
    if not invoice.run_id:
        return None
    approval = deps.store.runs.approval_for(invoice.run_id, "send_invoice")
    return str(approval.draft.get("to")) if approval is not None and approval.draft.get("to") else None


def _threading(deps: Deps, invoice: Invoice) -> tuple[str | None, str | None]:
    message_id = deps.store.credit_notes.invoice_email_id(invoice)
    return message_id, message_id


# -- void ---------------------------------------------------------------------------------------


def prepare_void(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, VoidInvoice)
    invoice, refused = _invoice(deps, intent.invoice_number)
    if invoice is None:
        return refused or StepResult(stop=True)
    client = deps.store.clients.get(invoice.client_id)
    if invoice.status == "void":
        return StepResult(notes=[f"Invoice {invoice.number} is already void; nothing to do."], stop=True)
    if invoice.status == "draft":
        approval = deps.store.runs.approval_for(invoice.run_id or "", "send_invoice")
        waiting = f" /reject {approval.id} voids it." if approval is not None and approval.status == "pending" else ""
        return StepResult(
            notes=[
                f"Invoice {invoice.number} is a draft that was never sent: nothing to cancel with the client.{waiting}"
            ],
            stop=True,
            client_id=client.id,
        )
    pending = deps.store.credit_notes.pending_for(invoice.id)
    if pending is not None and pending.run_id != state["run_id"]:
        return StepResult(
            notes=[f"Credit note {pending.number} for {invoice.number} is already waiting for your approval."],
            stop=True,
            client_id=client.id,
        )
    with deps.store.db.transaction() as tx:
        note = deps.store.credit_notes.draft(tx, invoice, state["run_id"])
    unpaid = from_cents(invoice.total_cents - invoice.paid_cents)
    paid = from_cents(invoice.paid_cents)
    money = lambda amount: format_money(amount, invoice.currency)  # noqa: E731
    to = _sent_to(deps, invoice) or client.contact_email
    details = [
        f"Invoice {invoice.number} ({client.name}): {money(invoice.total)}, {invoice.status.replace('_', ' ')},"
        f" issued {invoice.issue_date.isoformat()}, due {invoice.due_date.isoformat()}",
        f"Credit note {note.number}: −{money(unpaid)} (the unpaid amount) — {invoice.number} is then no longer owed",
    ]
    if paid:
        details.append(
            f"Already paid on it: {money(paid)} — not refunded, not dropped: it becomes {client.name}'s credit,"
            f" which goes towards their next {invoice.currency} invoice."
        )
    details.append("Approve: the invoice is void and the credit note goes to the client. Reject: nothing changes.")
    greeting = greeting_for(client.contact_name, client.contact_email, client.name).replace(" team,", ",")
    body_lines = [
        greeting,
        "",
        f"Please disregard invoice {invoice.number} of {invoice.issue_date.isoformat()}"
        f" ({money(invoice.total)}): it is cancelled by credit note {note.number} below.",
        "",
        f"Credit note {note.number}",
        f"Cancels: invoice {invoice.number}",
        f"Amount credited: {money(unpaid)}",
    ]
    if paid:
        body_lines.append(
            f"The {money(paid)} you already paid on {invoice.number} stays on your account as a credit"
            " towards your next invoice."
        )
    body_lines += [
        "Nothing further is due on this invoice.",
        "",
        "Sorry for the confusion, and thank you!",
        deps.sender_name,
    ]
    in_reply_to, references = _threading(deps, invoice)
    card = Card(
        title=f"Void invoice #{invoice.number} with credit note #{note.number} to {to or client.name}",
        question=f"Void {invoice.number} and send credit note {note.number} to {to}?"
        if to
        else "Void it and send the credit note? (no e-mail address on file)",
        number=note.number,
        client_id=client.id,
        client=client.name,
        details=details,
    )
    draft = Draft(
        to=to,
        subject=f"Credit note {note.number} for invoice {invoice.number} from {deps.sender_name}",
        body="\n".join(body_lines),
        in_reply_to=in_reply_to,
        references=references,
    )
    notes = [f"To void {invoice.number} ({money(invoice.total)}, {client.name}) I'll send credit note {note.number}."]
    return StepResult(
        notes=notes,
        action=Action(step="send_credit_note", action="send_credit_note", card=card, draft=draft),
        client_id=client.id,
        facts={"invoice": invoice.number, "credit_note": note.number},
    )


def record_void(deps: Deps, state: dict[str, Any]) -> StepResult:
    """After the credit note went out: say what it did to the books, and record it."""
    note = next(
        (n for n in deps.store.credit_notes.for_invoice_run(state["run_id"]) if n.status == "issued"),
        None,
    )
    if note is None:
        return StepResult()
    invoice = deps.store.billing.by_id(note.invoice_id)
    client = deps.store.clients.get(note.client_id)
    said = (
        f"{invoice.number} is void: {format_money(note.amount, note.currency)} is no longer owed"
        f" (credit note {note.number})."
    )
    if note.credited_cents:
        said += (
            f" The {format_money(note.credited, note.currency)} already paid on it is now {client.name}'s credit"
            " for their next invoice."
        )
    deps.store.ledger.append(
        state["run_id"],
        "record_void",
        "invoice_voided",
        {
            "invoice": invoice.number,
            "credit_note": note.number,
            "amount": str(note.amount),
            "credited": str(note.credited),
            "currency": note.currency,
        },
        dedupe=f"void:{invoice.number}",
    )
    return StepResult(notes=[said], client_id=client.id)


# -- resend -------------------------------------------------------------------------------------


def prepare_resend(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, ResendInvoice)
    invoice, refused = _invoice(deps, intent.invoice_number)
    if invoice is None:
        return refused or StepResult(stop=True)
    client = deps.store.clients.get(invoice.client_id)
    if invoice.status == "void":
        return StepResult(notes=[f"Invoice {invoice.number} is void; I won't send it again."], stop=True)
    if invoice.status == "draft":
        approval = deps.store.runs.approval_for(invoice.run_id or "", "send_invoice")
        hint = f" /approve {approval.id} sends it." if approval is not None and approval.status == "pending" else ""
        return StepResult(notes=[f"Invoice {invoice.number} was never sent: it is a draft.{hint}"], stop=True)
    before = _sent_to(deps, invoice)
    to = intent.to or before or client.contact_email
    credit = deps.store.credits.for_invoice(invoice.id)
    subject, body = render_invoice(invoice, client, deps.sender_name, credit)
    if invoice.paid_cents and (credit is None or credit.amount_cents != invoice.paid_cents):
        body = body.replace(
            f"Issued: {invoice.issue_date.isoformat()}",
            f"Received so far: {format_money(from_cents(invoice.paid_cents), invoice.currency)}"
            f" — amount due: {format_money(invoice.balance, invoice.currency)}\n"
            f"Issued: {invoice.issue_date.isoformat()}",
        )
    in_reply_to, references = _threading(deps, invoice)
    details = invoice_details(invoice, credit)
    details.append(
        f"Sent before to {before or 'the client'}; now {invoice.status.replace('_', ' ')},"
        f" {format_money(invoice.balance, invoice.currency)} owed. The same invoice, same number."
    )
    card = Card(
        title=f"Send invoice #{invoice.number} again to {to or client.name}",
        question=f"Send it again to {to}?" if to else "Send it again? (no e-mail address on file)",
        number=invoice.number,
        client_id=client.id,
        client=client.name,
        details=details,
    )
    draft = Draft(to=to, subject=subject, body=body, in_reply_to=in_reply_to, references=references)
    return StepResult(
        notes=[f"Invoice {invoice.number} for {client.name} once more, as it was sent."],
        action=Action(step="resend_invoice", action="resend_invoice", card=card, draft=draft),
        client_id=client.id,
        facts={"invoice": invoice.number, "to": to},
    )


# -- payment reminders --------------------------------------------------------------------------

# The tone of each reminder: 0 when the operator asks, then the schedule's stages, firmer each time.
_OPENINGS = {
    0: "A quick, friendly reminder that the following is still open:",
    1: "I hope all is well. Just a friendly reminder that the following is now past due:",
    2: "Following up on my earlier reminder: the following is still unpaid and now well past due:",
    3: "This is a final reminder: the following is long overdue and still unpaid:",
}
_CLOSINGS = {
    0: "If you've already sent it, thank you and please ignore this note.",
    1: "If payment is already on its way, thank you and please disregard this.",
    2: "Could you let me know when I can expect payment, or if anything is holding it up?",
    3: "Please arrange payment within 7 days, or reply to let me know what is holding it up, so we can settle it.",
}


def _overdue_days(invoice: Invoice, today: date) -> int:
    return (today - invoice.due_date).days


def _line(invoice: Invoice, today: date) -> str:
    late = _overdue_days(invoice, today)
    when = f"{plural(late, 'day')} overdue" if late > 0 else f"due {invoice.due_date.isoformat()}"
    return (
        f"- {invoice.number} of {invoice.issue_date.isoformat()}: {format_money(invoice.balance, invoice.currency)}"
        f" due {invoice.due_date.isoformat()} ({when})"
    )


def reminder_draft(deps: Deps, client: Client, invoices: list[Invoice], stage: int, to: str | None) -> Draft:
    """The reminder e-mail: the open invoices, the stage's tone, threaded with the invoice's e-mail."""
    today = today_for(deps)
    greeting = greeting_for(client.contact_name, client.contact_email, client.name).replace(" team,", ",")
    tone = min(stage, 3)
    body = "\n".join(
        [
            greeting,
            "",
            _OPENINGS[tone],
            "",
            *(_line(i, today) for i in invoices),
            "",
            _CLOSINGS[tone],
            "",
            "Thank you!" if tone < 3 else "Regards,",
            deps.sender_name,
        ]
    )
    first = invoices[0]
    in_reply_to = deps.store.credit_notes.invoice_email_id(first) if len(invoices) == 1 else None
    if in_reply_to:
        subject = f"Re: Invoice {first.number} from {deps.sender_name}"
    else:
        subject = f"Payment reminder: {', '.join(i.number for i in invoices)}"
    return Draft(to=to, subject=subject, body=body, in_reply_to=in_reply_to, references=in_reply_to)


def _open(invoice: Invoice) -> bool:
    return invoice.status in OPEN_STATUSES


def _scheduled_stage(deps: Deps, run_id: str, stage: int) -> int:
    """The schedule's stage, believed only from the scheduler (a message or a model never sets it)."""
    try:
        accepted = deps.store.conversations.intent_for_run(run_id)
    except NotFound:
        return 0
    return stage if accepted.user_id == SCHEDULER_USER else 0


def prepare_reminder(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, PaymentReminder)
    today = today_for(deps)
    notes: list[str] = []
    if intent.invoice_number:
        invoice, refused = _invoice(deps, intent.invoice_number)
        if invoice is None:
            return refused or StepResult(stop=True)
        if not _open(invoice):
            why = {"paid": "is paid", "void": "is void", "draft": "was never sent (it is a draft)"}
            return StepResult(
                notes=[f"{invoice.number} {why.get(invoice.status, 'is not owed')}: no reminder needed."],
                stop=True,
                client_id=invoice.client_id,
            )
        client = deps.store.clients.get(invoice.client_id)
        invoices = [invoice]
    elif intent.client_name:
        found, candidates = resolve_client(deps, intent.client_name, None)
        if found is None:
            return unknown_client(intent.client_name, candidates)
        client = found
        invoices = deps.store.billing.open_invoices(client.id)
        if not invoices:
            return StepResult(notes=[f"{client.name} owes nothing: no open invoices."], stop=True, client_id=client.id)
        overdue = [i for i in invoices if _overdue_days(i, today) > 0]
        invoices = overdue or invoices
    else:
        overdue = [i for i in deps.store.billing.open_invoices() if _overdue_days(i, today) > 0]
        if not overdue:
            return StepResult(notes=["Nothing is overdue: no reminders to send."], stop=True)
        overdue.sort(key=lambda i: (i.due_date, i.seq))
        client = deps.store.clients.get(overdue[0].client_id)
        invoices = [i for i in overdue if i.client_id == client.id]
        others = sorted({deps.store.clients.get(i.client_id).name for i in overdue} - {client.name})
        notes.append(f"{plural(len(overdue), 'invoice')} overdue. First {client.name}, the longest overdue.")
        if others:
            notes.append("Also overdue: " + ", ".join(f'{name} (say "nudge {name}")' for name in others) + ".")
    sent_to = _sent_to(deps, invoices[0])
    to = sent_to if is_address(sent_to) else client.contact_email
    stage = _scheduled_stage(deps, state["run_id"], intent.stage)
    draft = reminder_draft(deps, client, invoices, stage, to)
    total = ", ".join(f"{i.number} {format_money(i.balance, i.currency)}" for i in invoices)
    which = f"reminder {stage} (schedule)" if stage else "reminder"
    late = max(_overdue_days(i, today) for i in invoices)
    card = Card(
        title=f"Send payment {which} for {', '.join(i.number for i in invoices)} to {to or client.name}",
        question=f"Send the reminder to {to}?" if to else "Send the reminder? (no e-mail address on file)",
        number=invoices[0].number,
        client_id=client.id,
        client=client.name,
        details=[
            f"Open: {total}" + (f" — {plural(late, 'day')} overdue" if late > 0 else " — not due yet"),
            "Threaded as a reply to the invoice e-mail." if draft.in_reply_to else "A new e-mail thread.",
        ],
    )
    notes.append(f"A payment reminder to {client.name} about {', '.join(i.number for i in invoices)}.")
    return StepResult(
        notes=notes,
        action=Action(step="send_reminder", action="send_reminder", card=card, draft=draft),
        client_id=client.id,
        facts={"invoices": [i.number for i in invoices], "stage": stage},
    )


INVOICE_AFTER_STEPS: dict[str, StepFn] = {
    "prepare_void": prepare_void,
    "record_void": record_void,
    "prepare_resend": prepare_resend,
    "prepare_reminder": prepare_reminder,
}
