"""Soft SLAs per category of work: how long a piece of work may take from the request to done.

Defaults: billing within 1 hour, client e-mail replies within 1 business day, marketing drafts
(proposals) within 3 days; the operator changes them with `/policy sla CATEGORY 2h|1bd|3d`. A
run's category is the agent that leads it. A breach — a run still open past its deadline, or
finished after it — is flagged once in the run's thread (and in the ledger) and listed in the
digest. The SLAs are soft: nothing is blocked or hurried by them.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from store.facade import Store

SLA_PREFIX = "sla."
DEFAULT_SLAS: dict[str, str] = {"billing": "1h", "client_email": "1bd", "marketing": "3d"}
CATEGORY_AGENTS: dict[str, tuple[str, ...]] = {
    "billing": ("invoicer", "collector"),
    "client_email": ("email_responder",),
    "marketing": ("proposal_drafter",),
}
LABELS = {"billing": "billing", "client_email": "client e-mail replies", "marketing": "marketing drafts"}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|min|h|d|bd)$")
_OPEN = ("queued", "running", "waiting_approval", "resuming", "paused")


class Breach(BaseModel):
    run_id: str
    kind: str
    category: str
    sla: str
    started: datetime
    deadline: datetime
    finished: datetime | None  # None: still open


def parse_duration(text: str) -> str:
    """'90m', '2h', '3d', '1bd' (business days) → the same, normalised; ValueError otherwise."""
    found = _DURATION.match(text.strip().lower())
    if not found or float(found.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration: write 90m, 2h, 3d or 1bd (business days)")
    unit = "m" if found.group(2) in ("m", "min") else found.group(2)
    return f"{found.group(1)}{unit}"


def deadline(start: datetime, sla: str, tz: Any) -> datetime:
    found = _DURATION.match(sla)
    assert found is not None
    amount, unit = float(found.group(1)), found.group(2)
    if unit == "bd":
        # Business days: the same local time that many weekdays later (Saturday and Sunday skipped).
        local = start.astimezone(tz)
        days = int(amount)
        while days > 0:
            local += timedelta(days=1)
            if local.weekday() < 5:
                days -= 1
        return local.astimezone(start.tzinfo)
    scale = {"m": 60, "h": 3600, "d": 86400}[unit]
    return start + timedelta(seconds=amount * scale)


def slas(store: Store) -> dict[str, str]:
    chosen = dict(DEFAULT_SLAS)
    for key, value in store.autonomy_rules.settings(SLA_PREFIX).items():
        chosen[key.removeprefix(SLA_PREFIX)] = value
    return chosen


def category_of(agent: str) -> str | None:
    return next((c for c, agents in CATEGORY_AGENTS.items() if agent in agents), None)


def breaches(store: Store, since: datetime | None = None) -> list[Breach]:
    """Runs that took (or are taking) longer than their category's SLA."""
    now = store.clock.now()
    chosen = slas(store)
    found: list[Breach] = []
    for row in store.observability.runs_with_agents(since):
        category = category_of(str(row["agent"]))
        if category is None or row["status"] in ("rejected", "cancelled"):
            continue
        started = _time(row["created_at"])
        due = deadline(started, chosen[category], store.clock.tz)
        finished = _time(row["finished_at"]) if row["finished_at"] and row["status"] not in _OPEN else None
        if (finished or now) > due:
            found.append(
                Breach(
                    run_id=row["id"],
                    kind=row["kind"],
                    category=category,
                    sla=chosen[category],
                    started=started,
                    deadline=due,
                    finished=finished,
                )
            )
    return found


def run_breached(store: Store, run_id: str, agent: str | None = None) -> bool:
    """Whether this run, finishing now, took longer than its category's SLA. ``agent``: the run's
    lead agent when the caller knows it (else read from its ``planned`` event)."""
    category = category_of(agent if agent is not None else store.observability.run_agent(run_id))
    if category is None:
        return False
    run = store.runs.get(run_id)
    return store.clock.now() > deadline(run.created_at, slas(store)[category], store.clock.tz)


def _time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def describe(store: Store, breach: Breach) -> str:
    end = breach.finished or store.clock.now()
    took = end - breach.started
    hours = took.total_seconds() / 3600
    span = f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"
    state = "took" if breach.finished else "has been open for"
    return f"{LABELS[breach.category]} run {breach.run_id} ({breach.kind}) {state} {span}; the SLA is {breach.sla}"


def flag_breaches(store: Store, since: datetime | None = None) -> list[Breach]:
    """Say each breach once in its run's thread, and record it in the ledger."""
    found = breaches(store, since)
    for breach in found:
        if not store.ledger.append(
            breach.run_id, "sla", "sla_breached", json.loads(breach.model_dump_json()), actor="coo"
        ):
            continue  # already flagged
        run = store.runs.get(breach.run_id)
        store.conversations.post(
            run.channel,
            run.thread_id,
            f"⏱ SLA breach: {describe(store, breach)}. (/policy sla {breach.category} DURATION changes it.)",
            run_id=run.id,
            dedupe=f"{run.id}:sla-breach",
        )
    return found
