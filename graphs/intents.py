"""Typed, versioned intents: the only thing adapters and parsers hand to the supervisor.

Every intent is a pydantic model with a literal ``kind`` and a ``version``; ``Intent`` is the
discriminated union of all of them. Fields a user may leave out are optional on the model;
``missing_fields()`` says which of them the intent still needs before it can run, so the
conversation can ask a clarifying question instead of guessing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, TypeAdapter
from pydantic.json_schema import SkipJsonSchema

# Amounts stay exact Decimals in Python but appear as plain numbers in JSON, so scripts that
# read `coo parse` output get `4000.0`, not the string "4000".
Money = Annotated[Decimal, PlainSerializer(lambda v: float(v), return_type=float, when_used="json")]

SIDE_EFFECT_KINDS: frozenset[str] = frozenset(
    {
        "retainer_signup",
        "draft_proposal",
        "create_invoice",
        "record_payment",
        "send_email",
        "weekly_report",
        "retainer_end",
        "retainer_pause",
        "retainer_resume",
        "void_invoice",
        "resend_invoice",
        "payment_reminder",
        # Changes to the books and records count too: the semantic router never makes one of
        # these from a message that does not plainly name its client ("leave it" is not "undo it").
        "rename_client",
        "change_contact",
        "change_currency",
        "move_due",
        "task_done",
        "delete_record",
        "undo",
    }
)
# Set only by the operator's "yes" to coo's question (graphs/confirm.py), never by a parser or
# a model (kept out of the model's schema, and cleared on whatever a message says).
Confirmed = SkipJsonSchema[bool]


class _IntentBase(BaseModel):
    # defer_build: each intent builds its validator when first used, not at import (`coo parse`
    # makes one or two of them; building all eighteen was a good part of its start).
    model_config = ConfigDict(extra="forbid", defer_build=True)

    version: Literal[1] = 1
    if TYPE_CHECKING:  # every intent declares its own Literal kind; pydantic must not see a base field
        kind: str

    def missing_fields(self) -> list[str]:
        """Names of fields the intent still needs before it can run."""
        return []

    @property
    def has_side_effects(self) -> bool:
        return self.kind in SIDE_EFFECT_KINDS


class LineItem(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    description: str
    quantity: Money = Decimal("1")
    unit_price: Money
    unit: str | None = None  # "hour", "day", "month"… shown on the invoice
    # Percent ("7% VAT" said for this line); None: the client's, else the seller's default rate.
    tax_rate: Decimal | None = Field(default=None, ge=0, le=100)

    @property
    def total(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class RetainerSignup(_IntentBase):
    """A client signed (or starts) a monthly retainer."""

    kind: Literal["retainer_signup"] = "retainer_signup"
    client_name: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    monthly_amount: Money | None = None
    currency: str = "USD"
    revision_rounds: int | None = None
    billing_day: int | None = Field(default=None, ge=1, le=31)
    scope: str | None = None
    start_date: date | None = None
    # The operator said yes to replacing the client's current retainer with these terms.
    confirmed: Confirmed = False

    def missing_fields(self) -> list[str]:
        return [f for f in ("client_name", "monthly_amount") if getattr(self, f) is None]


class RetainerEnd(_IntentBase):
    """A retainer ends: "cancel Acme's retainer", "stop billing Globex after December". Nothing
    is billed on or after ``ends_on`` (None: today)."""

    kind: Literal["retainer_end"] = "retainer_end"
    client_name: str | None = None
    ends_on: date | None = None
    confirmed: Confirmed = False

    def missing_fields(self) -> list[str]:
        return ["client_name"] if self.client_name is None else []


class RetainerPause(_IntentBase):
    """A retainer pauses: "pause Globex's retainer until March", "… for two months". Nothing is
    billed from today until ``paused_until`` (None: until it is resumed)."""

    kind: Literal["retainer_pause"] = "retainer_pause"
    client_name: str | None = None
    paused_until: date | None = None
    months: int | None = Field(default=None, ge=1, le=36)  # as said ("for two months"), for the reply
    confirmed: Confirmed = False

    def missing_fields(self) -> list[str]:
        return ["client_name"] if self.client_name is None else []


class RetainerResume(_IntentBase):
    """A paused retainer bills again from today: "resume Globex's retainer"."""

    kind: Literal["retainer_resume"] = "retainer_resume"
    client_name: str | None = None
    confirmed: Confirmed = False

    def missing_fields(self) -> list[str]:
        return ["client_name"] if self.client_name is None else []


class NewClient(_IntentBase):
    """Record a client without any engagement yet."""

    kind: Literal["new_client"] = "new_client"
    client_name: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None

    def missing_fields(self) -> list[str]:
        return ["client_name"] if self.client_name is None else []


class DraftProposal(_IntentBase):
    """Draft a proposal for a client (and, after approval, send it)."""

    kind: Literal["draft_proposal"] = "draft_proposal"
    client_name: str | None = None
    contact_email: str | None = None
    scope: str | None = None
    amount: Money | None = None
    currency: str = "USD"

    def missing_fields(self) -> list[str]:
        return ["client_name"] if self.client_name is None else []


class CreateInvoice(_IntentBase):
    """Invoice a client for work (line items) with a due date."""

    kind: Literal["create_invoice"] = "create_invoice"
    client_name: str | None = None
    contact_email: str | None = None
    items: list[LineItem] = Field(default_factory=list)
    # None: not said; the client's currency (its retainer's, else its own) applies, and is said.
    currency: str | None = None
    due_date: date | None = None
    due_in_days: int | None = Field(default=None, ge=0, le=365)
    # Set by the scheduler: a tick for a given day (`coo tick --date D`) issues on D, not on today.
    issue_date: date | None = None

    def missing_fields(self) -> list[str]:
        missing = []
        if self.client_name is None:
            missing.append("client_name")
        if not self.items:
            missing.append("items")
        return missing


class RecordPayment(_IntentBase):
    """Money came in: match it to an invoice and record it."""

    kind: Literal["record_payment"] = "record_payment"
    client_name: str | None = None
    amount: Money | None = None
    # None: not said. The invoice's currency is taken (and said); a stated currency that is not
    # the invoice's is never applied to it.
    currency: str | None = None
    invoice_number: str | None = None
    received_on: date | None = None
    # The operator answered "credit" to "which invoice is it for?": booked as a client credit.
    as_credit: bool = False

    def missing_fields(self) -> list[str]:
        missing = []
        if self.amount is None:
            missing.append("amount")
        if self.client_name is None and self.invoice_number is None:
            missing.append("client_name")
        return missing


class AddDeliverable(_IntentBase):
    """Something owed to a client, usually with a due date."""

    kind: Literal["add_deliverable"] = "add_deliverable"
    client_name: str | None = None
    title: str | None = None
    due_date: date | None = None

    def missing_fields(self) -> list[str]:
        return [f for f in ("title", "client_name") if getattr(self, f) is None]


class AddTask(_IntentBase):
    """An internal to-do for the operator."""

    kind: Literal["add_task"] = "add_task"
    title: str | None = None
    client_name: str | None = None
    due_date: date | None = None

    def missing_fields(self) -> list[str]:
        return ["title"] if self.title is None else []


StatusTopic = Literal["overdue", "invoices", "deliverables", "approvals", "tasks", "clients", "summary"]


class StatusQuery(_IntentBase):
    """A question about the state of the business; read-only."""

    kind: Literal["status_query"] = "status_query"
    topic: StatusTopic = "summary"
    client_name: str | None = None


class RememberFact(_IntentBase):
    """A fact about a client. Known constraints become canonical fields on the client."""

    kind: Literal["remember_fact"] = "remember_fact"
    client_name: str | None = None
    fact: str | None = None
    revision_limit: int | None = None
    preferred_channel: str | None = None
    hourly_rate: Money | None = None
    billing_day: int | None = Field(default=None, ge=1, le=31)
    contact_email: str | None = None

    def missing_fields(self) -> list[str]:
        return [f for f in ("client_name", "fact") if getattr(self, f) is None]


class SendEmail(_IntentBase):
    """Write to a client; the draft waits for approval before it goes out."""

    kind: Literal["send_email"] = "send_email"
    client_name: str | None = None
    to: str | None = None
    subject: str | None = None
    body: str | None = None
    in_reply_to: str | None = None  # a reply to a client's e-mail: the Message-ID it answers
    references: str | None = None

    def missing_fields(self) -> list[str]:
        missing = []
        if self.client_name is None and self.to is None:
            missing.append("client_name")
        if self.body is None:
            missing.append("body")
        return missing


class Recall(_IntentBase):
    """Find what was said or sent (e-mails, notes, proposals, invoices); read-only, answered
    with pointers to the artifacts."""

    kind: Literal["recall"] = "recall"
    query: str | None = None
    client_name: str | None = None

    def missing_fields(self) -> list[str]:
        return ["query"] if not self.query else []


class ClientProfile(_IntentBase):
    """ "What do we know about Acme?": the client's canonical facts with their sources."""

    kind: Literal["client_profile"] = "client_profile"
    client_name: str | None = None

    def missing_fields(self) -> list[str]:
        return ["client_name"] if self.client_name is None else []


