"""The steps runs are made of. Each does one piece of work and is safe to replay: records it
creates are keyed by the run, so a step re-executed after a crash finds what it made before.

A step returns notes for the operator and, when the next thing would leave the machine, an
``Action`` that the supervisor holds at the approval gate.
"""

from __future__ import annotations

from typing import Any

from agents.context import ClientContext, load_client_context
from agents.invoice_document import document_line, line_rate, profile_questions
from agents.invoicer import compare_with_previous, due_date_for, invoice_details, render_invoice
from agents.letters import greeting_for
from agents.proposal_drafter import ProposalRequest, draft_proposal
from agents.status_reporter import report
from graphs.approvals import Action, Card, Draft, is_address
from graphs.deps import Deps
from graphs.intents import (
    AddDeliverable,
    AddTask,
    CreateInvoice,
    DraftProposal,
    NewClient,
    RecordPayment,
    RememberFact,
    RetainerSignup,
    SendEmail,
    StatusQuery,
    intent_from_dict,
)
from graphs.payment_match import Uncertain, match_payment
from graphs.repeats import repeated, same_open_work
from graphs.step_kit import StepFn, StepResult, plural, resolve_client, today_for, unknown_client
from graphs.steps_retainer import RetainerTerms, terms_change
from graphs.undo_creations import record_created
from store.billing import NewLine
from store.db import Tx
from store.invoice_numbers import is_inv_number
from store.invoice_profile import ClientBilling
from store.models import Client, Invoice, format_money
from store.money import Money

# -- retainers, clients, proposals -----------------------------------------------------------


def record_retainer(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, RetainerSignup) and intent.client_name and intent.monthly_amount is not None
    run_id = state["run_id"]
    known = deps.store.clients.find(intent.client_name, intent.contact_email)
    current = deps.store.work.active_retainer(known[0].id) if len(known) == 1 else None
    if current is not None and (current.run_id == run_id or current.ended_by(today_for(deps))):
        current = None  # this run's own (a replayed step), or one that has ended: nothing to replace
    asked_for = RetainerTerms.asked(intent, current)
    if current is not None:
        # New terms for a running retainer are shown old → new and asked about first.
        asked = terms_change(deps, state, current, asked_for)
        if asked is not None:
            return asked
    with deps.store.db.transaction() as tx:
        client, created = deps.store.clients.upsert(
            tx, intent.client_name, intent.contact_name, intent.contact_email, intent.currency
        )
        retainer = deps.store.work.add_retainer(
            tx,
            client.id,
            asked_for.monthly_amount,
            asked_for.currency,
            asked_for.revision_rounds,
            asked_for.billing_day,
            asked_for.scope,
            intent.start_date,
            run_id,
        )
        deps.store.clients.set_constraints(
            tx,
            client.id,
            f"run {run_id}",
            billing_day=asked_for.billing_day,
            revision_limit=asked_for.revision_rounds if client.revision_limit is None else None,
        )
    if current is not None and current.client_id == client.id:
        keep = {"monthly_cents", "currency", "billing_day", "revision_rounds", "scope"}
        deps.store.ledger.append(
            run_id,
            "record_retainer",
            "retainer_terms_changed",
            {
                "client_id": client.id,
                "replaced_retainer_id": current.id,
                "retainer_id": retainer.id,
                "before": current.model_dump(mode="json", include=keep),
                "after": retainer.model_dump(mode="json", include=keep),
            },
        )
    contact = f" ({client.contact_email})" if client.contact_email else ""
    terms = [f"{format_money(retainer.monthly_amount, retainer.currency)}/month"]
    if retainer.revision_rounds is not None:
        terms.append(plural(retainer.revision_rounds, "revision round"))
    if retainer.billing_day:
        terms.append(f"billed on day {retainer.billing_day}")
    what = "New retainer" if created else "Retainer recorded"
    replaced = ""
    if current is not None and current.run_id != run_id and current.client_id == client.id:
        # Never silently: the operator sees which terms these replace (and a rejected proposal
        # brings them back).
        replaced = (
            f" It replaces the earlier retainer ({format_money(current.monthly_amount, current.currency)}/month"
            f"{', billed on day ' + str(current.billing_day) if current.billing_day else ''}), as you confirmed;"
            " rejecting the proposal below brings the earlier terms back."
        )
    return StepResult(
        notes=[f"{what} for {client.name}{contact}: {', '.join(terms)}.{replaced}"],
        client_id=client.id,
        facts={"retainer_id": retainer.id},
    )


