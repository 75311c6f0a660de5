"""Autonomy per agent and kind of work (and, where it matters, per client), with its limits; and
the policy settings the operator changes from chat (caps, SLAs, prices, the streak length).

Levels: ``ask`` (every side effect waits), ``ask-external`` (internal bookkeeping runs on its
own; anything leaving the system waits), ``auto`` (goes out without a card, within the limits:
an amount ceiling in one currency, and only to addresses already known for the client). The
default is ``ask``. Only the operator's own command writes here (a ledger event records each
change); nothing read from e-mails, client messages or CSV files reaches these methods.
"""

from __future__ import annotations

from pydantic import BaseModel

from store.clock import Clock
from store.db import Database
from store.models import UtcDateTime, _Row

LEVELS: tuple[str, ...] = ("ask", "ask-external", "auto")
DEFAULT_LEVEL = "ask"
ANY_CLIENT = 0  # a rule for every client of the agent's kind of work


class AutonomyRule(_Row):
    agent: str
    kind: str
    client_id: int = ANY_CLIENT
    level: str
    max_cents: int | None = None
    currency: str | None = None
    known_only: bool = True
    set_by: str
    set_via: str
    set_at: UtcDateTime


class RuleChange(BaseModel):
    agent: str
    kind: str
    client_id: int
    before: str
    after: str
    max_cents: int | None = None
    currency: str | None = None
    known_only: bool = True


class PolicySetting(_Row):
    key: str
    value: str
    set_by: str
    set_at: UtcDateTime


class AutonomyRules:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def rule(self, agent: str, kind: str, client_id: int | None) -> AutonomyRule | None:
        """The rule for this client if there is one, else the agent's rule for every client."""
        rows = self.db.fetchall(
            "SELECT * FROM autonomy_rules WHERE agent = ? AND kind = ? AND client_id IN (?, ?) ORDER BY client_id DESC",
            (agent, kind, client_id or ANY_CLIENT, ANY_CLIENT),
        )
        return AutonomyRule.model_validate(rows[0]) if rows else None

    def level(self, agent: str, kind: str, client_id: int | None) -> str:
        found = self.rule(agent, kind, client_id)
        return found.level if found else DEFAULT_LEVEL

    def set(
        self,
        agent: str,
        kind: str,
        client_id: int | None,
        level: str,
        *,
        by: str,
        via: str,
        max_cents: int | None = None,
        currency: str | None = None,
        known_only: bool = True,
    ) -> RuleChange:
        if level not in LEVELS:
            raise ValueError(f"autonomy is one of {', '.join(LEVELS)}, not {level!r}")
        client = client_id or ANY_CLIENT
        with self.db.transaction() as tx:
            before = tx.scalar(
                "SELECT level FROM autonomy_rules WHERE agent = ? AND kind = ? AND client_id = ?",
                (agent, kind, client),
            )
            tx.execute(
                "DELETE FROM autonomy_rules WHERE agent = ? AND kind = ? AND client_id = ?", (agent, kind, client)
            )
            tx.execute(
                "INSERT INTO autonomy_rules (agent, kind, client_id, level, max_cents, currency, known_only,"
                " set_by, set_via, set_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (agent, kind, client, level, max_cents, currency, 1 if known_only else 0, by, via, self.clock.now()),
            )
        return RuleChange(
            agent=agent,
            kind=kind,
            client_id=client,
            before=str(before or DEFAULT_LEVEL),
            after=level,
            max_cents=max_cents,
            currency=currency,
            known_only=known_only,
        )

    def all(self) -> list[AutonomyRule]:
        rows = self.db.fetchall("SELECT * FROM autonomy_rules ORDER BY agent, kind, client_id")
        return [AutonomyRule.model_validate(r) for r in rows]

    # -- policy settings (key → value) ---------------------------------------------------

    def setting(self, key: str) -> str | None:
        value = self.db.scalar("SELECT value FROM policy_settings WHERE key = ?", (key,))
        return None if value is None else str(value)

    def settings(self, prefix: str = "") -> dict[str, str]:
        rows = self.db.fetchall("SELECT key, value FROM policy_settings WHERE key LIKE ?", (prefix + "%",))
        return {r["key"]: str(r["value"]) for r in rows}

    def put_setting(self, key: str, value: str, by: str) -> str | None:
        """Set ``key``; returns the value it had."""
        with self.db.transaction() as tx:
            before = tx.scalar("SELECT value FROM policy_settings WHERE key = ?", (key,))
            tx.execute("DELETE FROM policy_settings WHERE key = ?", (key,))
            tx.execute(
                "INSERT INTO policy_settings (key, value, set_by, set_at) VALUES (?, ?, ?, ?)",
                (key, value, by, self.clock.now()),
            )
        return None if before is None else str(before)