class UpdateTerms(_IntentBase):
    """Change a retainer's terms ("bill them on the 15th instead"). ``client_name`` may come
    from the thread's working memory when the operator says "them"."""

    kind: Literal["update_terms"] = "update_terms"
    client_name: str | None = None
    billing_day: int | None = Field(default=None, ge=1, le=31)
    monthly_amount: Money | None = None
    revision_rounds: int | None = Field(default=None, ge=0, le=50)
    confirmed: Confirmed = False

    def missing_fields(self) -> list[str]:
        return ["client_name"] if self.client_name is None else []


class RevisionRequest(_IntentBase):
    """A client asked for another round of changes; counted against their revision limit."""

    kind: Literal["revision_request"] = "revision_request"
    client_name: str | None = None
    deliverable: str | None = None  # what it is about ("the logo"); rounds are counted per deliverable
    note: str | None = None
    requested_on: date | None = None  # when it was asked for, if said ("on Monday": the past one)

    def missing_fields(self) -> list[str]:
        return ["client_name"] if self.client_name is None else []


class DeliverableDone(_IntentBase):
    """A deliverable was delivered: "the homepage mockups for Acme are done", or "/done 5"."""

    kind: Literal["deliverable_done"] = "deliverable_done"
    deliverable_id: int | None = None
    client_name: str | None = None
    title: str | None = None
    done_on: date | None = None  # when it was delivered, if said ("last Friday": never a future day)

    def missing_fields(self) -> list[str]:
        if self.deliverable_id is not None:
            return []
        return [f for f in ("title", "client_name") if getattr(self, f) is None]