def record_client(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, NewClient) and intent.client_name
    # The run's context found no client by this name and e-mail a moment ago: no second look-up.
    loaded = state.get("loaded") or {}
    looked_up = state["intent"].get("contact_email") or state["intent"].get("to")
    known_new = loaded.get("candidates") == 0 and looked_up == intent.contact_email
    with deps.store.db.transaction() as tx:
        client, created = deps.store.clients.upsert(
            tx, intent.client_name, intent.contact_name, intent.contact_email, known_new=known_new
        )
        if created:  # undoable while nothing refers to the client
            deps.store.changes.record(
                tx,
                state["run_id"],
                "record_client",
                "client_created",
                f"added the client {client.name}",
                table="clients",
                row_id=client.id,
                before=None,
                after={"name": client.name},
                extra={"undo_note": f"{client.name} is no longer a client."},
            )
    contact = f" ({client.contact_email})" if client.contact_email else " (no e-mail yet)"
    if created:
        return StepResult(notes=[f"Added client {client.name}{contact}."], client_id=client.id, client_name=client.name)
    return StepResult(
        notes=[f"{client.name} is already a client{contact}; details updated."],
        client_id=client.id,
        client_name=client.name,
    )


def _proposal_action(
    deps: Deps, ctx: ClientContext, req: ProposalRequest, run_id: str, to: str | None
) -> tuple[Action, str]:
    draft = draft_proposal(ctx, req, deps.runner, run_id)
    with deps.store.db.transaction() as tx:
        artifact = deps.store.artifacts.create(
            tx, "proposal", draft.subject, draft.body, run_id, ctx.client.id, {"status": "draft"}, dedupe="proposal"
        )
        record_created(
            deps,
            tx,
            run_id,
            "proposal",
            f"the proposal #{artifact.number} for {ctx.client.name}",
            "artifacts",
            artifact.id,
            number=artifact.number,
        )
    details = []
    if req.amount is not None:
        details.append(f"Fee: {format_money(req.amount, req.currency)}{'/month' if req.monthly else ''}")
    question = f"Send it to {to}?" if to else "Send it? (no e-mail address on file)"
    card = Card(
        title=f"Send proposal #{artifact.number} to {to or ctx.client.name}",
        question=question,
        number=artifact.number,
        client_id=ctx.client.id,
        client=ctx.client.name,
        details=details,
        constraints=ctx.constraints(),
        artifact_id=artifact.id,
    )
    action = Action(
        step="send_proposal",
        action="send_proposal",
        card=card,
        draft=Draft(to=to, subject=artifact.title, body=artifact.body),
    )
    return action, f"I drafted the proposal (proposal #{artifact.number})."


