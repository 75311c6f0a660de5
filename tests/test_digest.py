"""The daily digest: what it says, once per day, at the operator's local time."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from bot.digest import next_digest_at, post_digest, schedule_next_digest
from tests.conftest import ChatDriver

pytestmark = pytest.mark.clock  # scripts/test runs these again with the process time shifted


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
        ("UTC", datetime(2026, 11, 25, 7, 0, tzinfo=UTC), date(2026, 11, 25), "2026-11-25T08:00:00+00:00"),
        ("UTC", datetime(2026, 11, 25, 8, 0, tzinfo=UTC), date(2026, 11, 26), "2026-11-26T08:00:00+00:00"),
        # Berlin springs forward on 2026-03-29: 08:00 local is 06:00 UTC that day, 07:00 UTC before
        (
            "Europe/Berlin",
            datetime(2026, 3, 28, 12, 0, tzinfo=UTC),
            date(2026, 3, 29),
            "2026-03-29T06:00:00+00:00",
        ),
        (
            "Europe/Berlin",
            datetime(2026, 10, 24, 12, 0, tzinfo=UTC),
            date(2026, 10, 25),
            "2026-10-25T07:00:00+00:00",
        ),
        # late evening in New York is already tomorrow in UTC: the digest is for the local date
        (
            "America/New_York",
            datetime(2026, 11, 26, 2, 0, tzinfo=UTC),
            date(2026, 11, 26),
            "2026-11-26T13:00:00+00:00",
        ),
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


@pytest.mark.slow  # starts `coo` as a process
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


# -- approvals in the digest come with their buttons ---------------------------------------------

NORTHWIND = "invoice Northwind $900 for hosting, contact ops@northwind.example"


def _digest_call(calls):
    return next(c for c in calls if "Good morning" in (c.get("text") or ""))


def test_digest_on_slack_has_the_cards_buttons_and_a_tap_decides_once(slack_api, smtp, serve, sqlite_url):
    from tests.channels import OPERATOR, button, dm, slack_settings

    served = serve(**slack_settings(slack_api), database_url=sqlite_url, smtp_url=smtp.url)
    served.slack_event(dm(NORTHWIND, "1764082800.000100"), "Ev800")
    slack_api.wait_for("chat.postMessage", 2)  # "On it." and the card
    served.settle()
    post_digest(served.runtime, date(2026, 11, 25))
    slack_api.wait_for("chat.postMessage", 3)
    served.settle()
    digest = _digest_call(slack_api.recorded("chat.postMessage"))
    assert digest["channel"] == OPERATOR and "Waiting for your approval" in digest["text"]
    rows = [b for b in digest["blocks"] if b["type"] == "actions"]
    assert [b["block_id"] for b in rows] == ["coo_digest_1"]
    assert [(e["action_id"], e["value"]) for e in rows[0]["elements"]] == [
        ("coo:approve:1", "1"),
        ("coo:edit:1", "1"),
        ("coo:reject:1", "1"),
    ]  # exactly the card's
    assert any("#1* Send invoice" in (b.get("text") or {}).get("text", "") for b in digest["blocks"])

    tap = button(digest, "approve", 1)
    tap["actions"][0]["block_id"] = "coo_digest_1"
    assert served.slack_interaction(tap).status_code == 200
    assert len(smtp.wait_for(1)) == 1
    [update] = slack_api.wait_for("chat.update")  # the card (not the digest) shows the decision
    assert update["ts"] != digest["posted"]["ts"]
    served.settle()
    assert served.runtime.store.runs.approval(1).status == "approved"
    [said] = slack_api.wait_for("chat.postMessage", text="Approved #1.")
    assert said["thread_ts"] == digest["posted"]["ts"]  # answered under the digest

    # The digest's buttons are not updated; a second tap there only says who decided.
    served.slack_interaction({**tap, "actions": [{**tap["actions"][0], "action_ts": "1764082901.000009"}]})
    served.settle()
    texts = [c.get("text") or "" for c in slack_api.recorded("chat.postMessage")]
    assert any("already approved by UOPERATOR" in t for t in texts)
    run_id = served.runtime.store.runs.approval(1).run_id  # settled: nothing is queued that could still send
    assert [e.kind for e in served.runtime.store.ledger.events(run_id)].count("side_effect") == 1
    assert len(smtp.messages) == 1


def test_digest_on_telegram_has_a_row_per_approval(telegram_api, smtp, serve, sqlite_url):
    from tests.channels import telegram_settings, tg_message, tg_tap

    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url, smtp_url=smtp.url)
    served.telegram_update(tg_message(8001, 80, NORTHWIND))
    served.telegram_update(tg_message(8002, 81, "invoice Northwind $400 for a logo"))
    telegram_api.wait_for("sendMessage", 4)
    served.settle()
    post_digest(served.runtime, date(2026, 11, 25))
    telegram_api.wait_for("sendMessage", 5)
    served.settle()
    digest = _digest_call(telegram_api.recorded("sendMessage"))
    rows = [[b["callback_data"] for b in row] for row in digest["reply_markup"]["inline_keyboard"]]
    assert rows == [["coo:approve:1", "coo:reject:1"], ["coo:approve:2", "coo:reject:2"]]

    tap = tg_tap(8003, digest, "coo:approve:1")
    tap["callback_query"]["message"]["reply_markup"] = digest["reply_markup"]  # as Telegram sends it
    served.telegram_update(tap)
    [kept] = telegram_api.wait_for("editMessageReplyMarkup")  # only the tapped approval's row goes
    assert [[b["callback_data"] for b in row] for row in kept["reply_markup"]["inline_keyboard"]] == [
        ["coo:approve:2", "coo:reject:2"]
    ]
    assert len(smtp.wait_for(1)) == 1
    served.settle()
    assert served.runtime.store.runs.approval(1).status == "approved"
    assert served.runtime.store.runs.approval(2).status == "pending"


def test_digest_buttons_stop_at_ten_and_decided_approvals_get_none():
    from bot.cards import digest_view
    from bot.slack.blocks import digest_blocks
    from store.models import Approval, Message

    now = datetime(2026, 11, 25, 8, tzinfo=UTC)
    approvals = [
        Approval(
            id=n,
            run_id=f"r{n}",
            step="send",
            action="send_invoice",
            card={"title": f"Send #{n}"},
            draft={},
            asked_at=now,
            status="approved" if n == 1 else "pending",
        )
        for n in range(1, 14)
    ]
    message = Message(
        id=1,
        channel="digest",
        thread_id="daily",
        direction="out",
        text="Good morning\n" * 600,
        payload={"approval_ids": list(range(1, 14))},
        created_at=now,
    )
    view = digest_view(message, approvals)
    assert [a.approval_id for a in view.approvals] == list(range(2, 12)) and view.more == 2
    blocks = digest_blocks(view)
    assert len(blocks) <= 50
    assert [b["block_id"] for b in blocks if b["type"] == "actions"] == [f"coo_digest_{n}" for n in range(2, 12)]
    assert blocks[-1]["elements"][0]["text"] == "…and 2 more waiting: /approve N or /reject N."
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")


def test_quarterly_review_buttons_in_telegram_lower_a_level_on_the_operators_tap(telegram_api, serve, sqlite_url):
    from tests.channels import TG_OPERATOR, telegram_settings, tg_message, tg_tap

    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url)
    served.telegram_update(tg_message(6001, 60, "/policy invoicer send_invoice auto"))
    telegram_api.wait_for("sendMessage")
    served.settle()
    store = served.runtime.store
    assert store.autonomy_rules.level("invoicer", "send_invoice", None) == "auto"
    post_digest(served.runtime, date(2027, 1, 4))
    deadline = time.monotonic() + 10
    while not (digest := [c for c in telegram_api.recorded("sendMessage") if "Quarterly policy review" in c["text"]]):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    [[button]] = digest[0]["reply_markup"]["inline_keyboard"]
    assert button["text"].endswith("invoicer send_invoice → ask") and button["callback_data"].startswith("coo:offer:")

    served.telegram_update(tg_tap(6002, digest[0], button["callback_data"], user=999))  # not the operator
    assert "Only the operator" in telegram_api.wait_for("answerCallbackQuery")[0]["text"]
    served.settle()
    assert store.autonomy_rules.level("invoicer", "send_invoice", None) == "auto"

    served.telegram_update(tg_tap(6003, digest[0], button["callback_data"]))
    telegram_api.wait_for("editMessageReplyMarkup")
    deadline = time.monotonic() + 10
    while not [c for c in telegram_api.recorded("sendMessage") if "Lowered by you at" in c["text"]]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert store.autonomy_rules.level("invoicer", "send_invoice", None) == "ask"
    [change] = [
        c
        for c in store.db.fetchall("SELECT actor, payload FROM ledger WHERE kind = 'policy_changed'")
        if '"telegram-tap"' in str(c["payload"])
    ]
    assert change["actor"] == f"telegram:{TG_OPERATOR}"


def test_sections_that_grow_with_the_books_list_ten_and_count_the_rest(chat, clock):
    chat.say("new client: Northwind, contact ops@northwind.example")
    store = chat.runtime.store
    client = store.clients.find("Northwind")[0]
    with store.db.transaction() as tx:
        for n in range(1, 14):  # thirteen invoices overdue, the oldest first in the digest
            tx.execute(
                "INSERT INTO invoices (seq, number, client_id, status, currency, issue_date, due_date, total_cents,"
                " paid_cents, created_at, sent_at) VALUES (?, ?, ?, 'sent', 'USD', ?, ?, 10000, 0, ?, ?)",
                (100 + n, f"OLD-{n:03d}", client.id, "2026-09-01", f"2026-10-{n:02d}", clock.now(), clock.now()),
            )
        for n in range(1, 13):  # twelve deliverables due this week
            tx.execute(
                "INSERT INTO deliverables (client_id, title, due_date, status, created_at) VALUES (?, ?, ?, 'open', ?)",
                (client.id, f"Banner {n:02d}", "2026-11-28", clock.now()),
            )
    text = post_digest(chat.runtime, date(2026, 11, 26))[0].text
    overdue = text.split("Invoices overdue:\n", 1)[1].split("\n")
    assert overdue[0] == "• OLD-001 Northwind: $100.00, 56 days late" and overdue[9].startswith("• OLD-010 ")
    assert overdue[10] == "• … and 3 more ($1,300.00 overdue in all — ask “what's overdue?”)"
    deliverables = text.split("Deliverables due in the next 7 days:\n", 1)[1].split("\n")
    assert deliverables[9] == "• Banner 10 (Northwind) — due 2026-11-28" and deliverables[10] == "• … and 2 more"
