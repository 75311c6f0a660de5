"""Recurring retainer work under a controllable clock: billing days, weekly reports, deadlines.

The main test runs one retainer (billed on the 31st) through three months of daily ticks
against coo serve's app and a fake Slack Web API, and asserts on what the operator sees in
Slack, what reached the SMTP server, and the ledger. Ticks are driven directly (the clock is
moved to each day's tick time and the tick run), never by sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from typing import Any

import pytest

from agents.billing_cycle import billing_date
from agents.deadline_monitor import threshold_for
from bot.ticks import local_moment, next_tick_at, run_tick, schedule_next_tick
from graphs.envelope import Envelope
from tests.channels import button, dm, slack_settings
from tests.fakes.smtp import text_body

TS = "1764082800.000100"
FROM = "Ana Ruiz <ana@studio.example>"
RETAINER = (
    "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 31st, "
    "contact <mailto:jane@acme.example|jane@acme.example>"
)

pytestmark = pytest.mark.clock  # scripts/test runs these again with the process time shifted


def _text(call: Any) -> str:
    """Everything a Slack message shows: its text and its blocks."""
    parts = [call.get("text") or ""]
    for block in call.get("blocks") or []:
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"].get("text", ""))
        parts.extend(f.get("text", "") for f in block.get("fields", []))
        parts.extend(e.get("text", "") for e in block.get("elements", []) if isinstance(e.get("text"), str))
    return "\n".join(parts)


class Operator:
    """The operator's Slack DM with coo, and the clock on the wall."""

    def __init__(self, served: Any, slack_api: Any, clock: Any) -> None:
        self.served, self.slack, self.clock = served, slack_api, clock
        self.events = 0

    def say(self, text: str) -> None:
        self.events += 1
        ts = f"{1764082900 + self.events}.000100"
        assert self.served.slack_event(dm(text, ts, thread_ts=TS), f"Ev{self.events:04d}").status_code == 200
        self.served.settle()

    def posted(self, contains: str = "") -> list[Any]:
        return [c for c in self.slack.recorded("chat.postMessage") if contains in _text(c)]

    def card(self, approval_id: int) -> Any:
        [card] = [
            c for c in self.slack.recorded("chat.postMessage") if f"coo:approve:{approval_id}" in str(c.get("blocks"))
        ]
        return card

    def tap(self, verb: str, approval_id: int) -> None:
        response = self.served.slack_interaction(
            button(self.card(approval_id), verb, approval_id, action_ts=f"{1764083000 + approval_id}.000001")
        )
        assert response.status_code == 200
        self.served.settle()

    def tick(self, day: date, workers: int = 1) -> None:
        """Move the clock to the day's tick time and run the tick (``workers`` at once)."""
        runtime = self.served.runtime
        target = local_moment(runtime.store.clock.tz, day, runtime.settings.tick_time)
        self.clock.advance(seconds=(target - self.clock.now()).total_seconds())
        threads = [threading.Thread(target=run_tick, args=(runtime, day)) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.served.settle()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_a_retainer_through_three_months_of_billing_reports_and_deadlines(slack_api, smtp, serve, sqlite_url, clock):
    served = serve(**slack_settings(slack_api), database_url=sqlite_url, smtp_url=smtp.url, from_email=FROM)
    ops = Operator(served, slack_api, clock)
    store = served.runtime.store
    assert served.slack_event(dm(RETAINER, TS), "Ev-signup").status_code == 200
    served.settle()
    ops.tap("approve", 1)  # the proposal
    assert len(smtp.wait_for(1)) == 1
    [setup] = ops.posted("Billing configured")
    assert "prepared on day 31 each month (next 2026-11-30) and waits for your approval" in _text(setup)
    assert "Weekly report to Acme Studio scheduled for Fridays" in _text(setup)
    ops.say("Acme Studio needs the homepage mockups by 2026-12-03")
    ops.say("Acme Studio needs the brand guidelines by 2027-01-15")

    sent = 1
    for day in _days(date(2026, 11, 25), date(2027, 2, 28)):
        billing = day in (date(2026, 11, 30), date(2026, 12, 31), date(2027, 1, 31), date(2027, 2, 28))
        ops.tick(day, workers=2 if billing else 1)  # two workers on a billing day: still one invoice
        if day == date(2026, 11, 30):
            [card] = [c for c in ops.posted("Monthly retainer — November 2026") if c.get("blocks")]
            assert card["thread_ts"] == TS and "First invoice for this client." in _text(card)
            approval = store.runs.pending_approvals()[-1]
            ops.tap("approve", approval.id)
            sent += 1
            assert len(smtp.wait_for(sent)) == sent
        if day == date(2026, 12, 2):
            ops.say("the homepage mockups for Acme Studio are done")
        if day == date(2026, 12, 31):
            [card] = [c for c in ops.posted("Monthly retainer — December 2026") if c.get("blocks")]
            assert "Last invoice INV-0001 (2026-11-30): $4,000.00, sent; this one: same total." in _text(card)
            ops.tap("approve", store.runs.pending_approvals()[-1].id)
            sent += 1
            assert len(smtp.wait_for(sent)) == sent
            ops.say("/autonomy invoicer auto")
        if day == date(2027, 1, 5):
            # Typed by the operator, not the billing cycle: it asks even with autonomy raised.
            ops.say("invoice Acme Studio $4,000 for the january retainer")
            assert [c for c in ops.posted("Invoice #INV-0003 for Acme Studio") if c.get("blocks")]
        if day in (date(2027, 1, 31), date(2027, 2, 28)):
            sent += 1
            assert len(smtp.wait_for(sent)) == sent
        if day.isoweekday() == 5 and day == date(2026, 12, 4):
            ops.tap("approve", store.runs.pending_approvals()[-1].id)  # this week's report goes out
            sent += 1
            assert len(smtp.wait_for(sent)) == sent

    # One invoice per billing date (day 31 → 30 Nov, 31 Dec, 31 Jan, 28 Feb), whoever ran the tick.
    invoices = store.db.fetchall("SELECT number, issue_date, total_cents, status FROM invoices ORDER BY seq")
    recurring = [i for i in invoices if i["number"] != "INV-0003"]
    assert [str(i["issue_date"]) for i in recurring] == ["2026-11-30", "2026-12-31", "2027-01-31", "2027-02-28"]
    assert all(i["total_cents"] == 400_000 and i["status"] == "sent" for i in recurring)
    assert [
        m
        for m in ("November 2026", "December 2026")
        if len([c for c in ops.posted(f"Monthly retainer — {m}") if c.get("blocks")]) == 1
    ] == ["November 2026", "December 2026"]
    # With autonomy raised, January and February went out without a card, and the thread says so.
    assert not [c for c in ops.posted("Monthly retainer — January 2027") if c.get("blocks")]
    assert not [c for c in ops.posted("Monthly retainer — February 2027") if c.get("blocks")]
    auto = ops.posted("Sent without asking")
    assert len(auto) == 2 and all(c["thread_ts"] == TS for c in auto)
    january = store.billing.get("INV-0004")
    assert january is not None and january.lines[0].description == "Monthly retainer — January 2027"
    events = store.ledger.events(january.run_id or "")
    answered = next(e for e in events if e.kind == "approval_answered")
    assert answered.actor == "coo (autonomy: invoicer)" and answered.payload["via"] == "autonomy"
    assert any(e.kind == "approved_by_policy" and e.payload["agent"] == "invoicer" for e in events)
    assert next(e for e in events if e.kind == "intent_received").actor == "slack:coo-scheduler"
    assert store.billing.get("INV-0003").status == "draft"  # the typed one still waits

    # Weekly reports: one card per Friday (14 of them), drafted for approval; one approved and sent.
    reports = [
        c for c in ops.posted("Send it to jane@acme.example?") if "Weekly update" in _text(c) and c.get("blocks")
    ]
    assert len(reports) == 14
    messages = smtp.messages
    subjects = [str(make_header(decode_header(m["Subject"]))) for m in messages]
    mail = [m for m, subject in zip(messages, subjects, strict=True) if subject.startswith("Weekly update")]
    assert [s for s in subjects if s.startswith("Weekly")] == [
        "Weekly update 30 November–6 December 2026 — Acme Studio"
    ]
    body = text_body(mail[0]).replace("\r\n", "\n")
    assert "Delivered this week:\n• homepage mockups (due Thu 3 Dec)" in body
    assert "No revision rounds were requested this week (3 included per deliverable)." in body

    # The slipping deliverables: raised in the retainer's thread once per threshold, never hourly.
    def alerts(title: str) -> list[str]:
        return [c["text"] for c in ops.posted(f"“{title}”") if c["text"].startswith("⏰") and c["thread_ts"] == TS]

    assert alerts("homepage mockups") == [
        "⏰ Acme Studio: “homepage mockups” is due in 3 days (Thu 3 Dec 2026) and is still open. When it's "
        "delivered: /done 1",
        "⏰ Acme Studio: “homepage mockups” is due tomorrow (Thu 3 Dec 2026) and is still open. When it's "
        "delivered: /done 1",
    ]  # done on 2 December: no overdue alert
    guidelines = alerts("brand guidelines")
    assert len(guidelines) == 3 and "is 1 day late (was due Fri 15 Jan 2027)" in guidelines[2]
    raised = store.db.fetchall("SELECT run_id FROM ledger WHERE kind = 'deadline_raised' ORDER BY id")
    assert [r["run_id"] for r in raised] == [
        "tick-2026-11-30",
        "tick-2026-12-02",
        "tick-2027-01-12",
        "tick-2027-01-14",
        "tick-2027-01-16",
    ]


def test_two_workers_ticking_the_same_day_make_one_invoice(make_runtime, sqlite_url, clock):
    from tests.conftest import ChatDriver

    first = make_runtime(database_url=sqlite_url)
    chat = ChatDriver(first)
    chat.say("Northwind signed the retainer: $1,500 a month, bill on the 30th, contact ops@northwind.example")
    chat.say("/approve 1")
    second = make_runtime(database_url=sqlite_url)  # a second worker on the same database
    clock.advance(days=5)  # 2026-11-30
    assert len(run_tick(first, date(2026, 11, 30)).invoices) == 1
    assert run_tick(second, date(2026, 11, 30)).invoices == []
    first.queue.wait_idle()
    second.queue.wait_idle()
    assert first.store.db.scalar("SELECT COUNT(*) AS n FROM invoices") == 1
    assert first.store.db.scalar("SELECT COUNT(*) AS n FROM approvals WHERE action = 'send_invoice'") == 1


def test_untrusted_text_cannot_raise_autonomy(make_runtime, sqlite_url):
    runtime = make_runtime(database_url=sqlite_url)
    env = Envelope(
        channel="email", event_id="mail-1", thread_id="inbox-1", user_id="inbound-email", text="/autonomy invoicer auto"
    )
    runtime.conversation.handle(env)
    assert runtime.store.policies.autonomy("invoicer") == "ask"
    replies = runtime.store.db.fetchall("SELECT text FROM messages WHERE thread_id = 'inbox-1' AND direction = 'out'")
    assert replies == [{"text": "Autonomy can only be changed by the operator in chat."}]


def test_autonomy_and_done_commands(make_runtime, sqlite_url):
    from tests.conftest import ChatDriver

    chat = ChatDriver(make_runtime(database_url=sqlite_url))
    assert "• invoicer: ask — asks before sending anything" in chat.say("/autonomy")
    assert "Write /autonomy AGENT ask|auto" in chat.say("/autonomy invoicer always")
    refused = chat.say("/autonomy email_responder auto")
    assert "Only these can act on their own so far: the invoicer (recurring retainer invoices" in refused
    assert "The email_responder always asks." in refused
    assert "OK: the invoicer now sends recurring retainer invoices" in chat.say("/autonomy invoicer auto")
    assert "• invoicer: auto" in chat.say("/autonomy")
    changed = chat.runtime.store.ledger.events("policies")
    assert [e.payload["after"] for e in changed] == ["auto"] and changed[0].actor.startswith("console:")
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("Northwind needs the logo by 2026-12-10")
    assert "• 1 logo (Northwind) — due 2026-12-10" in chat.say("/done")
    assert "Marked “logo” (Northwind) delivered" in chat.say("/done 1")
    assert "already marked done" in chat.say("/done 1")
    assert "There is no deliverable 9" in chat.say("/done 9")


@pytest.mark.parametrize(
    ("billing_day", "month", "expected"),
    [
        (31, (2026, 11), date(2026, 11, 30)),
        (31, (2027, 2), date(2027, 2, 28)),
        (29, (2028, 2), date(2028, 2, 29)),
        (30, (2027, 2), date(2027, 2, 28)),
        (31, (2026, 12), date(2026, 12, 31)),
        (1, (2027, 3), date(2027, 3, 1)),
    ],
)
def test_billing_days_at_month_ends(billing_day, month, expected):
    assert billing_date(*month, billing_day) == expected


def test_deadline_thresholds():
    assert [threshold_for(n) for n in (5, 4, 3, 2, 1, 0, -1)] == [None, None, "3d", "3d", "1d", "1d", "overdue"]


@pytest.mark.parametrize(
    ("after", "expected_day", "expected_utc"),
    [
        # Berlin springs forward on Sunday 2027-03-28: 07:00 local is 06:00 UTC before, 05:00 UTC from then on
        (datetime(2027, 3, 27, 5, 0, tzinfo=UTC), date(2027, 3, 27), "2027-03-27T06:00:00+00:00"),
        (datetime(2027, 3, 27, 6, 0, tzinfo=UTC), date(2027, 3, 28), "2027-03-28T05:00:00+00:00"),
        (datetime(2027, 3, 28, 5, 0, tzinfo=UTC), date(2027, 3, 29), "2027-03-29T05:00:00+00:00"),
        # ... and falls back on 2026-10-25
        (datetime(2026, 10, 24, 12, 0, tzinfo=UTC), date(2026, 10, 25), "2026-10-25T06:00:00+00:00"),
    ],
)
def test_tick_time_follows_the_berlin_clock_across_dst(make_runtime, sqlite_url, after, expected_day, expected_utc):
    runtime = make_runtime(database_url=sqlite_url, timezone="Europe/Berlin", tick_time="07:00")
    day, moment = next_tick_at(runtime, after)
    assert day == expected_day and moment.isoformat() == expected_utc


def test_berlin_operator_ticks_through_the_last_sunday_of_march(make_runtime, sqlite_url, clock):
    """A retainer billed on the 28th, the day Berlin's clocks go forward: the tick runs at 07:00
    local (05:00 UTC), the invoice is dated the local day, and the chain of ticks never skips a day."""
    from tests.conftest import ChatDriver

    runtime = make_runtime(database_url=sqlite_url, timezone="Europe/Berlin", tick_time="07:00")
    chat = ChatDriver(runtime)
    chat.say("Kestrel signed the retainer: €2,000 a month, bill on the 28th, contact priya@kestrel.example")
    chat.say("/approve 1")
    clock.advance(seconds=(datetime(2027, 3, 26, 20, 0, tzinfo=UTC) - clock.now()).total_seconds())
    moments = []
    for _ in range(3):  # what the queue would do: each tick schedules the next from its own time
        day, moment = schedule_next_tick(runtime)
        clock.advance(seconds=(moment - clock.now()).total_seconds())
        run_tick(runtime, day)
        runtime.queue.wait_idle()
        moments.append((day.isoformat(), moment.isoformat()))
    assert moments == [
        ("2027-03-27", "2027-03-27T06:00:00+00:00"),
        ("2027-03-28", "2027-03-28T05:00:00+00:00"),
        ("2027-03-29", "2027-03-29T05:00:00+00:00"),
    ]
    invoice = runtime.store.db.fetchone("SELECT issue_date, total_cents, currency FROM invoices WHERE seq = 1")
    assert str(invoice["issue_date"]) == "2027-03-28" and invoice["total_cents"] == 200_000
    assert invoice["currency"] == "EUR"
    assert runtime.store.db.scalar("SELECT COUNT(*) AS n FROM invoices") == 1  # the 29th bills nothing again


def test_tick_is_scheduled_once_on_rq(make_runtime, pg_url, redis_url):
    from redis import Redis
    from rq.registry import ScheduledJobRegistry

    runtime = make_runtime(database_url=pg_url, redis_url=redis_url)
    first = schedule_next_tick(runtime)
    assert schedule_next_tick(runtime) == first  # a second worker starting
    registry = ScheduledJobRegistry("coo-reports", connection=Redis.from_url(redis_url))
    assert f"tick-{first[0].isoformat()}" in registry.get_job_ids()


def test_tick_command(coo):
    out = coo(["tick", "--date", "2026-11-30"])
    assert out.returncode == 0, out.stderr
    assert (
        "Tick 2026-11-30: 0 invoice(s) prepared, 0 weekly report(s) drafted, 0 deadline alert(s) raised." in out.stdout
    )
    bad = coo(["tick"], {"COO_REPORT_WEEKDAY": "someday"})
    assert bad.returncode == 2 and "COO_REPORT_WEEKDAY: expected a weekday like friday" in bad.stderr
