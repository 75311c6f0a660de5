"""How coo is doing, read from the ledger and the tables beside it: the one source of every figure
that `GET /metrics`, `/dashboard` and `coo costs` show, so they always agree with the ledger.

Nothing here is counted in memory: a restart loses no figure, and a worker's work counts the
same as the web process's. A model call is booked to the agent that leads its run (the run's
``planned`` event); calls made before a run is planned (reading the message) go to the run's
lead too, and calls of runs never planned are the ``router``'s.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from store import aggregates
from store.aggregates import ROUTER, DecisionGroup
from store.clock import Clock
from store.db import Database


class ModelUse(BaseModel):
    """Model calls of one day, tier, agent and model."""

    day: date
    tier: str
    agent: str
    model: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0  # calls of a model without a price: their cost is unknown, not zero


class Decision(BaseModel):
    """One approval the operator (or an autonomy policy) decided."""

    approval_id: int
    agent: str
    action: str
    client_id: int | None
    decision: str  # approved | rejected
    via: str  # the channel, or "autonomy"
    edited: bool
    seconds: float


class Figures(BaseModel):
    runs: dict[str, dict[str, int]]  # kind → status → runs
    approvals_waiting: int
    decisions: list[DecisionGroup]  # decided approvals, grouped (store.aggregates)
    side_effects: dict[str, dict[str, int]]  # action → outcome (done, failed, sending) → count
    send_retries: int  # automatic and operator attempts after a send's first
    job_retries: dict[str, int] = {}  # job (run_intent, process_inbox, run_tick, …) → retries the queue ran
    delivery_failures: dict[str, int]  # chat platform → messages it did not take
    model: list[ModelUse]

    # -- the derived figures the dashboard and `coo costs` show -------------------------------

    def runs_total(self, status: str | None = None) -> int:
        return sum(n for by in self.runs.values() for s, n in by.items() if status is None or s == status)

    @property
    def finished(self) -> int:
        return sum(self.runs_total(s) for s in ("done", "failed", "sent_uncertain", "rejected", "cancelled"))

    @property
    def error_rate(self) -> float:
        """Runs that failed or may not have done their side effect, of the finished ones."""
        bad = self.runs_total("failed") + self.runs_total("sent_uncertain")
        return bad / self.finished if self.finished else 0.0

    @property
    def cost_usd(self) -> float:
        return sum(use.cost_usd for use in self.model)

    @property
    def cost_per_completed_task(self) -> float | None:
        done = self.runs_total("done")
        return self.cost_usd / done if done else None

    @property
    def human_decision_seconds(self) -> float | None:
        """Average time the operator took to decide (autonomy's own decisions left out)."""
        human = [d for d in self.decisions if not d.autonomy]
        count = sum(d.count for d in human)
        return sum(d.seconds for d in human) / count if count else None

    def cost_by_day(self) -> dict[date, dict[str, float]]:
        """Day → "tier/agent" → USD."""
        days: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for use in self.model:
            days[use.day][f"{use.tier}/{use.agent}"] += use.cost_usd
        return {day: dict(by) for day, by in sorted(days.items())}

    def approval_rates(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(agent, level) → (approved, decided); the level is "auto" when autonomy decided it."""
        rates: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for d in self.decisions:
            key = (d.agent, "auto" if d.autonomy else "ask")
            rates[key][1] += d.count
            rates[key][0] += d.count if d.decision == "approved" else 0
        return {key: (a, n) for key, (a, n) in sorted(rates.items())}


def _payload(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return dict(json.loads(value)) if value else {}


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class Observability:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def run_agents(self) -> dict[str, str]:
        """Run id → the agent that leads it (from the run's ``planned`` event)."""
        rows = self.db.fetchall("SELECT run_id, payload FROM ledger WHERE kind = 'planned'")
        return {r["run_id"]: str(_payload(r["payload"]).get("agent") or ROUTER) for r in rows}

    def runs_with_agents(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Runs created since ``since`` (and every open one), each with its lead agent."""
        return aggregates.runs_with_agents(self.db, since)

    def run_agent(self, run_id: str) -> str:
        row = self.db.fetchone("SELECT payload FROM ledger WHERE run_id = ? AND kind = 'planned'", (run_id,))
        return str(_payload(row["payload"]).get("agent") or ROUTER) if row else ROUTER

    def model_use(self, since: datetime | None = None) -> list[ModelUse]:
        """Model calls per local day, tier, agent and model, summed by the database."""
        rows = aggregates.model_use_rows(self.db, self.clock.tz.key, since)
        uses = [
            ModelUse(
                day=r["day"],
                tier=str(r["tier"]),
                agent=str(r["agent"]),
                model=str(r["model"]),
                calls=int(r["calls"]),
                prompt_tokens=int(r["prompt_tokens"] or 0),
                completion_tokens=int(r["completion_tokens"] or 0),
                cost_usd=float(r["cost_usd"] or 0),
                unpriced_calls=int(r["unpriced_calls"] or 0),
            )
            for r in rows
        ]
        return sorted(uses, key=lambda u: (u.day, u.tier, u.agent, u.model))

    def decisions(self, agents: dict[str, str] | None = None) -> list[Decision]:
        agents = self.run_agents() if agents is None else agents
        edited = {
            int(_payload(r["payload"]).get("approval_id") or 0)
            for r in self.db.fetchall("SELECT payload FROM ledger WHERE kind = 'approval_edited'")
        }
        rows = self.db.fetchall(
            "SELECT id, run_id, action, card, status, decided_via, asked_at, decided_at FROM approvals"
            " WHERE status IN ('approved', 'rejected') AND decided_at IS NOT NULL ORDER BY id"
        )
        return [
            Decision(
                approval_id=r["id"],
                agent=agents.get(r["run_id"], ROUTER),
                action=r["action"],
                client_id=_payload(r["card"]).get("client_id"),
                decision=r["status"],
                via=r["decided_via"] or "?",
                edited=r["id"] in edited,
                seconds=max(0.0, (_time(r["decided_at"]) - _time(r["asked_at"])).total_seconds()),
            )
            for r in rows
        ]

    def figures(self) -> Figures:
        """Every figure, each from one aggregate query (store.aggregates): a request reads a few
        grouped rows, not the ledger."""
        runs: dict[str, dict[str, int]] = defaultdict(dict)
        for r in self.db.fetchall("SELECT kind, status, COUNT(*) AS n FROM runs GROUP BY kind, status"):
            runs[r["kind"]][r["status"]] = int(r["n"])
        effects: dict[str, dict[str, int]] = defaultdict(dict)
        for r in self.db.fetchall("SELECT kind, status, COUNT(*) AS n FROM side_effects GROUP BY kind, status"):
            effects[r["kind"]][r["status"]] = int(r["n"])
        failures = {
            r["platform"]: int(r["n"])
            for r in self.db.fetchall(
                "SELECT platform, COUNT(*) AS n FROM deliveries WHERE status = 'failed' GROUP BY platform"
            )
        }
        waiting = int(self.db.scalar("SELECT COUNT(*) AS n FROM approvals WHERE status = 'pending'") or 0)
        return Figures(
            runs=dict(runs),
            approvals_waiting=waiting,
            decisions=aggregates.decision_groups(self.db),
            side_effects=dict(effects),
            send_retries=aggregates.send_retries(self.db),
            job_retries=aggregates.job_retries(self.db),
            delivery_failures=failures,
            model=self.model_use(),
        )
