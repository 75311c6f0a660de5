"""The offline intent parser: rules only, no network, no model.

The rules live in ``graphs.offline_parsing`` (one module per job); this module is the
``IntentParser`` the rest of coo uses.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import TYPE_CHECKING, Any

from graphs.offline_parsing.classify import classify
from graphs.offline_parsing.fields import parse_field as _parse_field
from graphs.parsing import ParseResult

if TYPE_CHECKING:
    from graphs.offline_parsing.router import SemanticRouter

__all__ = ["OfflineParser"]


class OfflineParser:
    """Rule-based ``IntentParser``: fast, deterministic, and conservative about side effects."""

    name = "offline"

    def __init__(self, router: SemanticRouter | None = None) -> None:
        # With a router, a message no rule reads is classified by meaning (graphs/offline_parsing/
        # router.py); without one, it is ``unknown``. The router loads only when a rule fails.
        self.router = router

    def parse(self, text: str, today: date, clients: Collection[str] = ()) -> ParseResult:
        """Turn one operator message into a typed intent (``unknown`` when unsure)."""
        return classify(text, today, clients, self.router)

    def parse_field(self, field: str, text: str, today: date, clients: Collection[str] = ()) -> Any:
        """Read the answer to a clarifying question about ``field``; ValueError if unreadable."""
        return _parse_field(field, text, today, clients)
