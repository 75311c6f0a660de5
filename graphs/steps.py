"""The steps runs are made of. Each does one piece of work and is safe to replay: records it
creates are keyed by the run, so a step re-executed after a crash finds what it made before.

A step returns notes for the operator and, when the next thing would leave the machine, an
``Action`` that the supervisor holds at the approval gate.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from agents.context import ClientContext, load_client_context
from agents.embedders import Embedder, get_embedder
from agents.letters import greeting_for
from agents.invoicer import compare_with_previous, due_date_for, render_invoice
from agents.proposal_drafter import ProposalRequest, draft_proposal
from agents.status_reporter import report
from graphs.approvals import Action, Card, Draft
from graphs.deps import Deps
from graphs.intents import (
    AddDeliverable,
    AddTask,
    CreateInvoice,
    DraftProposal,
    NewClient,
    Recall,
    RecordPayment,
    RememberFact,
    RetainerSignup,
    SendEmail,
    StatusQuery,
    intent_from_dict,
)
from store.billing import NewLine
from store.memory import EmbedderMismatch, Hit, keyword_terms
from store.memory_sync import stale_ids, sync as sync_memory
from store.models import Client, Invoice, format_money


class StepResult(BaseModel):
    notes: list[str] = Field(default_factory=list)
    action: Action | None = None
    client_id: int | None = None
    stop: bool = False  # nothing more can be done in this run (e.g. unknown client)
    facts: dict[str, Any] = Field(default_factory=dict)


StepFn = Callable[[Deps, dict[str, Any]], StepResult]


def _s(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def resolve_client(deps: Deps, name: str | None, email: str | None) -> tuple[Client | None, list[Client]]:
    """The one client meant by name/e-mail, or None with the candidates when it is ambiguous."""
    matches = deps.store.clients.find(name, email)
    if len(matches) == 1:
        return matches[0], matches
    return None, matches


def _unknown_client(name: str | None, candidates: list[Client]) -> StepResult:
    if candidates:
        names = ", ".join(c.name for c in candidates)
        return StepResult(notes=[f'"{name}" could mean {names}. Say it again with the full client name.'], stop=True)
    return StepResult(
        notes=[f"I don't know a client called {name!r} yet. Add them first, e.g. \"new client: {name}, "
               f"contact name@example.com\"."],
        stop=True,
    )


def _today(deps: Deps) -> date:
    return deps.store.clock.today()


# -- retainers, clients, proposals -----------------------------------------------------------


def record_retainer(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, RetainerSignup) and intent.client_name and intent.monthly_amount is not None
    run_id = state["run_id"]
    with deps.store.db.transaction() as tx:
        client, created = deps.store.clients.upsert(tx, intent.client_name, intent.contact_name,
                                                     intent.contact_email, intent.currency)
        retainer = deps.store.work.add_retainer(
            tx, client.id, intent.monthly_amount, intent.currency, intent.revision_rounds, intent.billing_day,
            intent.scope, intent.start_date, run_id,
        )
        deps.store.clients.set_constraints(
            tx, client.id, f"run {run_id}", billing_day=intent.billing_day,
            revision_limit=intent.revision_rounds if client.revision_limit is None else None,
        )
    contact = f" ({client.contact_email})" if client.contact_email else ""
    terms = [f"{format_money(retainer.monthly_amount, retainer.currency)}/month"]
    if retainer.revision_rounds is not None:
        terms.append(_s(retainer.revision_rounds, "revision round"))
    if retainer.billing_day:
        terms.append(f"billed on day {retainer.billing_day}")
    what = "New retainer" if created else "Retainer recorded"
    return StepResult(notes=[f"{what} for {client.name}{contact}: {', '.join(terms)}."], client_id=client.id,
                      facts={"retainer_id": retainer.id})


def record_client(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, NewClient) and intent.client_name
    with deps.store.db.transaction() as tx:
        client, created = deps.store.clients.upsert(tx, intent.client_name, intent.contact_name, intent.contact_email)
    contact = f" ({client.contact_email})" if client.contact_email else " (no e-mail yet)"
    if created:
        return StepResult(notes=[f"Added client {client.name}{contact}."], client_id=client.id)
    return StepResult(notes=[f"{client.name} is already a client{contact}; details updated."], client_id=client.id)


def _proposal_action(deps: Deps, ctx: ClientContext, req: ProposalRequest, run_id: str, to: str | None) -> tuple[Action, str]:
    draft = draft_proposal(ctx, req, deps.runner, run_id)
    with deps.store.db.transaction() as tx:
        artifact = deps.store.artifacts.create(tx, "proposal", draft.subject, draft.body, run_id, ctx.client.id,
                                               {"status": "draft"}, dedupe="proposal")
    details = []
    if req.amount is not None:
        details.append(f"Fee: {format_money(req.amount, req.currency)}{'/month' if req.monthly else ''}")
    question = f"Send it to {to}?" if to else "Send it? (no e-mail address on file)"
    card = Card(title=f"Send proposal #{artifact.number} to {to or ctx.client.name}", question=question,
                client_id=ctx.client.id, client=ctx.client.name, details=details, constraints=ctx.constraints(),
                artifact_id=artifact.id)
    action = Action(step="send_proposal", action="send_proposal", card=card,
                    draft=Draft(to=to, subject=artifact.title, body=artifact.body))
    return action, f"I drafted the proposal (proposal #{artifact.number})."


def prepare_proposal(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    run_id = state["run_id"]
    if isinstance(intent, RetainerSignup):
        client_id = state["client_id"]
        ctx = load_client_context(deps.store, client_id)
        req = ProposalRequest(scope=intent.scope, amount=intent.monthly_amount, currency=intent.currency, monthly=True,
                              billing_day=intent.billing_day, revision_rounds=intent.revision_rounds,
                              sender_name=deps.sender_name)
        to = ctx.client.contact_email
    else:
        assert isinstance(intent, DraftProposal)
        client, candidates = resolve_client(deps, intent.client_name, intent.contact_email)
        if client is None:
            return _unknown_client(intent.client_name, candidates)
        ctx = load_client_context(deps.store, client.id)
        req = ProposalRequest(scope=intent.scope, amount=intent.amount, currency=intent.currency,
                              sender_name=deps.sender_name)
        to = intent.contact_email or client.contact_email
    action, note = _proposal_action(deps, ctx, req, run_id, to)
    return StepResult(notes=[note], action=action, client_id=ctx.client.id)


# -- billing ---------------------------------------------------------------------------------


def invoice_details(invoice: Invoice) -> list[str]:
    rows = []
    for line in invoice.lines:
        qty = f"{line.quantity.normalize():f} {line.unit or 'x'}{'s' if line.unit and line.quantity != 1 else ''} × " \
            if line.quantity != 1 or line.unit else ""
        rows.append(f"• {line.description}: {qty}{format_money(line.unit_price, invoice.currency)}"
                    f" = {format_money(line.total, invoice.currency)}")
    rows.append(f"Total {format_money(invoice.total, invoice.currency)} · issued {invoice.issue_date.isoformat()}"
                f" · due {invoice.due_date.isoformat()}")
    return rows


def prepare_invoice(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, CreateInvoice) and intent.client_name and intent.items
    run_id = state["run_id"]
    notes = []
    client, candidates = resolve_client(deps, intent.client_name, intent.contact_email)
    if client is None and candidates:
        return _unknown_client(intent.client_name, candidates)
    today = _today(deps)
    due = due_date_for(today, intent.due_date, intent.due_in_days)
    if due < today:
        return StepResult(notes=[f"The due date {due.isoformat()} is in the past; say when it should be due."],
                          stop=True)
    lines = [NewLine(description=i.description, quantity=i.quantity, unit=i.unit, unit_price=i.unit_price)
             for i in intent.items]
    with deps.store.db.transaction() as tx:
        if client is None:
            client, _ = deps.store.clients.upsert(tx, intent.client_name, None, intent.contact_email, intent.currency)
            notes.append(f"{client.name} is a new client.")
        invoice = deps.store.billing.create_invoice(tx, client.id, lines, intent.currency, today, due, run_id)
    ctx = load_client_context(deps.store, client.id)
    previous = deps.store.billing.previous_for_client(client.id, invoice.seq)
    subject, body = render_invoice(invoice, client, deps.sender_name)
    to = intent.contact_email or client.contact_email
    notes.append(f"Invoice #{invoice.number} for {client.name}: {format_money(invoice.total, invoice.currency)},"
                 f" due {invoice.due_date.isoformat()}.")
    card = Card(
        title=f"Send invoice #{invoice.number} to {to or client.name}",
        question=f"Send it to {to}?" if to else "Send it? (no e-mail address on file)",
        client_id=client.id, client=client.name, details=invoice_details(invoice),
        comparison=compare_with_previous(invoice, previous), constraints=ctx.constraints(), invoice_id=invoice.id,
        editable=["to", "subject", "body", "due", "rate", "qty"],
    )
    action = Action(step="send_invoice", action="send_invoice", card=card, draft=Draft(to=to, subject=subject, body=body))
    return StepResult(notes=notes, action=action, client_id=client.id, facts={"invoice": invoice.number})


def record_payment(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, RecordPayment) and intent.amount is not None
    invoice = deps.store.billing.get(intent.invoice_number) if intent.invoice_number else None
    if intent.invoice_number and invoice is None:
        return StepResult(notes=[f"There is no invoice {intent.invoice_number}."], stop=True)
    client: Client | None
    if invoice is not None:
        client = deps.store.clients.get(invoice.client_id)
    else:
        client, candidates = resolve_client(deps, intent.client_name, None)
        if client is None:
            return _unknown_client(intent.client_name, candidates)
        open_invoices = deps.store.billing.open_invoices(client.id)
        exact = [i for i in open_invoices if i.balance == intent.amount]
        invoice = exact[0] if exact else (open_invoices[0] if open_invoices else None)
    if invoice is not None and invoice.status in ("paid", "void", "draft"):
        return StepResult(notes=[f"Invoice {invoice.number} is {invoice.status}; nothing to pay on it."], stop=True)
    received = intent.received_on or _today(deps)
    with deps.store.db.transaction() as tx:
        deps.store.billing.record_payment(tx, client.id if client else None, invoice, intent.amount, intent.currency,
                                          received, intent.invoice_number, state["run_id"])
    amount = format_money(intent.amount, intent.currency)
    name = client.name if client else "?"
    if invoice is None:
        return StepResult(notes=[f"Recorded {amount} from {name} on {received.isoformat()}. No open invoice to apply "
                                 "it to: it stays as a credit."], client_id=client.id if client else None)
    after = deps.store.billing.by_id(invoice.id)
    state_text = "now paid in full" if after.status == "paid" else f"{format_money(after.balance, after.currency)} still open"
    return StepResult(notes=[f"Recorded {amount} from {name} against {after.number} ({state_text})."],
                      client_id=after.client_id)


# -- work, facts, e-mail, status -------------------------------------------------------------


def add_deliverable(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, AddDeliverable) and intent.title
    client, candidates = resolve_client(deps, intent.client_name, None)
    if client is None:
        return _unknown_client(intent.client_name, candidates)
    with deps.store.db.transaction() as tx:
        d = deps.store.work.add_deliverable(tx, client.id, intent.title, intent.due_date, state["run_id"])
    due = f", due {d.due_date.isoformat()}" if d.due_date else " (no due date)"
    return StepResult(notes=[f"Added deliverable for {client.name}: {d.title}{due}."], client_id=client.id)


def add_task(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, AddTask) and intent.title
    client = None
    if intent.client_name:
        client, _ = resolve_client(deps, intent.client_name, None)
    with deps.store.db.transaction() as tx:
        t = deps.store.work.add_task(tx, intent.title, client.id if client else None, intent.due_date, state["run_id"])
    due = f", due {t.due_date.isoformat()}" if t.due_date else ""
    return StepResult(notes=[f"Added to your tasks: {t.title}{due}."])


def remember_fact(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, RememberFact) and intent.client_name and intent.fact
    client, candidates = resolve_client(deps, intent.client_name, intent.contact_email)
    if client is None:
        return _unknown_client(intent.client_name, candidates)
    source = f"run {state['run_id']}"
    with deps.store.db.transaction() as tx:
        changes = deps.store.clients.set_constraints(
            tx, client.id, source, revision_limit=intent.revision_limit, preferred_channel=intent.preferred_channel,
            hourly_rate=intent.hourly_rate, billing_day=intent.billing_day, contact_email=intent.contact_email,
        )
        deps.store.clients.add_fact(tx, client.id, intent.fact, source)
    detail = f" Updated: {'; '.join(changes)}." if changes else ""
    return StepResult(notes=[f"Noted for {client.name}: {intent.fact}.{detail}"], client_id=client.id)


def compose_email(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, SendEmail) and intent.body
    client, candidates = resolve_client(deps, intent.client_name, intent.to)
    if client is None and intent.to is None:
        return _unknown_client(intent.client_name, candidates)
    to = intent.to or (client.contact_email if client else None)
    first = client.contact_name.split()[0] if client and client.contact_name else None
    greeting = greeting_for(client.contact_name, to, client.name).replace(" team,", ",") if client else "Hello,"
    text = intent.body.strip()
    text = text[0].upper() + text[1:]
    if not text.endswith((".", "!", "?")):
        text += "."
    body = "\n".join([greeting, "", text, "", "Best regards,", deps.sender_name])
    if not deps.runner.tiers.is_offline("mid"):
        body = deps.runner.text(
            "mid", "draft_email",
            "Write a short e-mail body in the sender's voice. Keep every fact; no placeholders; no subject line.",
            f"To: {first or (client.name if client else to)}\nMessage: {intent.body}\nSign as: {deps.sender_name}",
            run_id=state["run_id"], step="draft",
        ).strip() or body
    subject = intent.subject or (f"{text.rstrip('.!?')[:60]}")
    ctx = load_client_context(deps.store, client.id) if client else None
    card = Card(title=f"Send e-mail to {to or (client.name if client else '?')}",
                question=f"Send it to {to}?" if to else "Send it? (no e-mail address on file)",
                client_id=client.id if client else None, client=client.name if client else None,
                constraints=ctx.constraints() if ctx else [])
    action = Action(step="send_email", action="send_email", card=card,
                    draft=Draft(to=to, subject=subject, body=body, in_reply_to=intent.in_reply_to,
                                references=intent.references))
    return StepResult(notes=["I drafted the e-mail."], action=action, client_id=client.id if client else None)


def status_report(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, StatusQuery)
    client = None
    if intent.client_name:
        client, candidates = resolve_client(deps, intent.client_name, None)
        if client is None:
            return _unknown_client(intent.client_name, candidates)
    return StepResult(notes=[report(deps.store, intent.topic, _today(deps), client)],
                      client_id=client.id if client else None)


# -- semantic memory -------------------------------------------------------------------------

log = logging.getLogger(__name__)


def memory_embedder(deps: Deps) -> Embedder:
    """The run's embedder: ``deps.embedder`` when the runtime provides one, else ``COO_EMBEDDER``."""
    return getattr(deps, "embedder", None) or get_embedder()


