"""Telegram end to end: webhook updates (and long polling) against coo serve's app, a fake Bot API."""

from __future__ import annotations

import time

import pytest

from tests.channels import RETAINER, TG_OPERATOR, slack_settings, telegram_settings, tg_message, tg_tap

pytestmark = pytest.mark.clock  # scripts/test runs these again with the process time shifted

PLAIN_RETAINER = RETAINER.replace("<mailto:jane@acme.example|jane@acme.example>", "jane@acme.example")


def _card(telegram_api):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        cards = [c for c in telegram_api.recorded("sendMessage") if c.get("reply_markup")]
        if cards:
            return cards[0]
        time.sleep(0.01)
    raise AssertionError([c.get("text") for c in telegram_api.recorded("sendMessage")])


def test_webhook_message_card_tap_updates_card_and_sends_once(telegram_api, smtp, serve, db_url):
    served = serve(**telegram_settings(telegram_api), database_url=db_url, smtp_url=smtp.url)
    [hook] = telegram_api.wait_for("setWebhook")
    assert hook["url"] == "https://coo.example/telegram/webhook" and hook["secret_token"] == "tg-webhook-secret"

    assert served.telegram_update(tg_message(1001, 10, PLAIN_RETAINER)).status_code == 200
    [on_it] = telegram_api.wait_for("sendMessage", text="On it.")
    assert str(on_it["chat_id"]) == str(TG_OPERATOR) and on_it["reply_parameters"]["message_id"] == 10
    card = _card(telegram_api)
    assert card["reply_parameters"]["message_id"] == 10  # the run's replies quote the operator's message
    buttons = [b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["coo:approve:1", "coo:reject:1"]
    assert "Send it to jane@acme.example? (approval #1)" in card["text"] and "$4,000.00/month" in card["text"]

    assert served.telegram_update(tg_tap(1002, card, "coo:approve:1")).status_code == 200
    [answered] = telegram_api.wait_for("answerCallbackQuery")
    assert answered["callback_query_id"] == "cb-1002"
    [removed] = telegram_api.wait_for("editMessageReplyMarkup")
    assert str(removed["message_id"]) == str(card["sent_message_id"])
    [edited] = telegram_api.wait_for("editMessageText")
    assert f"Approved by {TG_OPERATOR} in Telegram at 2026-11-25 15:00" in edited["text"]
    assert "reply_markup" not in edited  # buttons gone
    assert len(smtp.wait_for(1)) == 1

    # The same tap delivered twice (same update_id), and a second tap: one decision, one e-mail.
    served.telegram_update(tg_tap(1002, card, "coo:approve:1"))
    served.telegram_update(tg_tap(1003, card, "coo:approve:1"))
    served.settle()  # nothing is queued that could still send
    run_id = served.runtime.store.runs.approval(1).run_id
    assert [e.kind for e in served.runtime.store.ledger.events(run_id)].count("side_effect") == 1
    assert len(smtp.messages) == 1
    assert len(telegram_api.recorded("answerCallbackQuery")) == 3  # every tap answered: no spinning button
    texts = [c["text"] for c in telegram_api.recorded("sendMessage")]
    assert sum(t.startswith("Sent proposal") for t in texts) == 1
    assert sum("already approved" in t for t in texts) == 1


def test_wrong_or_missing_secret_is_403_and_duplicate_update_runs_once(telegram_api, serve, sqlite_url):
    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url)
    update = tg_message(2001, 20, "invoice Northwind $900 for hosting, contact ops@northwind.example")
    assert served.telegram_update(update, secret="wrong").status_code == 403
    assert served.telegram_update(update, secret=None).status_code == 403
    served.settle()
    assert served.runtime.store.conversations.last_message_id() == 0

    assert served.telegram_update(update).status_code == 200
    assert served.telegram_update(update).status_code == 200
    _card(telegram_api)
    served.settle()
    assert len(served.runtime.store.runs.recent()) == 1
    assert len(telegram_api.recorded("sendMessage")) == 2  # "On it." and the card


def test_strangers_are_refused_and_their_taps_change_nothing(telegram_api, serve, sqlite_url):
    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url)
    served.telegram_update(tg_message(3001, 30, "invoice Northwind $900 for hosting", user=999))
    [refusal] = telegram_api.wait_for("sendMessage")
    assert "only take instructions" in refusal["text"] and "999" in refusal["text"]
    assert served.runtime.store.runs.recent() == []

    served.telegram_update(tg_message(3002, 31, "invoice Northwind $900 for hosting, contact ops@northwind.example"))
    card = _card(telegram_api)
    served.telegram_update(tg_tap(3003, card, "coo:approve:1", user=999))
    [answered] = telegram_api.wait_for("answerCallbackQuery")
    assert answered["show_alert"] in (True, "true", "True") and "Only the operator" in answered["text"]
    served.settle()
    assert served.runtime.store.runs.approval(1).status == "pending"
    assert telegram_api.recorded("editMessageReplyMarkup") == []
    assert telegram_api.recorded("editMessageText") == []


