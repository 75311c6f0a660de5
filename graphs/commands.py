"""Typed commands: what a button tap, a form submission or a typed ``/approve 3`` means.

Adapters build these from structured input (Slack actions and views, Telegram callback data)
and put them on the Envelope; typed chat text is parsed into the same models. Nothing
structured is flattened into text and parsed back, so a subject typed in the edit form that
contains ``to=`` stays a subject.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal["approve", "reject"]


class EditFields(BaseModel):
    """The fields of a pending draft an operator may change; None leaves a field as it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str | None = None
    subject: str | None = None
    body: str | None = None
    # invoices only
    due: date | None = None
    rate: Decimal | None = None
    qty: Decimal | None = None
    credit: bool | None = None  # use the client's credit on it (False keeps it for later)

    def changed(self) -> list[str]:
        return [name for name, value in self if value is not None]

    def invoice_fields(self) -> dict[str, date | Decimal | bool]:
        fields = (("due", self.due), ("rate", self.rate), ("qty", self.qty), ("credit", self.credit))
        return {k: v for k, v in fields if v is not None}


class Decide(BaseModel):
    """Approve or reject approval ``approval_id``."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["decide"] = "decide"
    approval_id: int
    verdict: Verdict


class Edit(BaseModel):
    """Change fields of approval ``approval_id``'s draft before it is decided."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["edit"] = "edit"
    approval_id: int
    fields: EditFields


Command = Annotated[Decide | Edit, Field(discriminator="kind")]


class EditError(ValueError):
    """An edit that cannot be applied; the message says how to write it."""


EDIT_HELP = (
    "Edit with field=value pairs, or new text for the draft: "
    "/edit N to=jane@acme.example · /edit N subject=New subject · "
    "/edit N due=2026-12-20 · /edit N rate=100 · /edit N qty=10 · /edit N credit=no (invoices) · "
    "/edit N <the whole new text of the draft>"
)
ALLOWED_FIELDS = "to, subject, due, rate (or price), qty (or quantity, hours), credit (yes or no)"

_FIELDS = ("to", "subject", "due", "rate", "qty", "credit")
_YES = frozenset({"yes", "y", "on", "true", "use", "apply"})
_NO = frozenset({"no", "n", "off", "false", "none", "0", "keep", "later"})
_ALIASES = {"price": "rate", "quantity": "qty", "hours": "qty"}
# "name=" at the start of a word: the text is field=value pairs when it starts with one.
_PAIR = re.compile(r"(?:^|(?<=\s))([A-Za-z][\w-]*)\s*=", re.I)
_LEADING_PAIR = re.compile(r"^\s*[A-Za-z][\w-]*\s*=")


def _allowed(prefix: str) -> str:
    return f"{prefix} You can change: {ALLOWED_FIELDS}; or write the whole new text of the draft."


def _amount(name: str, value: str) -> Decimal:
    cleaned = value.replace("$", "").replace("€", "").replace("£", "").replace(",", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise EditError(f'I can\'t read "{value}" as an amount for {name}; write a number, e.g. {name}=100.')
    if amount <= 0:
        raise EditError(f"{name} must be more than zero (not {value}); write e.g. {name}=100.")
    return amount


def _due(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise EditError(
            f'I can\'t read "{value}" as a date for due; write it as year-month-day, e.g. due=2026-12-20.'
        ) from None


def parse_edit(text: str) -> EditFields:
    """Typed chat text after ``/edit N``: ``to=a@b.c subject=Hello there`` → those fields;
    anything else is the whole new text of the draft.

    Text that starts with ``name=`` is field=value pairs: an unknown name (``vat=20``) or an
    unreadable value is refused in one line that says what may be changed, rather than
    becoming the new text of the draft.
    """
    text = text.strip()
    if not text:
        raise EditError(EDIT_HELP)
    if not _LEADING_PAIR.match(text):
        return EditFields(body=text)
    parts = _PAIR.split(text)
    raw: dict[str, str] = {}
    unknown: list[str] = []
    for key, value in zip(parts[1::2], parts[2::2], strict=True):
        typed = key.strip().lower()
        name = _ALIASES.get(typed, typed)
        if name not in _FIELDS:
            unknown.append(key.strip())
            continue
        if name in raw:
            raise EditError(_allowed(f"{typed}= is given twice; give each field once."))
        value = value.strip()
        if not value:
            raise EditError(_allowed(f"{typed}= has no value."))
        raw[name] = value
    if unknown:
        names = ", ".join(f"{n}=" for n in unknown)
        raise EditError(_allowed(f"I can't change {names} — no such field."))
    fields: dict[str, object] = {k: v for k, v in raw.items() if k in ("to", "subject")}
    if "due" in raw:
        fields["due"] = _due(raw["due"])
    for name in ("rate", "qty"):
        if name in raw:
            fields[name] = _amount(name, raw[name])
    if "credit" in raw:
        said = raw["credit"].lower()
        if said not in _YES | _NO:
            raise EditError(
                f'I can\'t read "{raw["credit"]}" for credit; write credit=no to keep the credit, credit=yes to use it.'
            )
        fields["credit"] = said in _YES
    return EditFields.model_validate(fields)
