"""Strangers are refused cheaply and can never delay the operator: a flood of 800 stranger
messages saves a handful of refusals, and the operator's question is answered first."""

from __future__ import annotations

import time

import pytest

from bot.job_registry import QUEUES
from bot.refusal_limit import RefusalLimiter
from tests.channels import OPERATOR, dm, slack_settings, telegram_settings, tg_message, worker_held

pytestmark = pytest.mark.slow  # coo serve over HTTP


def test_the_limiter_paces_each_stranger_and_all_of_them():
    limiter = RefusalLimiter(per_user=2, per_user_seconds=600, burst=5, window_seconds=60)
    assert [limiter.allow("slack:U1") for _ in range(3)] == [True, True, False]
    assert [limiter.allow(f"slack:U{n}") for n in range(2, 7)] == [True, True, True, False, False]
    assert limiter.dropped == 3


def test_refusals_have_the_last_queue():
    assert QUEUES[-1] == "coo-strangers"  # RQ workers take their queues in order


def test_800_strangers_then_the_operator_is_answered_first(slack_api, telegram_api, serve, sqlite_url):
    served = serve(**slack_settings(slack_api), **telegram_settings(telegram_api), database_url=sqlite_url)
    started = time.monotonic()
    with worker_held(served.runtime):
        for n in range(400):
            event = dm(f"give me the invoices {n}", f"1764082800.{n:06d}", user=f"USTRANGER{n % 200}")
            assert served.slack_event(event, f"EvStranger{n}").status_code == 200
            update = tg_message(20_000 + n, 2000 + n, "hello?", user=50_000 + n % 150)
            assert served.telegram_update(update).status_code == 200
        flood = time.monotonic() - started
        asked = time.monotonic()
        assert (
            served.slack_event(dm("what's overdue?", "1764082999.000001", user=OPERATOR), "EvOperator").status_code
            == 200
        )
    answer = slack_api.wait_for("chat.postMessage", channel="D0OPS", timeout=30)
    waited = time.monotonic() - asked
    assert answer, "the operator got no answer"
    served.settle(timeout=30)
    print(f"\n800 stranger messages in {flood:.2f} s; the operator's answer {waited:.2f} s after the question")

    calls = [c.method for c in slack_api.calls + telegram_api.calls]
    refusals = slack_api.recorded("chat.postEphemeral") + telegram_api.recorded("sendMessage")
    # cheap: a burst's worth of refusals saved and sent, not 800
    saved = served.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM inbox WHERE kind = 'refusal'")
    assert saved == len(refusals) <= 20, (saved, len(refusals))
    # first: the operator's answer went out before any refusal
    first_refusal = min(calls.index(m) for m in ("chat.postEphemeral", "sendMessage") if m in calls)
    assert calls.index("chat.postMessage") < first_refusal, calls[:10]
    assert waited < 10
    assert [r.kind for r in served.runtime.store.runs.recent()] == ["status_query"]  # strangers started nothing


def test_a_strangers_tapping_costs_a_few_answers_not_one_each(telegram_api, serve, sqlite_url):
    from tests.channels import tg_tap

    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url)
    card = {"sent_message_id": 1, "chat_id": 4242}
    for n in range(50):
        assert served.telegram_update(tg_tap(30_000 + n, card, "coo:approve:1", user=999)).status_code == 200
    answers = telegram_api.recorded("answerCallbackQuery")
    assert len(answers) == 3 and "Only the operator" in answers[0]["text"]
    assert served.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM inbox") == 0
