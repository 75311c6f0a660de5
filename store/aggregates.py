"""The figures of `/metrics`, `/dashboard` and `coo costs` as SQL aggregates: each request asks
the database for a handful of grouped rows (by day, tier, agent, outcome…) instead of reading
every ledger event into the process. The ledger stays the one source: these are the same sums,
done where the rows are, through the ``ledger_kind_created`` and ``ledger_run`` indexes.

The SQL differs by dialect in three places only: reading a JSON field, a timestamp's local day
(PostgreSQL's ``AT TIME ZONE``; on SQLite the ``coo_local_day`` function store.db registers),
and the seconds between two timestamps.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from store.db import Database

ROUTER = "router"  # the agent of model calls made for runs that were never planned


class DecisionGroup(BaseModel):
    """Decided approvals of one agent, decided by autonomy or not, one decision, edited or not."""

    agent: str
    autonomy: bool
    decision: str  # approved | rejected
    edited: bool
    count: int
    seconds: float  # the sum of the time from card to decision


class _Sql:
    def __init__(self, db: Database) -> None:
        self.pg = db.dialect == "postgres"

    def text(self, column: str, key: str) -> str:
        return f"({column}->>'{key}')" if self.pg else f"json_extract({column}, '$.{key}')"

    def number(self, column: str, key: str) -> str:
        return f"CAST({column}->>'{key}' AS DOUBLE PRECISION)" if self.pg else f"json_extract({column}, '$.{key}')"

    def false(self, column: str, key: str) -> str:
        """The JSON field is ``false`` (absent or anything else is not)."""
        return f"({column}->>'{key}') = 'false'" if self.pg else f"json_type({column}, '$.{key}') = 'false'"

    def true(self, column: str, key: str) -> str:
        return f"({column}->>'{key}') = 'true'" if self.pg else f"json_type({column}, '$.{key}') = 'true'"

    def day(self, column: str) -> str:
        return f"CAST(({column} AT TIME ZONE ?) AS DATE)" if self.pg else f"coo_local_day({column}, ?)"

    def seconds(self, start: str, end: str) -> str:
        if self.pg:
            return f"EXTRACT(EPOCH FROM ({end} - {start}))"
        return f"(julianday({end}) - julianday({start})) * 86400.0"


def _agent(sql: _Sql) -> str:
    """The lead agent of the row's run, from its ``planned`` event (joined as ``p``)."""
    return f"COALESCE({sql.text('p.payload', 'agent')}, '{ROUTER}')"


def model_use_rows(db: Database, tz: str, since: datetime | None = None) -> list[dict[str, Any]]:
    """Model calls summed per local day, tier, agent and model."""
    sql = _Sql(db)
    day, tier, model = sql.day("m.created_at"), sql.text("m.payload", "tier"), sql.text("m.payload", "model")
    unpriced = (
        f"CASE WHEN {sql.false('m.payload', 'priced')} AND NOT {sql.true('m.payload', 'cached')} THEN 1 ELSE 0 END"
    )
    where = "m.kind = 'model_call'" + (" AND m.created_at >= ?" if since is not None else "")
    params: tuple[Any, ...] = (tz, since) if since is not None else (tz,)
    query = f"""
        SELECT {day} AS day, COALESCE({tier}, '') AS tier, {_agent(sql)} AS agent, COALESCE({model}, '') AS model,
               COUNT(*) AS calls,
               SUM(COALESCE({sql.number("m.payload", "prompt_tokens")}, 0)) AS prompt_tokens,
               SUM(COALESCE({sql.number("m.payload", "completion_tokens")}, 0)) AS completion_tokens,
               SUM(COALESCE({sql.number("m.payload", "cost_usd")}, 0)) AS cost_usd,
               SUM({unpriced}) AS unpriced_calls
        FROM ledger m LEFT JOIN ledger p ON p.run_id = m.run_id AND p.kind = 'planned'
        WHERE {where}
        GROUP BY 1, 2, 3, 4
    """
    rows = db.fetchall(query, params)
    for row in rows:
        day_value = row["day"]
        row["day"] = day_value if isinstance(day_value, date) else date.fromisoformat(str(day_value))
        row["tier"], row["model"] = row["tier"] or "?", row["model"] or "?"  # "?" can't be in the SQL
    return rows