class WeeklyReport(_IntentBase):
    """A retainer's weekly client report. Built by the scheduler (graphs/tick.py), never
    parsed from text: it is not among the kinds a model may choose."""

    kind: Literal["weekly_report"] = "weekly_report"
    retainer_id: int
    client_name: str | None = None
    week_start: date
    as_of: date | None = None  # the tick's day: "late" and "this month" are judged as of it


class VoidInvoice(_IntentBase):
    """Void an invoice: "void INV-0007", "cancel invoice 7", "INV-0007 was a mistake, void it".
    A sent invoice is voided by a credit note sent to the client, once approved."""

    kind: Literal["void_invoice"] = "void_invoice"
    invoice_number: str | None = None  # "INV-0007"

    def missing_fields(self) -> list[str]:
        return ["invoice_number"] if self.invoice_number is None else []


class ResendInvoice(_IntentBase):
    """Send an invoice that went out once more: "resend INV-0007 to ap@globex.example"."""

    kind: Literal["resend_invoice"] = "resend_invoice"
    invoice_number: str | None = None
    to: str | None = None  # another address; unsaid: the one it was sent to

    def missing_fields(self) -> list[str]:
        return ["invoice_number"] if self.invoice_number is None else []


class PaymentReminder(_IntentBase):
    """A polite reminder to pay: "nudge Globex about INV-0007", "remind Acme they owe us",
    "chase the overdue invoices" (``all_overdue``). The daily tick sets ``stage`` (1, 2, 3 …: the
    reminder schedule's step, each firmer); a message never does."""

    kind: Literal["payment_reminder"] = "payment_reminder"
    invoice_number: str | None = None
    client_name: str | None = None
    all_overdue: bool = False
    stage: SkipJsonSchema[int] = 0

    def missing_fields(self) -> list[str]:
        if self.invoice_number is None and self.client_name is None and not self.all_overdue:
            return ["client_name"]
        return []


