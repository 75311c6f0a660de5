"""Model spend caps: what coo may spend on models per day and per month, and the price table.

What was spent is read from the ledger (every model call's ``cost_usd``), in the operator's
day and month, so a restart or a second worker never resets it. Before a model call the
runner asks whether its estimated cost still fits under both caps. When it does not, coo
falls back to a cheaper tier that fits, if the policy allows fallback (the default); the
cheapest tier is the offline one, which costs nothing. With fallback off, the call is refused
with ``SpendCapReached`` and the run pauses until the operator raises the cap.

Caps and prices come from the settings (COO_DAILY_COST_CAP, COO_MONTHLY_COST_CAP,
COO_MODEL_PRICES) and can be changed from chat (`/policy cap daily 5`, `/policy price gpt-4o
2.5/10`); a value set in chat wins over the environment's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from typing import Any

from agents.errors import AgentError
from store.autonomy_rules import AutonomyRules
from store.clock import Clock
from store.db import Database

CAP_KEYS = {"daily": "cap.daily", "monthly": "cap.monthly"}
FALLBACK_KEY = "cap.fallback"
PRICE_PREFIX = "price."
# A call's completion is not known before it is made: this many tokens are assumed.
ESTIMATED_COMPLETION_TOKENS = 400

# USD per million tokens (prompt, completion). Unknown models are recorded with cost 0 and
# ``priced: false`` so the operator can see the figure is missing rather than free.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "claude-3-5-haiku-latest": (0.80, 4.00),
    "claude-sonnet-4-5": (3.00, 15.00),
}


class SpendCapReached(AgentError):
    """A model call would take spending over a cap, and no cheaper tier may take it."""

    def __init__(self, message: str, period: str, cap: float, spent: float) -> None:
        super().__init__(message)
        self.period, self.cap, self.spent = period, cap, spent


def parse_prices(text: str) -> dict[str, tuple[float, float]]:
    """``model=in/out,model=in/out`` (USD per million tokens) → {model: (in, out)}."""
    prices: dict[str, tuple[float, float]] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        model, sep, pair = part.partition("=")
        given, slash, taken = pair.partition("/")
        if not sep or not slash or not model.strip():
            raise ValueError(f"expected model=IN/OUT (USD per million tokens), got {part.strip()!r}")
        prices[model.strip()] = (float(given), float(taken))
    return prices


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "off", "none") else None
    except ValueError:
        return None


class Budget:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        rules: AutonomyRules,
        *,
        daily: float | None = None,
        monthly: float | None = None,
        prices: dict[str, tuple[float, float]] | None = None,
    ) -> None:
        self.db, self.clock, self.rules = db, clock, rules
        self.defaults = {"daily": daily or None, "monthly": monthly or None}
        self.env_prices = prices or {}

    def caps(self) -> dict[str, float | None]:
        """period → cap in USD (None: no cap); a cap set in chat wins over the environment's."""
        caps: dict[str, float | None] = {}
        for period, key in CAP_KEYS.items():
            chat = self.rules.setting(key)
            caps[period] = _float(chat) if chat is not None else self.defaults[period]
        return caps

    def fallback_allowed(self) -> bool:
        return (self.rules.setting(FALLBACK_KEY) or "on") != "off"

    def price(self, model: str) -> tuple[float, float] | None:
        """(prompt, completion) USD per million tokens: chat override, then COO_MODEL_PRICES, then built in."""
        override = self.rules.setting(PRICE_PREFIX + model)
        if override:
            given, _, taken = override.partition("/")
            return float(given), float(taken)
        return self.env_prices.get(model) or PRICES.get(model)

    def prices(self) -> dict[str, tuple[float, float]]:
        table = {**PRICES, **self.env_prices}
        for key, value in self.rules.settings(PRICE_PREFIX).items():
            given, _, taken = value.partition("/")
            table[key.removeprefix(PRICE_PREFIX)] = (float(given), float(taken))
        return table

    def period_start(self, period: str) -> datetime:
        today = self.clock.today()
        first = today if period == "daily" else today.replace(day=1)
        return datetime.combine(first, time(0), tzinfo=self.clock.tz).astimezone(UTC)

    def spent(self, period: str) -> float:
        rows = self.db.fetchall(
            "SELECT payload FROM ledger WHERE kind = 'model_call' AND created_at >= ?", (self.period_start(period),)
        )
        total = 0.0
        for row in rows:
            payload: Any = row["payload"]
            call = payload if isinstance(payload, dict) else json.loads(payload or "{}")
            total += float(call.get("cost_usd") or 0)
        return total

    def estimate(self, model: str, prompt: str) -> float:
        price = self.price(model)
        if price is None:
            return 0.0
        return (len(prompt) / 4 * price[0] + ESTIMATED_COMPLETION_TOKENS * price[1]) / 1e6

    def over(self, estimate: float) -> tuple[str, float, float] | None:
        """(period, cap, spent) of the first cap this call would exceed; None when it fits."""
        for period, cap in self.caps().items():
            if cap is None:
                continue
            spent = self.spent(period)
            if spent + estimate > cap:
                return period, cap, spent
        return None
