"""The model parser: structured output from the ``small`` tier, behind the parser interface.

Two small calls instead of one large one: first the kind (a one-field schema), then only that
kind's fields. Sending every intent's schema at once would make the tool definitions ~97% of
each prompt and grow with every new intent. When the model fails or returns something
invalid, the offline parser answers instead, so a flaky provider never leaves the operator
without a reply.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel

from agents.errors import AgentError
from agents.llm import ModelRunner
from graphs.intents import INTENT_CLASSES, INTENT_KINDS, intent_from_dict
from graphs.parsing import IntentParser, ParseResult

log = logging.getLogger(__name__)

SYSTEM = (
    "You read one message from a freelancer to their back-office assistant. Today is {today}. "
    "Use 'unknown' for anything that is not about their clients, invoices, payments, proposals, "
    "deliverables, tasks or business status — never guess an invoice, payment or e-mail. "
    "Greetings and thanks are 'small_talk'; any other question about their work is 'recall'."
)
FIELDS = (
    "Extract the {kind} the message states. Today is {today}. Amounts are numbers (4k = 4000); "
    "dates are ISO (YYYY-MM-DD). Leave out fields the message does not state."
)


class IntentKindChoice(BaseModel):
    """Which kind of request the message is."""

    kind: Literal[INTENT_KINDS]  # type: ignore[valid-type]  # built at runtime: pydantic reads it, mypy cannot


_NO_FIELDS = {"help", "unknown", "small_talk", "undo"}  # nothing to extract: the kind is the whole request
# Kinds whose only field is the message itself.
_TEXT_FIELD = {"unknown", "small_talk"}


class ModelParser:
    name = "model"

    def __init__(self, runner: ModelRunner, fallback: IntentParser) -> None:
        self.runner = runner
        self.fallback = fallback

    def parse(self, text: str, today: date, clients: Collection[str] = ()) -> ParseResult:
        try:
            choice = self.runner.structured(
                "small", "classify_intent", IntentKindChoice, SYSTEM.format(today=today.isoformat()), text
            )
            if choice.kind in _NO_FIELDS:
                data: dict[str, Any] = {"kind": choice.kind}
                if choice.kind in _TEXT_FIELD:
                    data["text"] = text
                if choice.kind == "unknown":
                    return self._read_only_reading(text, today, clients) or ParseResult(intent=intent_from_dict(data))
                return ParseResult(intent=intent_from_dict(data))
            fields = self.runner.structured(
                "small",
                "extract_intent",
                INTENT_CLASSES[choice.kind],
                FIELDS.format(kind=choice.kind.replace("_", " "), today=today.isoformat()),
                text,
            )
        except AgentError as exc:
            log.warning("model parser failed, using the offline parser: %s", exc)
            return self.fallback.parse(text, today, clients)
        return ParseResult(intent=intent_from_dict(fields.model_dump()))

    def _read_only_reading(self, text: str, today: date, clients: Collection[str]) -> ParseResult | None:
        """What the offline rules read when the model found nothing to do: a question they route
        to a report or to recall, or small talk — never a side effect the model did not see."""
        offline = self.fallback.parse(text, today, clients)
        if offline.intent.kind == "unknown" or offline.intent.has_side_effects:
            return None
        return offline

    def parse_field(self, field: str, text: str, today: date, clients: Collection[str] = ()) -> Any:
        return self.fallback.parse_field(field, text, today, clients)