# -- asking: reports over the books (read-only, answered by a run that changes nothing) --------


class Earnings(_IntentBase):
    """ "How much did I make this month?": payments received in a period, per currency (and per
    client with ``by_client``). No period said: this month so far."""

    kind: Literal["earnings"] = "earnings"
    start: date | None = None  # first day of the period (inclusive)
    end: date | None = None  # last day of the period (inclusive)
    by_client: bool = False
    client_name: str | None = None


class ClientBalance(_IntentBase):
    """ "How much has Globex paid me?", "what does Acme owe?": a client's total paid and owed."""

    kind: Literal["client_balance"] = "client_balance"
    client_name: str | None = None

    def missing_fields(self) -> list[str]:
        return ["client_name"] if self.client_name is None else []


InvoiceState = Literal["open", "overdue", "paid", "partially_paid", "void", "draft", "all"]


class InvoiceList(_IntentBase):
    """ "Show overdue invoices", "which invoices are paid", "list void invoices"."""

    kind: Literal["invoice_list"] = "invoice_list"
    state: InvoiceState = "all"
    client_name: str | None = None


class InvoiceLookup(_IntentBase):
    """ "Show INV-0007", "what's the status of inv 7": one invoice with its lines, status,
    payments and the e-mails that sent it. ``number`` as written on the invoice (INV-0007)."""

    kind: Literal["invoice_lookup"] = "invoice_lookup"
    number: str | None = None

    def missing_fields(self) -> list[str]:
        return ["number"] if not self.number else []


class SmallTalk(_IntentBase):
    """ "hi", "thanks!", "ok great": answered at once with a short friendly line, no run."""

    kind: Literal["small_talk"] = "small_talk"
    text: str = ""


class RenameClient(_IntentBase):
    """A client's new name: "rename Acme to Acme Studio Ltd", "Acme is now called …". Asks first."""

    kind: Literal["rename_client"] = "rename_client"
    client_name: str | None = None
    new_name: str | None = None
    confirmed: Confirmed = False

    def missing_fields(self) -> list[str]:
        return [f for f in ("client_name", "new_name") if getattr(self, f) is None]


class ChangeCurrency(_IntentBase):
    """The currency a client is billed in from now on: "Globex is billed in EUR from now on",
    "switch Acme to GBP". Asks first (money); invoices already made keep theirs, nothing is converted."""

    kind: Literal["change_currency"] = "change_currency"
    client_name: str | None = None
    currency: str | None = None  # ISO code: "EUR"
    confirmed: Confirmed = False

    def missing_fields(self) -> list[str]:
        return [f for f in ("client_name", "currency") if getattr(self, f) is None]


class ChangeContact(_IntentBase):
    """A client's contact address changes or is added: "Globex's email is now ap@globex.example",
    "use billing@acme.example for Acme". Asks first."""

    kind: Literal["change_contact"] = "change_contact"
    client_name: str | None = None
    contact_email: str | None = None
    contact_name: str | None = None
    confirmed: Confirmed = False

    def missing_fields(self) -> list[str]:
        return [f for f in ("client_name", "contact_email") if getattr(self, f) is None]


WorkItem = Literal["deliverable", "task"]


