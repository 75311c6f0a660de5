"""coo serve's other endpoints: health, unconfigured platforms, inbound e-mail (HTTP, Slack, Telegram)."""

from __future__ import annotations

import time

import pytest

from tests.channels import OPERATOR, TG_OPERATOR, slack_settings, telegram_settings

MAIL = (
    b"From: Jane Doe <jane@acme.example>\r\nTo: Ana Ruiz <ana@studio.example>\r\n"
    b"Subject: Homepage mockups\r\nMessage-ID: <m1@acme.example>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
    b"\r\nHi Ana,\r\n\r\nCould you send the homepage mockups by Friday?\r\n\r\nJane\r\n"
)


def test_health_and_unconfigured_endpoints(serve, sqlite_url):
    served = serve(database_url=sqlite_url)
    assert served.http.get("/healthz").json() == {
        "ok": True,
        "database": "up",
        "redis": "unused",
        "queue": "up",
        "waiting": 0,
    }
    assert served.http.get("/readyz").status_code == 200
    assert served.post("/slack/events", "{}").status_code == 404
    assert served.post("/telegram/webhook", "{}").status_code == 404
    assert served.post("/inbound/email", MAIL).status_code == 404


def test_inbound_email_needs_the_secret_and_reaches_the_operator_once(slack_api, serve, sqlite_url):
    served = serve(**slack_settings(slack_api), database_url=sqlite_url, inbound_email_secret="mail-secret")
    assert served.post("/inbound/email", MAIL).status_code == 403
    assert served.post("/inbound/email", MAIL, {"X-Coo-Secret": "nope"}).status_code == 403
    assert served.post("/inbound/email", MAIL, {"X-Coo-Secret": "mail-secret"}).status_code == 202
    assert served.post("/inbound/email", MAIL, {"Authorization": "Bearer mail-secret"}).status_code == 202
    [summary] = [c for c in slack_api.wait_for("chat.postMessage") if "Homepage mockups" in c["text"]]
    assert summary["channel"] == OPERATOR  # no thread of its own: the operator's DM
    served.settle()
    assert served.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM artifacts WHERE kind = 'email_in'") == 1


@pytest.mark.parametrize(
    "original",
    ["Jane Doe <jane@acme.example>", "Jane Doe"],  # real shares often carry only the display name there
)
def test_slack_email_file_share_is_ingested_in_its_thread(slack_api, serve, sqlite_url, original):
    served = serve(**slack_settings(slack_api), database_url=sqlite_url)
    file = {
        "id": "F1",
        "mode": "email",
        "filetype": "email",
        "subject": "Homepage mockups",
        "from": [{"address": "jane@acme.example", "name": "Jane Doe", "original": original}],
        "to": [{"address": "inbox@studio.slack.example", "name": "", "original": "inbox@studio.slack.example"}],
        "headers": {"date": "Tue, 24 Nov 2026 10:00:00 +0000", "message_id": "<m2@acme.example>"},
        "plain_text": "Hi Ana,\n\nCould you send the homepage mockups by Friday?\n\nJane",
    }
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": "C0MAIL",
        "channel_type": "channel",
        "bot_id": "BEMAIL",
        "files": [file],
        "text": "",
        "ts": "1764082800.000700",
    }
    assert served.slack_event(event, "EvMail1").status_code == 200
    replies = slack_api.wait_for("chat.postMessage")
    assert replies and replies[0]["channel"] == "C0MAIL" and replies[0]["thread_ts"] == "1764082800.000700"
    assert "Homepage mockups" in replies[0]["text"] and "jane@acme.example" in replies[0]["text"]
    assert "Proposed: a reply to jane@acme.example" in replies[0]["text"]


def test_telegram_eml_document_is_ingested_and_answered_in_the_chat(telegram_api, serve, sqlite_url):
    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url)
    telegram_api.files["documents/doc1.eml"] = MAIL
    update = {
        "update_id": 7001,
        "message": {
            "message_id": 70,
            "date": int(time.time()),
            "chat": {"id": TG_OPERATOR, "type": "private"},
            "from": {"id": TG_OPERATOR, "is_bot": False, "first_name": "Ana"},
            "document": {
                "file_id": "doc1",
                "file_unique_id": "doc1",
                "file_name": "mockups.eml",
                "mime_type": "message/rfc822",
                "file_size": len(MAIL),
            },
        },
    }
    assert served.telegram_update(update).status_code == 200
    replies = telegram_api.wait_for("sendMessage")
    assert replies and "Homepage mockups" in replies[0]["text"]
    assert replies[0]["reply_parameters"]["message_id"] == 70


def test_a_telegram_forward_with_a_hidden_sender_gets_no_reply_to_a_made_up_address(telegram_api, serve, sqlite_url):
    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url)
    update = {
        "update_id": 7002,
        "message": {
            "message_id": 71,
            "date": int(time.time()),
            "chat": {"id": TG_OPERATOR, "type": "private"},
            "from": {"id": TG_OPERATOR, "is_bot": False, "first_name": "Ana"},
            "forward_origin": {"type": "hidden_user", "sender_user_name": "Lena Park", "date": int(time.time())},
            "text": "Could you send the final files as PDFs by Friday?",
        },
    }
    assert served.telegram_update(update).status_code == 200
    replies = telegram_api.wait_for("sendMessage")
    text = replies[0]["text"]
    assert text.startswith("Filed as a note (a Telegram message from Lena Park, whose account is hidden"), text
    assert "telegram.invalid" not in text and "e-mail address" not in text, text
    assert replies[0]["reply_parameters"]["message_id"] == 71
    served.settle()
    assert served.runtime.store.runs.pending_approvals() == []


def test_a_telegram_document_that_cannot_be_downloaded_is_said_to_the_operator(telegram_api, serve, sqlite_url):
    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url)
    update = {
        "update_id": 7003,
        "message": {
            "message_id": 72,
            "date": int(time.time()),
            "chat": {"id": TG_OPERATOR, "type": "private"},
            "from": {"id": TG_OPERATOR, "is_bot": False, "first_name": "Ana"},
            "document": {
                "file_id": "gone",
                "file_unique_id": "gone",
                "file_name": "mockups.eml",
                "mime_type": "message/rfc822",
                "file_size": 100,
            },
        },
    }
    assert served.telegram_update(update).status_code == 200
    replies = telegram_api.wait_for("sendMessage")
    assert any("I couldn't download mockups.eml from Telegram" in r["text"] for r in replies), replies
    assert "please send it again" in replies[0]["text"]