def test_long_polling_processes_updates_without_a_webhook(telegram_api, serve, sqlite_url):
    settings = telegram_settings(telegram_api, telegram_webhook_url="", telegram_webhook_secret="")
    served = serve(**settings, database_url=sqlite_url)
    telegram_api.push_update(tg_message(4001, 40, "/help"))
    [reply] = telegram_api.wait_for("sendMessage")
    assert "Here's what I can do" in reply["text"] and reply["reply_parameters"]["message_id"] == 40
    assert telegram_api.recorded("setWebhook") == []
    assert served.post("/telegram/webhook", "{}").status_code == 404  # no webhook in polling mode


def test_card_shown_in_slack_and_telegram_is_decided_once_and_both_copies_updated(
    slack_api, telegram_api, smtp, serve, sqlite_url
):
    from tests.channels import dm

    served = serve(
        **slack_settings(slack_api), **telegram_settings(telegram_api), database_url=sqlite_url, smtp_url=smtp.url
    )
    served.slack_event(
        dm("invoice Northwind $900 for hosting, contact ops@northwind.example", "1764082800.000900"), "Ev900"
    )
    tg_card = _card(telegram_api)  # the operator's Telegram chat shows the Slack thread's card too
    assert str(tg_card["chat_id"]) == str(TG_OPERATOR) and "reply_parameters" not in tg_card
    served.telegram_update(tg_tap(5001, tg_card, "coo:approve:1"))
    [slack_copy] = slack_api.wait_for("chat.update")
    context = [e["text"] for b in slack_copy["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert context and f"Approved by {TG_OPERATOR} in Telegram" in context[0]
    [tg_copy] = telegram_api.wait_for("editMessageText")
    assert f"Approved by {TG_OPERATOR} in Telegram" in tg_copy["text"]
    assert len(smtp.wait_for(1)) == 1
    served.settle()
    # The result goes to the run's own thread, in Slack.
    assert any((c.get("text") or "").startswith("Sent invoice") for c in slack_api.recorded("chat.postMessage"))


def _said(telegram_api, part: str) -> dict:
    deadline = time.monotonic() + 10
    while True:
        found = [c for c in telegram_api.recorded("sendMessage") if part in (c.get("text") or "")]
        if found or time.monotonic() > deadline:
            assert found, [c.get("text") for c in telegram_api.recorded("sendMessage")]
            return found[0]
        time.sleep(0.01)


def test_a_policy_suggestion_is_a_button_only_the_operator_can_tap(telegram_api, smtp, serve, sqlite_url):
    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url, smtp_url=smtp.url)
    served.telegram_update(tg_message(5001, 50, "/policy streak 1"))
    _said(telegram_api, "after 1 clean approvals")
    served.telegram_update(tg_message(5002, 51, PLAIN_RETAINER))
    card = _card(telegram_api)
    served.telegram_update(tg_tap(5003, card, "coo:approve:1"))
    offer = _said(telegram_api, "💡 Your last 1 approvals")
    [[button]] = offer["reply_markup"]["inline_keyboard"]
    assert button["text"] == "Raise to auto" and button["callback_data"].startswith("coo:offer:")
    store = served.runtime.store

    served.telegram_update(tg_tap(5004, offer, button["callback_data"], user=999))
    refused = telegram_api.wait_for("answerCallbackQuery", 2)[-1]
    assert "Only the operator" in refused["text"]
    served.settle()
    assert [r.level for r in store.autonomy_rules.all()] == []

    served.telegram_update(tg_tap(5005, offer, button["callback_data"]))
    removed = telegram_api.wait_for("editMessageReplyMarkup", 2)[-1]
    assert str(removed["message_id"]) == str(offer["sent_message_id"]) and not removed.get("reply_markup")
    assert "are now auto (known addresses only)" in _said(telegram_api, "Raised by you at")["text"]
    assert store.autonomy_rules.level("proposal_drafter", "send_proposal", 1) == "auto"
    taps = [
        c
        for c in store.db.fetchall("SELECT actor, payload FROM ledger WHERE kind = 'policy_changed'")
        if '"telegram-tap"' in str(c["payload"])
    ]
    assert len(taps) == 1 and taps[0]["actor"] == f"telegram:{TG_OPERATOR}"

    served.telegram_update(tg_tap(5006, offer, button["callback_data"]))  # stale: changes nothing
    _said(telegram_api, "is out of date")
    served.settle()
    assert store.autonomy_rules.level("proposal_drafter", "send_proposal", 1) == "auto"