class MoveDue(_IntentBase):
    """A deliverable's or task's new due date: "move the logo for Acme to Friday", "push the
    brochure deadline to Dec 12". Just happens, and says old → new."""

    kind: Literal["move_due"] = "move_due"
    item: WorkItem | None = None  # None: whichever open deliverable or task the title matches
    item_id: int | None = None
    title: str | None = None
    client_name: str | None = None
    due_date: date | None = None

    def missing_fields(self) -> list[str]:
        missing = [] if self.item_id is not None or self.title else ["title"]
        return missing + (["due_date"] if self.due_date is None else [])


class TaskDone(_IntentBase):
    """A task is done: "done with the task call Bob", "I called the accountant", "/done" is for
    deliverables."""

    kind: Literal["task_done"] = "task_done"
    task_id: int | None = None
    title: str | None = None

    def missing_fields(self) -> list[str]:
        return [] if self.task_id is not None or self.title else ["title"]


class DeleteRecord(_IntentBase):
    """Delete a mistaken record: "delete the task call Bob", "delete deliverable 3", "remove client
    Test Co" (a client only when nothing in the books refers to it; asks first)."""

    kind: Literal["delete_record"] = "delete_record"
    record: Literal["task", "deliverable", "client"] | None = None
    record_id: int | None = None
    title: str | None = None
    client_name: str | None = None
    confirmed: Confirmed = False

    def missing_fields(self) -> list[str]:
        if self.record is None:
            return ["record"]
        if self.record == "client":
            return ["client_name"] if self.client_name is None else []
        return [] if self.record_id is not None or self.title else ["title"]


class Undo(_IntentBase):
    """ "undo that", "/undo": reverse the operator's last change with a compensating ledger event."""

    kind: Literal["undo"] = "undo"


class Help(_IntentBase):
    kind: Literal["help"] = "help"


class Unknown(_IntentBase):
    """Nothing coo can act on; answered with a question or the list of what coo does."""

    kind: Literal["unknown"] = "unknown"
    text: str = ""
    reason: str | None = None
    # The kinds the semantic router found closest (best first) when it was not sure enough to
    # pick one: what the conversation can offer instead of guessing.
    candidates: list[str] | None = None


Intent = Annotated[
    RetainerSignup
    | RetainerEnd
    | RetainerPause
    | RetainerResume
    | NewClient
    | DraftProposal
    | CreateInvoice
    | RecordPayment
    | AddDeliverable
    | AddTask
    | StatusQuery
    | RememberFact
    | SendEmail
    | Recall
    | ClientProfile
    | UpdateTerms
    | RevisionRequest
    | DeliverableDone
    | Earnings
    | ClientBalance
    | InvoiceList
    | InvoiceLookup
    | RenameClient
    | ChangeContact
    | ChangeCurrency
    | MoveDue
    | TaskDone
    | DeleteRecord
    | Undo
    | WeeklyReport
    | VoidInvoice
    | ResendInvoice
    | PaymentReminder
    | SmallTalk
    | Help
    | Unknown,
    Field(discriminator="kind"),
]

INTENT_ADAPTER: TypeAdapter[Intent] = TypeAdapter(Intent, config=ConfigDict(defer_build=True))

# Intent is Annotated[Union[...], discriminator]: its first argument is the union of classes.
INTENT_CLASSES: dict[str, type[BaseModel]] = {
    cls.model_fields["kind"].default: cls for cls in get_args(get_args(Intent)[0])
}
# Built by the scheduler (graphs/tick.py), never parsed from a message.
SCHEDULED_KINDS: frozenset[str] = frozenset({"weekly_report"})
# The kinds a parser may produce, in the union's order (the order the model is offered them).
INTENT_KINDS: tuple[str, ...] = tuple(kind for kind in INTENT_CLASSES if kind not in SCHEDULED_KINDS)


def intent_from_dict(data: dict) -> Intent:
    """Validate a stored or model-produced dict back into its intent type."""
    return INTENT_ADAPTER.validate_python(data)


def intent_to_dict(intent: Intent) -> dict:
    """JSON-safe dict (ISO dates, numeric amounts) for storage and `coo parse`."""
    return intent.model_dump(mode="json", exclude_none=True)
