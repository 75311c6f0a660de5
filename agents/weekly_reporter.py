"""Weekly reporter: the client's report for one ISO week, built from the store.

What was delivered this week, what is due next week, deliverables against this month's
plan, and revision rounds used of the limit (as recorded by store/revisions.py: only what
coo was told about is reported, so the client never reads a number coo made up).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel

from agents.letters import greeting_for
from store.facade import Store
from store.models import Client, Deliverable, Retainer
from store.revisions import GENERAL, deliverable_key

KIND = "weekly_report"
DEFAULT_WEEKDAY = 5  # ISO weekday: Friday


class ReportDue(BaseModel):
    retainer: Retainer
    client: Client
    week_start: date

    @property
    def period(self) -> str:
        return week_label(self.week_start)

    @property
    def key(self) -> str:
        return report_key(self.retainer.id, self.week_start)


class WeeklyReport(BaseModel):
    subject: str
    body: str
    details: list[str]  # approval-card lines for the operator
    delivered: int
    due_next_week: int
    late: int


def week_start(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def report_key(retainer_id: int, day: date) -> str:
    """The idempotency key of a retainer's report for the ISO week of ``day``."""
    return f"{KIND}:{retainer_id}:{week_label(day)}"


def due_for_report(store: Store, day: date, weekday: int = DEFAULT_WEEKDAY) -> list[ReportDue]:
    """Retainers whose report for ``day``'s week is due: on the report weekday, or later that
    week when the day was missed; a retainer signed after that week's report day waits."""
    if day.isoweekday() < weekday:
        return []
    start = week_start(day)
    report_day = start + timedelta(days=weekday - 1)
    due = []
    for retainer in store.work.active_retainers():
        if store.clock.local(retainer.created_at).date() > report_day:
            continue
        if not retainer.bills_on(report_day):  # no reports for a retainer that ended or is paused
            continue
        due.append(ReportDue(retainer=retainer, client=store.clients.get(retainer.client_id), week_start=start))
    return due


def _when(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


def _span(start: date) -> str:
    end = start + timedelta(days=6)
    first = f"{start.day} {start:%B}" if start.month != end.month else str(start.day)
    return f"{first}–{end.day} {end:%B %Y}"


def _done_between(store: Store, d: Deliverable, start: date, end: date) -> bool:
    """Delivered within [start, end) in the operator's local dates (done_at is stored in UTC)."""
    if d.status != "done" or d.done_at is None:
        return False
    lo = datetime.combine(start, time.min, tzinfo=store.clock.tz).astimezone(UTC)
    hi = datetime.combine(end, time.min, tzinfo=store.clock.tz).astimezone(UTC)
    return lo <= d.done_at < hi


def _revision_lines(
    store: Store, client: Client, retainer: Retainer, current: list[Deliverable], start: date, end: date
) -> list[str]:
    """Rounds used of the limit, for the deliverables in play this week (rounds are counted per
    deliverable by store/revisions.py; only what was recorded is reported)."""
    limit = client.revision_limit if client.revision_limit is not None else retainer.revision_rounds
    lo = datetime.combine(start, time.min, tzinfo=store.clock.tz).astimezone(UTC)
    hi = datetime.combine(end, time.min, tzinfo=store.clock.tz).astimezone(UTC)
    in_play = {deliverable_key(d.title): d.title for d in current}
    used: dict[str, int] = {}
    for r in store.revisions.for_client(client.id):
        if r.deliverable in in_play or lo <= r.created_at < hi:
            used[r.deliverable] = max(used.get(r.deliverable, 0), r.round)
    if not used:
        if limit is None:
            return []
        return [f"No revision rounds were requested this week ({limit} included per deliverable)."]
    of = f" of {limit}" if limit is not None else ""
    lines = ["Revision rounds used:"]
    for key, rounds in used.items():
        name = in_play.get(key, "general requests" if key == GENERAL else key)
        over = " (beyond the agreed rounds)" if limit is not None and rounds > limit else ""
        lines.append(f"• {name}: {rounds}{of}{over}")
    return lines


def write_report(store: Store, retainer: Retainer, start: date, today: date, sender: str) -> WeeklyReport:
    """The report e-mail for the week beginning ``start`` (a Monday), written on ``today``."""
    client = store.clients.get(retainer.client_id)
    items = store.work.deliverables_for_client(client.id)
    end = start + timedelta(days=7)
    delivered = [d for d in items if _done_between(store, d, start, end)]
    open_items = [d for d in items if d.status == "open"]
    late = [d for d in open_items if d.due_date and d.due_date < today]
    upcoming = [d for d in open_items if d.due_date and end <= d.due_date < end + timedelta(days=7)]
    # "The plan" is what falls due in the month the report is written in.
    planned = [d for d in items if d.due_date and (d.due_date.year, d.due_date.month) == (today.year, today.month)]
    planned_done = [d for d in planned if d.status == "done"]

    lines = [
        greeting_for(client.contact_name, client.contact_email, client.name).replace(" team,", ","),
        "",
        f"Here is your weekly update for {_span(start)}.",
        "",
    ]
    if delivered:
        lines.append("Delivered this week:")
        lines.extend(f"• {d.title}" + (f" (due {_when(d.due_date)})" if d.due_date else "") for d in delivered)
    else:
        lines.append("Nothing was delivered this week.")
    if late:
        lines += ["", "Running late:"]
        lines.extend(f"• {d.title} (was due {_when(d.due_date)})" for d in late if d.due_date)
    lines += [""]
    if upcoming:
        lines.append("Coming up next week:")
        lines.extend(f"• {d.title} — due {_when(d.due_date)}" for d in upcoming if d.due_date)
    else:
        lines.append("Nothing is scheduled for next week yet.")
    if planned:
        lines += [
            "",
            f"This month's plan: {len(planned_done)} of {len(planned)} deliverables due in {today:%B} delivered.",
        ]
    revisions = _revision_lines(store, client, retainer, [*open_items, *delivered], start, end)
    if revisions:
        lines += ["", *revisions]
    lines += ["", "Best regards,", sender]
    details = [
        f"Week {week_label(start)} ({_span(start)})",
        f"Delivered {len(delivered)} · due next week {len(upcoming)} · late {len(late)}"
        + (f" · month plan {len(planned_done)}/{len(planned)}" if planned else ""),
        f"Revision rounds recorded: {sum(1 for r in store.revisions.for_client(client.id))}",
    ]
    return WeeklyReport(
        subject=f"Weekly update {_span(start)} — {client.name}",
        body="\n".join(lines),
        details=details,
        delivered=len(delivered),
        due_next_week=len(upcoming),
        late=len(late),
    )