def index_memory(deps: Deps) -> None:
    """Index what the run created (idempotent sweep); a failure here never fails the run."""
    try:
        sync_memory(deps.store, memory_embedder(deps))
    except Exception:  # noqa: BLE001 - memory is derived data; the next sweep catches up
        log.warning("memory indexing failed; the next run or recall retries it", exc_info=True)


def _snippet(text: str, query: str, limit: int = 160) -> str:
    """The sentence of ``text`` that shares most words (by 5-letter prefix) with the query."""
    body = text.split("\n", 1)[1] if "\n" in text else text
    sentences = [x.strip() for x in re.split(r"(?<=[.!?])\s+|\n+", body) if x.strip()] or [body.strip()]
    terms = {t[:5] for t in keyword_terms(query)}
    best = max(sentences, key=lambda x: (len(terms & {t[:5] for t in keyword_terms(x)}), len(x) > 30,
                                         -sentences.index(x)))
    return best if len(best) <= limit else best[: limit - 1].rsplit(" ", 1)[0] + "…"


def _recall_line(deps: Deps, hit: Hit, query: str) -> str:
    item, meta = hit.item, hit.item.meta
    date_text = str(meta.get("date") or item.created_at.isoformat())[:10]
    client = meta.get("client")
    if item.source_kind == "invoice":
        invoice = deps.store.billing.by_id(item.source_id)
        return (f"• invoice {invoice.number} for {client or '?'}, issued {invoice.issue_date.isoformat()}: "
                f"{format_money(invoice.total, invoice.currency)}, {invoice.status.replace('_', ' ')} "
                f"(invoice #{invoice.id}): {_snippet(item.text, query)}")
    if item.source_kind == "fact":
        return f"• note about {client or '?'}, {date_text} (fact #{item.source_id}): {_snippet(item.text, query)}"
    if item.kind == "email_in":
        what = f"e-mail from {meta.get('from_name') or meta.get('from_address') or '?'}"
    elif item.kind == "email":
        what = f"e-mail to {meta.get('to_address') or client or '?'}"
    elif item.kind == "proposal":
        what = f"proposal {meta.get('number') or ''} for {client or '?'}".replace("  ", " ")
    else:
        what = item.kind.replace("_", " ")
    return f"• {what}, {date_text} “{item.title}” (artifact #{item.source_id}): {_snippet(item.text, query)}"


