"""The model parser: structured output from the ``small`` tier, behind the parser interface.

The prompt is small on purpose (today's date and the rules); the intent schema travels as
the tool definition. When the model fails, the offline parser answers instead, so a flaky
provider never leaves the operator without a reply.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from pydantic import BaseModel

from agents.errors import AgentError
from agents.llm import ModelRunner
from graphs.intents import Intent
from graphs.parsing import IntentParser, ParseResult

log = logging.getLogger(__name__)

SYSTEM = (
    "You turn one message from a freelancer to their back-office assistant into one intent. "
    "Today is {today}. Amounts are numbers (4k = 4000); dates are ISO (YYYY-MM-DD). "
    "Use kind 'unknown' for anything that is not about their clients, invoices, payments, proposals, "
    "deliverables, tasks or business status — never guess an invoice, payment or e-mail. "
    "Leave out fields the message does not state."
)


class ParsedIntent(BaseModel):
    """The intent the message expresses."""

    intent: Intent


class ModelParser:
    name = "model"

    def __init__(self, runner: ModelRunner, fallback: IntentParser) -> None:
        self.runner = runner
        self.fallback = fallback

    def parse(self, text: str, today: date) -> ParseResult:
        try:
            parsed = self.runner.structured("small", "parse_intent", ParsedIntent,
                                            SYSTEM.format(today=today.isoformat()), text)
        except AgentError as exc:
            log.warning("model parser failed, using the offline parser: %s", exc)
            return self.fallback.parse(text, today)
        return ParseResult(intent=parsed.intent)

    def parse_field(self, field: str, text: str, today: date) -> Any:
        return self.fallback.parse_field(field, text, today)
