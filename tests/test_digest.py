"""The daily digest: what it says, once per day, at the operator's local time."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.digest import next_digest_at, post_digest, schedule_next_digest
from tests.channels import serve, slack_api, telegram_api  # noqa: F401 (fixtures)
from tests.conftest import ChatDriver


def test_digest_lists_what_needs_the_operator(chat, smtp, clock):
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("invoice Northwind $2,000 for october design work, due in 7 days")
    chat.say("/approve 1")
    chat.say("invoice Northwind $900 for hosting, due in 20 days")  # waits for approval
    chat.say("Northwind needs the homepage mockups by 2026-11-30")
    clock.advance(days=3)  # 2026-11-28
    text = post_digest(chat.runtime, date(2026, 11, 28))[0].text
    assert text.startswith("Good morning — your digest for Saturday 28 November 2026.")
    assert "Waiting for your approval:\n• #2 Send invoice #INV-0002 to ops@northwind.example — /approve 2" in text
    assert "Invoices due this week:\n• INV-0001 Northwind: $2,000.00, due 2026-12-02" in text
    assert "Deliverables due in the next 7 days:\n• homepage mockups (Northwind) — due 2026-11-30" in text
    assert "SLA breaches:\n• approval #2 has waited 72 h (SLA 24 h)" in text
    assert "Invoices overdue" not in text  # empty sections are left out


def test_finished_work_of_yesterday_and_a_quiet_day(chat, clock):
    chat.say("new client: Northwind, contact ops@northwind.example")
    clock.advance(days=1)
    text = post_digest(chat.runtime, date(2026, 11, 26))[0].text
    assert "Finished yesterday:\n• Added client Northwind (ops@northwind.example)." in text
    quiet = post_digest(chat.runtime, date(2026, 11, 28))[0]
    assert quiet.quiet and quiet.text.count("\n") == 0 and "nothing needs you today" in quiet.text


def test_one_digest_per_day_whoever_sends_it(make_runtime, sqlite_url, clock):
    first = ChatDriver(make_runtime(database_url=sqlite_url)).runtime
    second = make_runtime(database_url=sqlite_url)  # a second worker on the same database
    assert post_digest(first, date(2026, 11, 25))[1] is True
    assert post_digest(second, date(2026, 11, 25))[1] is False
    assert post_digest(first, date(2026, 11, 25))[1] is False
    rows = first.store.db.fetchall("SELECT thread_id FROM messages WHERE channel = 'digest'")
    assert rows == [{"thread_id": "daily-2026-11-25"}]


@pytest.mark.parametrize(
    ("tz", "after", "expected_day", "expected_utc"),
    [
        ("UTC", datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc), date(2026, 11, 25), "2026-11-25T08:00:00+00:00"),
        ("UTC", datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc), date(2026, 11, 26), "2026-11-26T08:00:00+00:00"),
        # Berlin springs forward on 2026-03-29: 08:00 local is 06:00 UTC that day, 07:00 UTC before
        ("Europe/Berlin", datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc), date(2026, 3, 29),
         "2026-03-29T06:00:00+00:00"),
        ("Europe/Berlin", datetime(2026, 10, 24, 12, 0, tzinfo=timezone.utc), date(2026, 10, 25),
         "2026-10-25T07:00:00+00:00"),
        # late evening in New York is already tomorrow in UTC: the digest is for the local date
        ("America/New_York", datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc), date(2026, 11, 26),
         "2026-11-26T13:00:00+00:00"),
    ],
)
def test_next_digest_time_follows_the_local_clock(make_runtime, sqlite_url, tz, after, expected_day, expected_utc):
    runtime = make_runtime(database_url=sqlite_url, timezone=tz, digest_time="08:00")
    day, moment = next_digest_at(runtime, after)
    assert day == expected_day and moment.isoformat() == expected_utc


def test_digest_is_scheduled_once_on_rq(make_runtime, pg_url, redis_url, clock):
    from redis import Redis
    from rq.registry import ScheduledJobRegistry

    runtime = make_runtime(database_url=pg_url, redis_url=redis_url)
    first = schedule_next_digest(runtime)
    second = schedule_next_digest(runtime)  # a second worker starting
    assert first == second
    registry = ScheduledJobRegistry("coo-reports", connection=Redis.from_url(redis_url))
    assert registry.get_job_ids() == [f"digest-{first[0].isoformat()}"]


def test_digest_command(coo_env):
    from tests.test_cli import run

    out = run(["digest"], coo_env)
    assert out.returncode == 0 and "nothing needs you today" in out.stdout
    sent = run(["digest", "--send"], coo_env)
    assert "posted to the operators" in sent.stdout
    again = run(["digest", "--send"], coo_env)
    assert "already posted; not sent again" in again.stdout
    bad = run(["digest"], {**coo_env, "COO_DIGEST_TIME": "8am"})
    assert bad.returncode == 2 and "COO_DIGEST_TIME: expected a local time like 08:00" in bad.stderr


def test_sent_digest_reaches_the_operator_on_slack_and_telegram(slack_api, telegram_api, serve, sqlite_url):
    from tests.channels import OPERATOR, TG_OPERATOR, slack_settings, telegram_settings

    served = serve(**slack_settings(slack_api), **telegram_settings(telegram_api), database_url=sqlite_url)
    post_digest(served.runtime, date(2026, 11, 25))
    [slack] = [c for c in slack_api.wait_for("chat.postMessage") if "Good morning" in c["text"]]
    assert slack["channel"] == OPERATOR and "nothing needs you today" in slack["text"]
    [tg] = [c for c in telegram_api.wait_for("sendMessage") if "Good morning" in c["text"]]
    assert str(tg["chat_id"]) == str(TG_OPERATOR)
