"""Approval cards built from business objects, and edits applied before approval.

A card says who it goes to, what (line items, totals, dates), how it differs from the last
one for the same client, which of the client's constraints apply, and shows the draft. The
draft stored with the approval is exactly what gets sent once approved.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict, TypeGuard

from pydantic import BaseModel, Field, model_validator

from agents.invoice_document import document_line
from agents.invoicer import invoice_details, render_invoice
from graphs.commands import EDIT_HELP, EditError, EditFields
from graphs.deps import Deps
from store.billing import NewLine
from store.models import Approval, Decided

EMAIL_RE = re.compile(r"^[^@\s<>,;\"()]+@[^@\s<>,;\"()]+\.[^@\s<>,;\"().]+$")
_NUMBERED_TITLE = re.compile(r"^Send (?:proposal|invoice) #(\S+)")  # the titles of cards stored without a number


def is_address(text: str | None) -> TypeGuard[str]:
    """True for one plain e-mail address ("jane@acme.example"); a bare name ("Tom") is not one."""
    return bool(text) and bool(EMAIL_RE.match(text or ""))


ADDRESS_HINT = "/edit {n} to=name@example.com"


def card_buttons(draft: Draft) -> list[str]:
    """The card's buttons: no Approve while the draft has no address to send it to."""
    return ["approve", "edit", "reject"] if is_address(draft.to) else ["edit", "reject"]


class Draft(BaseModel):
    """The e-mail that will leave the machine when approved."""

    to: str | None = None
    subject: str
    body: str
    in_reply_to: str | None = None  # threading headers of a reply (not shown, not editable)
    references: str | None = None


class Card(BaseModel):
    """The minimal context to decide, rendered the same way in every channel."""

    title: str  # "Send proposal #P-0001 to jane@acme.example"
    question: str  # "Send it to jane@acme.example?"
    number: str | None = None  # the document's number ("P-0001", "INV-0007"), for the replies
    client_id: int | None = None
    client: str | None = None
    details: list[str] = Field(default_factory=list)
    comparison: str | None = None
    constraints: list[str] = Field(default_factory=list)
    invoice_id: int | None = None
    artifact_id: int | None = None
    editable: list[str] = Field(default_factory=lambda: ["to", "subject", "body"])

    @model_validator(mode="before")
    @classmethod
    def _number_of_a_stored_card(cls, data: Any) -> Any:
        """Cards stored before ``number`` existed (approvals still pending at the upgrade) had it
        only in the title ("Send invoice #INV-0007 to …"); read it from there, here only."""
        if isinstance(data, dict) and "number" not in data:
            numbered = _NUMBERED_TITLE.match(str(data.get("title", "")))
            if numbered:
                data = {**data, "number": numbered.group(1)}
        return data


class ApprovalRequest(TypedDict):
    """What the supervisor's gate interrupts with: the approval to show, and what the run said
    before it (shown above the card). A plain dict in the run's checkpoint."""

    approval_id: int
    notes: list[str]


class ApprovalDecision(TypedDict):
    """What a run waiting at its gate is resumed with (``Command(resume=...)``)."""

    approval_id: int
    decision: Decided


class Action(BaseModel):
    """A side effect a step proposes; it waits at the approval gate."""

    step: str
    action: str  # "send_proposal" | "send_invoice" | "send_email"
    card: Card
    draft: Draft


def render_card(approval_id: int, card: Card, draft: Draft, *, preview_lines: int = 12) -> str:
    """The card as chat text (console, and the fallback text of rich messages)."""
    lines = [card.question]
    hint = ADDRESS_HINT.format(n=approval_id)
    lines.append(f"  To: {draft.to if is_address(draft.to) else '(no e-mail address — add one: ' + hint + ')'}")
    lines.append(f"  Subject: {draft.subject}")
    lines.extend(f"  {d}" for d in card.details)
    if card.comparison:
        lines.append(f"  {card.comparison}")
    if card.constraints:
        lines.append(f"  Client constraints: {'; '.join(card.constraints)}")
    body = draft.body.splitlines()
    lines.append("  ── draft ──")
    lines.extend(f"  │ {line}" for line in body[:preview_lines])
    if len(body) > preview_lines:
        lines.append(f"  │ … ({len(body) - preview_lines} more lines)")
    if is_address(draft.to):
        lines.append(f"  [/approve {approval_id}] [/edit {approval_id} …] [/reject {approval_id}]")
    else:
        lines.append(f"  [{hint}] [/reject {approval_id}]")
    return "\n".join(lines)


