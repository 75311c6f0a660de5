"""Secrets stay secret: with every logger at DEBUG, Slack and Telegram flows (messages, an
approval, a failed download, the database down) leave no token, signing secret, webhook
secret or database password in the logs, the database, an export or a reply."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from store import redaction
from tests.channels import RETAINER, SIGNING_SECRET, dm, slack_settings, telegram_settings, tg_message

pytestmark = pytest.mark.slow  # coo serve over HTTP

SLACK_TOKEN = "xoxb-5551234-SLACKBOTTOKENabcdef"
TELEGRAM_TOKEN = "987654321:AAHsecretTelegramTokenPart_xyz"
WEBHOOK_SECRET = "tg-hook-secret-7c1f"
EMAIL_SECRET = "mail-secret-9d2e"
DB_PASSWORD = "pg-password-4b8a"
REPLY_METHODS = ("sendMessage", "editMessageText", "chat.postMessage", "chat.update", "chat.postEphemeral")


@pytest.fixture(autouse=True)
def _no_secrets_after():
    yield
    redaction.forget_all()


def _everything_in(db: Any) -> str:
    from store.snapshot import TABLES

    dump = []
    with db.transaction() as tx:
        for spec in TABLES:
            dump.append(json.dumps(tx.fetchall(f"SELECT * FROM {spec.name}"), default=str))
    return "\n".join(dump)


def test_tokens_appear_in_no_log_row_export_or_reply(slack_api, telegram_api, serve, pg_url, caplog, coo, tmp_path):
    caplog.set_level(logging.DEBUG)  # everything, httpx's request lines included
    base, _, name = pg_url.rpartition("/")
    url = base.replace("postgres@", f"postgres:{DB_PASSWORD}@") + f"/{name}"  # trust auth ignores it
    slack_api.token = SLACK_TOKEN
    settings = {
        **slack_settings(slack_api, slack_bot_token=SLACK_TOKEN),
        **telegram_settings(telegram_api, telegram_bot_token=TELEGRAM_TOKEN, telegram_webhook_secret=WEBHOOK_SECRET),
        "inbound_email_secret": EMAIL_SECRET,
        "database_url": url,
    }
    served = serve(**settings)
    telegram_api.files["documents/gone.eml"] = b""
    assert served.slack_event(dm(RETAINER, "1764082800.000100"), "EvS1").status_code == 200
    assert served.slack_event(dm("what's overdue?", "1764082800.000200"), "EvS2").status_code == 200
    assert served.telegram_update(tg_message(9001, 90, "who owes me money?"), secret=WEBHOOK_SECRET).status_code == 200
    # The operator pastes the token by mistake: stored and echoed masked.
    leak = tg_message(9002, 91, f"new client: Token Test, contact ops@tt.example, note {TELEGRAM_TOKEN}")
    assert served.telegram_update(leak, secret=WEBHOOK_SECRET).status_code == 200
    download = tg_message(9003, 92, "")
    download["message"].pop("text")
    download["message"]["document"] = {
        "file_id": "missing",
        "file_unique_id": "missing",
        "file_name": "mail.eml",
        "mime_type": "message/rfc822",
        "file_size": 100,
    }
    assert served.telegram_update(download, secret=WEBHOOK_SECRET).status_code == 200
    telegram_api.wait_for("sendMessage", count=3)
    slack_api.wait_for("chat.postMessage", count=2)
    served.settle()
    time.sleep(0.2)
    # An unauthenticated request's secrets never show either.
    served.post("/telegram/webhook", "{}", {"X-Telegram-Bot-Api-Secret-Token": "wrong"})
    served.post("/slack/events", "{}", {"Content-Type": "application/json"})

    secrets = (SLACK_TOKEN, TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1], SIGNING_SECRET, WEBHOOK_SECRET, DB_PASSWORD)
    logs = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    stored = _everything_in(served.runtime.store.db)
    # What coo said (setWebhook carries the webhook secret to Telegram, as it must).
    said = [c for c in telegram_api.calls + slack_api.calls if c.method in REPLY_METHODS]
    replies = json.dumps([{k: v for k, v in c.items() if k != "token"} for c in said])
    assert "I couldn't download mail.eml" in replies
    export = tmp_path / "export.json"
    assert coo(["export", str(export)], {"COO_DATABASE_URL": url}).returncode == 0
    exported = export.read_text()
    for secret in secrets:
        for where, text in (("logs", logs), ("database", stored), ("replies", replies), ("export", exported)):
            at = text.find(secret)
            assert at < 0, f"{secret} found in the {where}: {text[max(0, at - 300) : at + 80]}"
    assert "[redacted]" in stored  # the pasted token was kept, masked
    assert "Token Test" in stored


def test_httpx_request_lines_are_masked_even_when_the_operator_turns_them_on(caplog):
    import httpx

    redaction.register(TELEGRAM_TOKEN)
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
        with httpx.Client(transport=transport) as client:
            client.post(f"https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe")
    finally:
        logging.getLogger("httpx").setLevel(logging.NOTSET)
    assert "getMe" in caplog.text and "[redacted]" in caplog.text
    assert TELEGRAM_TOKEN not in caplog.text


def test_tracebacks_are_masked_too(caplog):
    redaction.register(SLACK_TOKEN)
    try:
        raise RuntimeError(f"the server refused {SLACK_TOKEN}")
    except RuntimeError:
        logging.getLogger("coo.test").exception("failed")
    assert "the server refused [redacted]" in caplog.text and SLACK_TOKEN not in caplog.text


def test_an_export_masks_a_token_stored_before_masking_existed(coo, coo_env, clock, tmp_path):
    from pathlib import Path

    from store.facade import Store

    assert coo(["chat"], stdin="list my clients\n").returncode == 0
    redaction.forget_all()  # an older coo: nothing registered, the token is stored as it came
    store = Store.open(f"sqlite:///{Path(coo_env['COO_DATA_DIR']) / 'coo.sqlite3'}", clock)
    try:
        store.conversations.post("slack", "D0OPS:1", f"the token is {SLACK_TOKEN}")
    finally:
        store.close()
    export = tmp_path / "export.json"
    assert coo(["export", str(export)], {"SLACK_BOT_TOKEN": SLACK_TOKEN}).returncode == 0
    text = export.read_text()
    assert SLACK_TOKEN not in text and "the token is [redacted]" in text
