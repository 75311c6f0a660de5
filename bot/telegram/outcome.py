"""What became of one webhook update, told by the handlers to the endpoint that awaits them.

python-telegram-bot hands handler errors to its error handlers instead of raising them, so
the webhook endpoint sets an outcome for the update it processes (a context variable: the
handlers run in the endpoint's task) and answers 503 when the input could not be saved.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class UpdateOutcome:
    unsaved: bool = False


current_update: ContextVar[UpdateOutcome | None] = ContextVar("current_update", default=None)
