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

    def changed(self) -> list[str]:
        return [name for name, value in self if value is not None]

    def invoice_fields(self) -> dict[str, date | Decimal]:
        return {k: v for k, v in (("due", self.due), ("rate", self.rate), ("qty", self.qty)) if v is not None}


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
    "/edit N due=2026-12-20 · /edit N rate=100 · /edit N qty=10 (invoices) · "
    "/edit N <the whole new text of the draft>"
)

_PAIR = re.compile(r"(\b(?:to|subject|due|rate|price|qty|quantity|hours)\s*=\s*)", re.I)
_ALIASES = {"price": "rate", "quantity": "qty", "hours": "qty"}


def _amount(name: str, value: str) -> Decimal:
    try:
        amount = Decimal(value.replace("$", "").replace(",", "").strip())
    except InvalidOperation as exc:
        raise EditError(f"I can't read {name}={value}. {EDIT_HELP}") from exc
    if amount <= 0:
        raise EditError(f"{value} must be more than zero.")
    return amount


def parse_edit(text: str) -> EditFields:
    """Typed chat text after ``/edit N``: ``to=a@b.c subject=Hello there`` → those fields;
    anything else is the whole new text of the draft."""
    text = text.strip()
    if not text:
        raise EditError(EDIT_HELP)
    parts = _PAIR.split(text)
    if len(parts) == 1 or parts[0].strip():
        return EditFields(body=text)
    raw: dict[str, str] = {}
    for key, value in zip(parts[1::2], parts[2::2], strict=True):
        name = key.strip().rstrip("=").strip().lower()
        raw[_ALIASES.get(name, name)] = value.strip()
    fields: dict[str, object] = {k: v for k, v in raw.items() if k in ("to", "subject")}
    if "due" in raw:
        try:
            fields["due"] = date.fromisoformat(raw["due"])
        except ValueError as exc:
            raise EditError(f"I can't read that edit ({exc}). {EDIT_HELP}") from exc
    for name in ("rate", "qty"):
        if name in raw:
            fields[name] = _amount(name, raw[name])
    return EditFields.model_validate(fields)
