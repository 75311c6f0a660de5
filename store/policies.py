"""Per-agent policies the operator sets in chat: how much an agent may do on its own.

Autonomy is "ask" (every side effect waits for approval; the default) or "auto" (routine
side effects of that agent go out without a card; anything unusual still asks). Only the
operator's own command writes here: nothing parsed from e-mails or client text reaches it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from store.clock import Clock
from store.db import Database
from store.models import UtcDateTime, _Row

Autonomy = Literal["ask", "auto"]
AUTONOMY_LEVELS: tuple[str, ...] = ("ask", "auto")
DEFAULT_AUTONOMY: Autonomy = "ask"


class Policy(_Row):
    agent: str
    autonomy: str
    set_by: str
    set_via: str
    set_at: UtcDateTime


class AutonomyChange(BaseModel):
    agent: str
    before: str
    after: str


class Policies:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def autonomy(self, agent: str) -> str:
        """The agent's autonomy level ("ask" unless the operator raised it)."""
        value = self.db.scalar("SELECT autonomy FROM agent_policies WHERE agent = ?", (agent,))
        return str(value) if value else DEFAULT_AUTONOMY

    def set_autonomy(self, agent: str, level: str, by: str, via: str) -> AutonomyChange:
        if level not in AUTONOMY_LEVELS:
            raise ValueError(f"autonomy is one of {', '.join(AUTONOMY_LEVELS)}, not {level!r}")
        with self.db.transaction() as tx:
            before = tx.scalar("SELECT autonomy FROM agent_policies WHERE agent = ?", (agent,)) or DEFAULT_AUTONOMY
            tx.execute("DELETE FROM agent_policies WHERE agent = ?", (agent,))
            tx.execute(
                "INSERT INTO agent_policies (agent, autonomy, set_by, set_via, set_at) VALUES (?, ?, ?, ?, ?)",
                (agent, level, by, via, self.clock.now()),
            )
        return AutonomyChange(agent=agent, before=str(before), after=level)

    def all(self) -> list[Policy]:
        return [Policy.model_validate(r) for r in self.db.fetchall("SELECT * FROM agent_policies ORDER BY agent")]
