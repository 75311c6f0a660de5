"""Slack end to end: signed events and taps against coo serve's app, replies at a fake Slack Web API."""

from __future__ import annotations

import time

from tests.channels import (  # noqa: F401 (fixtures)
    OPERATOR,
    RETAINER,
    button,
    dm,
    serve,
    slack_api,
    slack_settings,
)
from tests.fakes.slack_api import BOT_ID, BOT_USER

TS = "1764082800.000100"
FROM = "Ana Ruiz <ana@studio.example>"


def _texts(calls: list) -> list[str]:
    return [c.get("text") for c in calls]


def _card(slack_api, count: int = 1):  # type: ignore[no-untyped-def]
    cards = [c for c in slack_api.wait_for("chat.postMessage", count + 1) if c.get("blocks")]
    deadline = time.monotonic() + 10
    while len(cards) < count and time.monotonic() < deadline:
        time.sleep(0.01)
        cards = [c for c in slack_api.recorded("chat.postMessage") if c.get("blocks")]
    assert len(cards) >= count, _texts(slack_api.recorded("chat.postMessage"))
    return cards[count - 1]


def _action_ids(call) -> list[str]:  # type: ignore[no-untyped-def]
    return [e["action_id"] for b in call["blocks"] if b["type"] == "actions" for e in b["elements"]]


def _block_text(call) -> str:  # type: ignore[no-untyped-def]
    parts = []
    for block in call["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts.extend(f["text"] for f in block.get("fields", []))
        parts.extend(e.get("text", "") for e in block.get("elements", []) if block["type"] == "context")
    return "\n".join(parts)


def test_message_card_approve_button_updates_card_and_sends_once(serve, slack_api, smtp, db_url):
    served = serve(**slack_settings(slack_api), database_url=db_url, smtp_url=smtp.url, from_email=FROM)
    started = time.perf_counter()
    response = served.slack_event(dm(RETAINER, TS), "Ev001")
    assert response.status_code == 200
    assert time.perf_counter() - started < 1.0

    [on_it] = slack_api.wait_for("chat.postMessage", text="On it.")
    assert on_it["channel"] == "D0OPS" and on_it["thread_ts"] == TS
    card = _card(slack_api)
    assert card["thread_ts"] == TS
    assert _action_ids(card) == ["coo:approve:1", "coo:edit:1", "coo:reject:1"]
    shown = _block_text(card)
    assert "Send it to jane@acme.example?" in shown and "$4,000.00/month" in shown
    assert "I drafted the proposal" in shown and "3 revision rounds" in shown
    assert smtp.messages == []

    assert served.slack_interaction(button(card, "approve", 1)).status_code == 200
    [update] = slack_api.wait_for("chat.update")
    assert update["channel"] == "D0OPS" and update["ts"] == card["posted"]["ts"]
    assert _action_ids(update) == []
    assert f"Approved by <@{OPERATOR}> in Slack at 2026-11-25 15:00" in _block_text(update)
    assert len(smtp.wait_for(1)) == 1
    served.settle()
    final = [t for t in _texts(slack_api.recorded("chat.postMessage")) if t and t.startswith("Sent proposal")]
    assert len(final) == 1
    approval = served.runtime.store.runs.approval(1)
    assert approval.decided_by == OPERATOR and approval.decided_via == "slack"
    answered = [e for e in served.runtime.store.ledger.events(approval.run_id) if e.kind == "approval_answered"]
    assert answered[0].payload["waited_seconds"] == 0 and answered[0].payload["by"] == OPERATOR

    # A double click: the second tap changes nothing and says who decided.
    served.slack_interaction(button(card, "approve", 1, action_ts="1764082901.000002"))
    served.settle()
    assert any("already approved by UOPERATOR" in (t or "") for t in _texts(slack_api.recorded("chat.postMessage")))
    time.sleep(0.1)
    assert len(smtp.messages) == 1
    assert len(slack_api.recorded("chat.update")) == 1