def apply_edit(deps: Deps, approval: Approval, fields: EditFields) -> tuple[Card, Draft, list[str]]:
    """Apply an operator's edit to a pending approval; returns the new card, draft, and what changed."""
    card = Card.model_validate(approval.card)
    draft = Draft.model_validate(approval.draft)
    if not fields.changed():
        raise EditError(EDIT_HELP)
    said: list[str] = []
    invoice_changes = fields.invoice_fields()
    if invoice_changes and card.invoice_id is None:
        raise EditError(f"Only invoices have {', '.join(invoice_changes)}. {EDIT_HELP}")
    if fields.to is not None:
        address = fields.to.strip().strip("<>")
        if not EMAIL_RE.match(address):
            raise EditError(f'"{fields.to}" is not an e-mail address.')
        draft.to = address
        said.append(f"to → {address}")
        if card.client_id is not None:
            with deps.store.db.transaction() as tx:
                client = deps.store.clients.get(card.client_id, tx)
                if not client.contact_email:
                    deps.store.clients.set_constraints(tx, client.id, f"approval #{approval.id}", contact_email=address)
    if fields.subject is not None:
        draft.subject = fields.subject
        said.append("subject changed")
    if invoice_changes:
        card, draft = _edit_invoice(deps, card, draft, fields, keep_body=fields.body is not None)
        said.extend(
            f"{k} → {('used' if v else 'kept for later') if isinstance(v, bool) else v}"
            for k, v in invoice_changes.items()
        )
    if fields.body is not None:
        draft.body = fields.body
        said.append("draft text replaced")
    card.question = _question_with_recipient(card.question, draft.to)
    return card, draft, said


def _question_with_recipient(question: str, to: str | None) -> str:
    return f"Send it to {to}?" if to else question


def _edit_invoice(deps: Deps, card: Card, draft: Draft, fields: EditFields, keep_body: bool) -> tuple[Card, Draft]:
    assert card.invoice_id is not None
    invoice = deps.store.billing.by_id(card.invoice_id)
    if invoice.status != "draft":
        raise EditError(f"Invoice {invoice.number} is {invoice.status}; only drafts can be edited.")
    lines = [
        NewLine(
            description=l.description, quantity=l.quantity, unit=l.unit, unit_price=l.unit_price, tax_rate=l.tax_rate
        )
        for l in invoice.lines
    ]
    due = invoice.due_date
    if fields.due is not None:
        if fields.due < invoice.issue_date:
            raise EditError(f"The due date {fields.due.isoformat()} is before the issue date {invoice.issue_date}.")
        due = fields.due
    if fields.rate is not None:
        lines[0] = lines[0].model_copy(update={"unit_price": fields.rate})
    if fields.qty is not None:
        lines[0] = lines[0].model_copy(update={"quantity": fields.qty})
    with deps.store.db.transaction() as tx:
        if fields.credit is not None:
            deps.store.billing.use_credit(tx, invoice.id, fields.credit)
        updated = deps.store.billing.replace_lines(tx, invoice.id, lines, due)
    client = deps.store.clients.get(updated.client_id)
    credit = deps.store.credits.for_invoice(updated.id)  # its hold follows the new total
    if credit is not None and credit.status != "held":
        credit = None
    subject, body = render_invoice(updated, client, deps.sender_name, credit)
    others = [(cur, amount) for _, cur, amount in deps.store.billing.credits(client.id) if cur != updated.currency]
    if credit is None:
        # A credit in the invoice's own currency that it does not use (kept for later) is said too.
        others = [(cur, amount) for _, cur, amount in deps.store.billing.credits(client.id)]
    profiles = deps.store.invoice_profiles
    card.details = [
        *invoice_details(updated, credit, others),
        document_line(profiles.seller(), profiles.billing(client.id), client, deps.sender_name),
    ]
    return card, Draft(
        to=draft.to,
        subject=draft.subject if draft.subject != subject else subject,
        body=draft.body if keep_body else body,
    )
