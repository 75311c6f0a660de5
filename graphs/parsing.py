"""The one interface every intent parser (offline rules, model tier) implements."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from graphs.intents import Intent


class FieldProblem(BaseModel):
    """A value the user gave that could not be read; becomes a clarifying question."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    field: str
    text: str
    message: str  # written for the operator, e.g. 'I can't read "$4,0000" as an amount.'


class ParseResult(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    intent: Intent
    problems: list[FieldProblem] = Field(default_factory=list)


class IntentParser(Protocol):
    """Turns one operator message into a typed intent. Never performs side effects."""

    name: str

    def parse(self, text: str, today: date, clients: Collection[str] = ()) -> ParseResult:
        """Read ``text`` as of ``today``. ``clients`` are the operator's client names: a real
        company among them ("Google", "PayPal") is a client wherever it is named; one that is
        not stays the operator's own business ("paid via PayPal")."""
        ...

    def parse_field(self, field: str, text: str, today: date, clients: Collection[str] = ()) -> Any:
        """Read the answer to a clarifying question about one field.

        Returns the value (already typed for the intent's field) or raises ``ValueError``
        with an operator-facing message when the answer can't be read.
        """
        ...