def recall(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, Recall) and intent.query
    embedder = memory_embedder(deps)
    try:
        sync_memory(deps.store, embedder)
    except EmbedderMismatch as exc:
        return StepResult(notes=[f"I can't search the memory yet: {exc}."], stop=True)
    client = None
    if intent.client_name:
        client, _ = resolve_client(deps, intent.client_name, None)  # no client: the name may be a contact's
    vector = embedder.embed([intent.query])[0]
    stale = set(stale_ids(deps.store))  # deleted sources, superseded facts: the audit prunes them
    hits = [h for h in deps.store.memory.hybrid(intent.query, vector, k=5 + len(stale),
                                                client_id=client.id if client else None) if h.item.id not in stale]
    if not hits and client is not None:
        hits = [h for h in deps.store.memory.hybrid(intent.query, vector, k=5 + len(stale)) if h.item.id not in stale]
    hits = hits[:5]
    if not hits:
        return StepResult(notes=["I found nothing in the e-mails, notes, proposals or invoices about that."],
                          client_id=client.id if client else None)
    scope = f" for {client.name}" if client else ""
    lines = [_recall_line(deps, hit, intent.query) for hit in hits]
    return StepResult(notes=[f"Here's what I found{scope} (best match first):", *lines],
                      client_id=client.id if client else None, facts={"recall_hits": len(hits)})


STEPS: dict[str, StepFn] = {
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
    "recall": recall,
}