def prepare_proposal(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    run_id = state["run_id"]
    if isinstance(intent, RetainerSignup):
        client_id = state["client_id"]
        ctx = load_client_context(deps.store, client_id)
        # The terms recorded (what the signup left unsaid carries over from the terms it replaced).
        signed = deps.store.work.active_retainer(client_id)
        mine = signed is not None and signed.run_id == run_id
        req = ProposalRequest(
            scope=signed.scope if signed is not None and mine else intent.scope,
            amount=intent.monthly_amount,
            currency=intent.currency,
            monthly=True,
            billing_day=signed.billing_day if signed is not None and mine else intent.billing_day,
            revision_rounds=signed.revision_rounds if signed is not None and mine else intent.revision_rounds,
            sender_name=deps.sender_name,
        )
        to = ctx.client.contact_email
    else:
        assert isinstance(intent, DraftProposal)
        client, candidates = resolve_client(deps, intent.client_name, intent.contact_email)
        if client is None:
            return unknown_client(intent.client_name, candidates)
        ctx = load_client_context(deps.store, client.id)
        req = ProposalRequest(
            scope=intent.scope, amount=intent.amount, currency=intent.currency, sender_name=deps.sender_name
        )
        to = intent.contact_email or client.contact_email
    action, note = _proposal_action(deps, ctx, req, run_id, to)
    return StepResult(notes=[note], action=action, client_id=ctx.client.id)


# -- billing ---------------------------------------------------------------------------------


def prepare_invoice(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, CreateInvoice) and intent.client_name and intent.items
    run_id = state["run_id"]
    notes = []
    client, candidates = resolve_client(deps, intent.client_name, intent.contact_email)
    if client is None and candidates:
        return unknown_client(intent.client_name, candidates)
    issued = intent.issue_date or today_for(deps)
    seller = deps.store.invoice_profiles.seller()
    # Unsaid terms: the seller's default payment terms, else coo's.
    terms = intent.due_in_days if intent.due_in_days is not None else seller.terms_days
    due = due_date_for(issued, intent.due_date, terms)
    if due < issued:
        return StepResult(
            notes=[f"The due date {due.isoformat()} is in the past; say when it should be due."], stop=True
        )
    billing = deps.store.invoice_profiles.billing(client.id) if client is not None else ClientBilling()
    lines = [
        NewLine(
            description=i.description,
            quantity=i.quantity,
            unit=i.unit,
            unit_price=i.unit_price,
            tax_rate=line_rate(i.tax_rate, billing, seller),
        )
        for i in intent.items
    ]
    currency = intent.currency
    if currency is None and client is not None:
        # Unsaid: the client's own currency — its billing currency, else the one the operator set
        # ("Globex is billed in EUR from now on"; a fact that still matches the client's row: an
        # undone change does not), else its retainer's, else its last invoice's, else the one on file.
        said = any(f.field == "currency" and f.value == client.currency for f in deps.store.clients.facts(client.id))
        retainer = deps.store.work.active_retainer(client.id)
        last = deps.store.billing.previous_for_client(client.id, before_seq=2**62)
        currency = billing.currency or (
            client.currency if said else retainer.currency if retainer else last.currency if last else client.currency
        )
        if currency != "USD":
            notes.append(f"In {currency}, {client.name}'s currency (you didn't say one).")
    currency = currency or "USD"
    with deps.store.db.transaction() as tx:
        if client is None:
            client, _ = deps.store.clients.upsert(tx, intent.client_name, None, intent.contact_email, currency)
            notes.append(f"{client.name} is a new client.")
        invoice = deps.store.billing.create_invoice(
            tx, client.id, lines, currency, issued, due, run_id, billing.tax_treatment or "standard"
        )
        record_created(
            deps,
            tx,
            run_id,
            "invoice",
            f"invoice {invoice.number} for {client.name} ({format_money(invoice.total, invoice.currency)})",
            "invoices",
            invoice.id,
            number=invoice.number,
        )
        # The client's credit in this currency goes towards it; it is used only once this is sent.
        credit = deps.store.billing.hold_credit(tx, invoice)
    ctx = load_client_context(deps.store, client.id)
    previous = deps.store.billing.previous_for_client(client.id, invoice.seq)
    subject, body = render_invoice(invoice, client, deps.sender_name, credit)
    to = intent.contact_email or billing.billing_email or client.contact_email
    notes.append(
        f"Invoice #{invoice.number} for {client.name}: {format_money(invoice.total, invoice.currency)},"
        f" due {invoice.due_date.isoformat()}."
    )
    notes.extend(profile_questions(seller))
    if credit is not None:
        due_now = format_money(invoice.total - credit.amount, invoice.currency)
        notes.append(
            f"{client.name}'s credit of {format_money(credit.amount, credit.currency)} ({credit.source}) goes"
            f" towards it once you approve: {due_now} to pay. To keep the credit for later, edit it with"
            " credit=no."
        )
    others = [(cur, amount) for _, cur, amount in deps.store.billing.credits(client.id) if cur != invoice.currency]
    card = Card(
        title=f"Send invoice #{invoice.number} to {to or client.name}",
        question=f"Send it to {to}?" if to else "Send it? (no e-mail address on file)",
        number=invoice.number,
        client_id=client.id,
        client=client.name,
        details=[
            *invoice_details(invoice, credit, others),
            document_line(seller, billing, client, deps.sender_name),
        ],
        comparison=compare_with_previous(invoice, previous),
        constraints=ctx.constraints(),
        invoice_id=invoice.id,
        editable=["to", "subject", "body", "due", "rate", "qty"],
    )
    action = Action(
        step="send_invoice", action="send_invoice", card=card, draft=Draft(to=to, subject=subject, body=body)
    )
    facts: dict[str, Any] = {"invoice": invoice.number}
    if credit is not None:
        facts["credit_held"] = {"amount": str(credit.amount), "currency": credit.currency, "source": credit.source}
    return StepResult(notes=notes, action=action, client_id=client.id, facts=facts)


def record_payment(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, RecordPayment) and intent.amount is not None
    invoice = deps.store.billing.get(intent.invoice_number) if intent.invoice_number else None
    if intent.invoice_number and invoice is None and intent.client_name and not is_inv_number(intent.invoice_number):
        # "Acme paid $1,000 for PO-4471": a code shaped like a number in the seller's format that
        # names no invoice is the client's own reference, as it was before formats existed.
        intent = intent.model_copy(update={"invoice_number": None})
    assert intent.amount is not None
    if intent.invoice_number and invoice is None:
        return StepResult(notes=[f"There is no invoice {intent.invoice_number}."], stop=True)
    client: Client | None
    how: str | None = None  # said only when coo chose the invoice (by its exact balance)
    if invoice is not None:
        client = deps.store.clients.get(invoice.client_id)
    else:
        client, candidates = resolve_client(deps, intent.client_name, None)
        if client is None:
            return unknown_client(intent.client_name, candidates)
        matched = match_payment(deps.store, intent, client.id)
        if isinstance(matched, Uncertain):
            # Only a certain match is booked; the conversation asks this before a run starts.
            return StepResult(notes=[f"{matched.question} I recorded nothing yet."], stop=True)
        invoice, how = matched.invoice, matched.how
    if invoice is not None and invoice.status in ("paid", "void", "draft"):
        return StepResult(notes=[f"Invoice {invoice.number} is {invoice.status}; nothing to pay on it."], stop=True)
    currency = intent.currency or (invoice.currency if invoice else client.currency if client else "USD")
    if invoice is not None and currency != invoice.currency:
        # Never applied across currencies: which amount settles it is the operator's call.
        return StepResult(
            notes=[
                f"That payment is in {currency} but {invoice.number} is in {invoice.currency}, so I recorded "
                f"nothing. Tell me the amount that reached you in {invoice.currency} "
                f'(e.g. "{client.name if client else "they"} paid {format_money(invoice.balance, invoice.currency)} '
                f'for {invoice.number}").'
            ],
            stop=True,
        )
    received = intent.received_on or today_for(deps)
    if received > today_for(deps):
        return StepResult(
            notes=[
                f"{received.isoformat()} is in the future, and money that came in came in already; I recorded "
                "nothing. When did it arrive?"
            ],
            stop=True,
        )
    with deps.store.db.transaction() as tx:
        deps.store.billing.record_payment(
            tx,
            client.id if client else None,
            invoice,
            intent.amount,
            currency,
            received,
            intent.invoice_number,
            state["run_id"],
        )
        _record_payment_change(deps, tx, state["run_id"], client, invoice, format_money(intent.amount, currency))
    amount = format_money(intent.amount, currency)
    if intent.currency is None:
        amount += f" ({'the invoice' if invoice else 'the client'}'s currency, {currency}: you didn't say one)"
    name = client.name if client else "?"
    if invoice is None:
        return StepResult(
            notes=[f"Recorded {amount} from {name} on {received.isoformat()} as a credit for {name}."],
            client_id=client.id if client else None,
        )
    after = deps.store.billing.by_id(invoice.id)
    excess = Money.of(intent.amount, currency) - invoice.owed  # same currency, checked above
    if excess > Money.zero(currency):
        state_text = f"now paid in full; {excess} more than it was owed is kept as a credit for {name}"
    elif after.status == "paid":
        state_text = "now paid in full"
    else:
        state_text = f"{format_money(after.balance, after.currency)} still open"
    matched_by = f" Matched by amount: {how}." if how else ""
    return StepResult(
        notes=[f"Recorded {amount} from {name} against {after.number} ({state_text}).{matched_by}"],
        client_id=after.client_id,
    )


def _record_payment_change(
    deps: Deps, tx: Tx, run_id: str, client: Client | None, invoice: Invoice | None, amount: str
) -> None:
    """The payment as an undoable change: undo removes its rows and puts the invoice back."""
    name = client.name if client else "?"
    against = f" against {invoice.number}" if invoice else " as a credit"
    back = (
        f"{invoice.number} is back to {format_money(invoice.balance, invoice.currency)} open ({invoice.status})."
        if invoice
        else f"{name}'s credit is back as it was."
    )
    deps.store.changes.record(
        tx,
        run_id,
        "record_payment",
        "payment_recorded",
        f"the payment of {amount} from {name}{against}",
        table="invoices",
        row_id=invoice.id if invoice else 0,
        before={"paid_cents": invoice.paid_cents, "status": invoice.status} if invoice else None,
        after=None,
        extra={"payment_run": run_id, "undo_note": back},
    )


# -- work, facts, e-mail, status -------------------------------------------------------------


def add_deliverable(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, AddDeliverable) and intent.title
    client, candidates = resolve_client(deps, intent.client_name, None)
    if client is None:
        return unknown_client(intent.client_name, candidates)
    repeat = same_open_work(deps.store, client, intent.title, state["run_id"])
    if repeat is not None:
        return repeated(deps, repeat, client, intent.due_date)
    with deps.store.db.transaction() as tx:
        d = deps.store.work.add_deliverable(tx, client.id, intent.title, intent.due_date, state["run_id"])
        record_created(
            deps,
            tx,
            state["run_id"],
            "deliverable",
            f"the deliverable “{d.title}” ({client.name})",
            "deliverables",
            d.id,
        )
    due = f", due {d.due_date.isoformat()}" if d.due_date else " (no due date)"
    return StepResult(notes=[f"Added deliverable for {client.name}: {d.title}{due}."], client_id=client.id)


def add_task(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, AddTask) and intent.title
    client = None
    if intent.client_name:
        client, _ = resolve_client(deps, intent.client_name, None)
    repeat = same_open_work(deps.store, client, intent.title, state["run_id"])
    if repeat is not None:
        return repeated(deps, repeat, client, intent.due_date)
    with deps.store.db.transaction() as tx:
        t = deps.store.work.add_task(tx, intent.title, client.id if client else None, intent.due_date, state["run_id"])
        record_created(deps, tx, state["run_id"], "task", f"the task “{t.title}”", "tasks", t.id)
    due = f", due {t.due_date.isoformat()}" if t.due_date else ""
    return StepResult(notes=[f"Added to your tasks: {t.title}{due}."])


def remember_fact(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, RememberFact) and intent.client_name and intent.fact
    client, candidates = resolve_client(deps, intent.client_name, intent.contact_email)
    if client is None:
        return unknown_client(intent.client_name, candidates)
    source = f"run {state['run_id']}"
    with deps.store.db.transaction() as tx:
        changes = deps.store.clients.set_constraints(
            tx,
            client.id,
            source,
            revision_limit=intent.revision_limit,
            preferred_channel=intent.preferred_channel,
            hourly_rate=intent.hourly_rate,
            billing_day=intent.billing_day,
            contact_email=intent.contact_email,
        )
        deps.store.clients.add_fact(tx, client.id, intent.fact, source)
    detail = f" Updated: {'; '.join(changes)}." if changes else ""
    return StepResult(notes=[f"Noted for {client.name}: {intent.fact}.{detail}"], client_id=client.id)


def compose_email(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, SendEmail) and intent.body
    address = intent.to.strip().strip("<>") if intent.to and is_address(intent.to.strip().strip("<>")) else None
    person = intent.to.strip() if intent.to and address is None else None  # "e-mail Tom at Kestrel"
    client, candidates = resolve_client(deps, intent.client_name or (person if address is None else None), address)
    if client is None and address is None:
        return unknown_client(intent.client_name or person, candidates)
    to, notes = address, []
    if to is None and client is not None:
        to, missing = _address_of(client, person)
        if missing:
            notes.append(missing)
    addressee = person or (client.contact_name if client else None)
    first = addressee.split()[0] if addressee else None
    greeting = greeting_for(addressee, to, client.name).replace(" team,", ",") if client else "Hello,"
    text = intent.body.strip()
    text = text[0].upper() + text[1:]
    if not text.endswith((".", "!", "?")):
        text += "."
    body = "\n".join([greeting, "", text, "", "Best regards,", deps.sender_name])
    if not deps.runner.tiers.is_offline("mid"):
        body = (
            deps.runner.text(
                "mid",
                "draft_email",
                "Write a short e-mail body in the sender's voice. Keep every fact; no placeholders; no subject line.",
                f"To: {first or (client.name if client else to)}\nMessage: {intent.body}\nSign as: {deps.sender_name}",
                run_id=state["run_id"],
                step="draft",
            ).strip()
            or body
        )
    subject = intent.subject or (f"{text.rstrip('.!?')[:60]}")
    ctx = load_client_context(deps.store, client.id) if client else None
    card = Card(
        title=f"Send e-mail to {to or (client.name if client else '?')}",
        question=f"Send it to {to}?" if to else "Send it? (no e-mail address on file)",
        client_id=client.id if client else None,
        client=client.name if client else None,
        constraints=ctx.constraints() if ctx else [],
    )
    action = Action(
        step="send_email",
        action="send_email",
        card=card,
        draft=Draft(to=to, subject=subject, body=body, in_reply_to=intent.in_reply_to, references=intent.references),
    )
    return StepResult(notes=["I drafted the e-mail.", *notes], action=action, client_id=client.id if client else None)


def _address_of(client: Client, person: str | None) -> tuple[str | None, str | None]:
    """The address for ``person`` at ``client`` (their contact, when it is that person or no one
    is named), or None and why: a bare name is never a recipient."""
    contact = client.contact_email if is_address(client.contact_email) else None
    if person is None:
        return contact, None if contact else f"I have no e-mail address for {client.name}."
    named = (client.contact_name or "").lower().split()
    wanted = person.lower().split()
    if contact and (not named or wanted == named or wanted[:1] == named[:1]):
        return contact, None
    return None, f"I have no e-mail address for {person} at {client.name}."


def status_report(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, StatusQuery)
    client = None
    if intent.client_name:
        client, candidates = resolve_client(deps, intent.client_name, None)
        if client is None:
            return unknown_client(intent.client_name, candidates)
    return StepResult(
        notes=[report(deps.store, intent.topic, today_for(deps), client)], client_id=client.id if client else None
    )


# -- semantic memory -------------------------------------------------------------------------

CORE_STEPS: dict[str, StepFn] = {
    "record_retainer": record_retainer,
    "record_client": record_client,
    "prepare_proposal": prepare_proposal,
    "prepare_invoice": prepare_invoice,
    "record_payment": record_payment,
    "add_deliverable": add_deliverable,
    "add_task": add_task,
    "remember_fact": remember_fact,
    "compose_email": compose_email,
    "status_report": status_report,
}