def decision_groups(db: Database) -> list[DecisionGroup]:
    """Decided approvals, grouped; ``edited`` when the run's ledger has an edit of that approval."""
    sql = _Sql(db)
    edited = (
        "EXISTS (SELECT 1 FROM ledger e WHERE e.run_id = a.run_id AND e.kind = 'approval_edited'"
        f" AND CAST({sql.text('e.payload', 'approval_id')} AS INTEGER) = a.id)"
    )
    query = f"""
        SELECT agent, autonomy, decision, edited, COUNT(*) AS n, SUM(seconds) AS seconds FROM (
            SELECT {_agent(sql)} AS agent,
                   CASE WHEN a.decided_via = 'autonomy' THEN 1 ELSE 0 END AS autonomy,
                   a.status AS decision,
                   CASE WHEN {edited} THEN 1 ELSE 0 END AS edited,
                   CASE WHEN {sql.seconds("a.asked_at", "a.decided_at")} > 0
                        THEN {sql.seconds("a.asked_at", "a.decided_at")} ELSE 0 END AS seconds
            FROM approvals a LEFT JOIN ledger p ON p.run_id = a.run_id AND p.kind = 'planned'
            WHERE a.status IN ('approved', 'rejected') AND a.decided_at IS NOT NULL
        ) decided
        GROUP BY agent, autonomy, decision, edited
        ORDER BY agent, autonomy, decision, edited
    """
    return [
        DecisionGroup(
            agent=str(r["agent"]),
            autonomy=bool(r["autonomy"]),
            decision=str(r["decision"]),
            edited=bool(r["edited"]),
            count=int(r["n"]),
            seconds=round(float(r["seconds"] or 0), 3),  # SQLite's julianday: sub-millisecond noise
        )
        for r in db.fetchall(query)
    ]


def send_retries(db: Database) -> int:
    """Send attempts after the first (scheduled retries and /resend)."""
    sql = _Sql(db)
    return int(
        db.scalar(
            "SELECT COUNT(*) AS n FROM ledger WHERE kind IN ('side_effect', 'side_effect_failed')"
            f" AND COALESCE({sql.number('payload', 'attempt')}, 1) > 1"
        )
        or 0
    )


def job_retries(db: Database) -> dict[str, int]:
    """Retries the queue ran, per job: each job's highest recorded attempt less one (an attempt
    that could not record itself, the database being down, still counts)."""
    sql = _Sql(db)
    job, job_id, attempt = (
        sql.text("payload", "job"),
        sql.text("payload", "job_id"),
        sql.number("payload", "attempt"),
    )
    rows = db.fetchall(
        f"SELECT job, SUM(highest - 1) AS n FROM (SELECT {job} AS job, MAX(COALESCE({attempt}, 1)) AS highest"
        f" FROM ledger WHERE kind = 'job_retry' GROUP BY {job}, {job_id}) attempts GROUP BY job ORDER BY job"
    )
    return {str(r["job"]): int(r["n"]) for r in rows}


def runs_with_agents(db: Database, since: datetime | None = None) -> list[dict[str, Any]]:
    """Runs (those created since ``since``, and every open one) with the agent that leads each,
    joined in the database instead of reading every ``planned`` event."""
    sql = _Sql(db)
    query = (
        f"SELECT r.id, r.kind, r.status, r.created_at, r.finished_at, {_agent(sql)} AS agent"
        " FROM runs r LEFT JOIN ledger p ON p.run_id = r.id AND p.kind = 'planned'"
    )
    params: tuple[Any, ...] = ()
    if since is not None:
        query += " WHERE r.created_at >= ? OR r.finished_at IS NULL"
        params = (since,)
    return db.fetchall(query, params)
