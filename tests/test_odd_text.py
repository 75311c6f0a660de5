"""Operator text with NUL bytes, lone surrogates or other odd Unicode is answered and stored on
both databases, never dropped."""

from __future__ import annotations

import json

import pytest

from store.storable import storable, storable_text
from tests.channels import TG_SECRET, dm, slack_settings, telegram_settings, tg_message

ODD = [
    "new client: Nul\x00 Corp, contact ops@nul.example",
    "new client: Half\ud800 Surrogate, contact ops@half.example",
    "new client: Zalgo Z\u0336\u0335a\u0337lgo, contact ops@zalgo.example",
    "new client: Emoji \U0001f680 Rocket\u200d\u2063, contact ops@emoji.example",
    "new client: Right\u202eLeft, contact ops@rtl.example",
]


def test_storable_text_keeps_what_can_be_kept():
    assert storable_text("a\x00b") == "ab"
    assert storable_text("x\ud800y\udfffz") == "x\ufffdy\ufffdz"
    assert storable_text("\U0001f680 ok") == "\U0001f680 ok"
    value = {"a": ["ok", "n\x00l"], "b": 1}
    assert storable(value) == {"a": ["ok", "nl"], "b": 1}
    clean = {"a": ["ok"], "b": 1}
    assert storable(clean) is clean  # nothing copied when nothing changes


@pytest.mark.slow  # coo serve over HTTP
@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_odd_text_over_telegram_and_slack_is_answered_on_both_databases(
    slack_api, telegram_api, serve, database, request, tmp_path
):
    url = f"sqlite:///{tmp_path / 'coo.sqlite3'}" if database == "sqlite" else request.getfixturevalue("pg_url")
    served = serve(**slack_settings(slack_api), **telegram_settings(telegram_api), database_url=url)
    for number, text in enumerate(ODD):
        update = tg_message(9100 + number, 100 + number, text)
        # json.dumps escapes the surrogate as "\ud800", as a client would send it
        response = served.post(
            "/telegram/webhook",
            json.dumps(update),
            {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        event = dm(text.replace("new client: ", "what do you know about "), f"1764082800.00{number}")
        assert served.slack_event(event, f"EvOdd{number}").status_code == 200
    answered = telegram_api.wait_for("sendMessage", count=len(ODD), timeout=30)
    assert len(answered) >= len(ODD), [c["text"] for c in answered]
    assert len(slack_api.wait_for("chat.postMessage", count=len(ODD), timeout=30)) >= len(ODD)
    served.settle()
    names = {c.name for c in served.runtime.store.clients.all()}
    assert "Nul Corp" in names and len(names) == len(ODD), names  # each one recorded
    inbox = served.runtime.store.db.fetchall("SELECT status FROM inbox")
    assert len(inbox) == 2 * len(ODD) and {r["status"] for r in inbox} == {"done"}
