"""Recipients are always resolved addresses: a bare name is never handed to SMTP, and a card
without an address offers "add an address" instead of Approve."""

from __future__ import annotations

import time

import pytest

from agents.errors import AgentError
from agents.mailer import OutgoingEmail, SmtpMailer
from bot.cards import CardView
from bot.slack.blocks import card_blocks
from bot.telegram.outbound import card_text, keyboard
from graphs.approvals import Card, Draft
from tests.conftest import phrasings


def _card_message(chat, approval_id: int):
    from bot.console import THREAD

    said = chat.runtime.store.conversations.messages_after("console", THREAD, 0)
    return [m for m in said if m.payload.get("approval_id") == approval_id and m.payload.get("buttons")][-1]


@phrasings(
    "text",
    [
        "e-mail Tom at Kestrel that the files are up",
        "email Tom at Kestrel that the files are up",
        "email Tom Hale at Kestrel that the files are up",
        "write to Tom at Kestrel that the files are up",
    ],
)
def test_a_named_person_is_resolved_to_the_clients_contact_address(chat, smtp, text: str) -> None:
    chat.say("new client: Kestrel, contact Tom Hale <tom@kestrel.example>")
    shown = chat.say(text)
    assert "Send it to tom@kestrel.example?" in shown and "[/approve 1]" in shown
    assert chat.runtime.store.runs.approval(1).draft["to"] == "tom@kestrel.example"
    chat.say("/approve 1")
    [mail] = smtp.wait_for(1)
    assert mail["To"] == "tom@kestrel.example"


@phrasings(
    "text",
    [
        "e-mail Tom at Kestrel that the files are up",
        "email Bob at Kestrel that the invoice is coming",
        "write to Maria Lopez at Kestrel that we are late",
    ],
)
def test_a_person_without_an_address_gets_a_card_that_asks_for_one(chat, smtp, text: str) -> None:
    chat.say("new client: Kestrel, contact Jane Roe <jane@kestrel.example>")
    shown = chat.say(text)
    assert "I have no e-mail address for" in shown
    assert "/edit 1 to=name@example.com" in shown and "/approve 1" not in shown
    approval = chat.runtime.store.runs.approval(1)
    assert approval.draft["to"] is None
    assert _card_message(chat, 1).payload["buttons"] == ["edit", "reject"]

    refused = chat.say("/approve 1")
    assert "needs an e-mail address" in refused and "/edit 1 to=name@example.com" in refused
    assert chat.runtime.store.runs.approval(1).status == "pending"
    time.sleep(0.3)
    assert smtp.messages == []

    edited = chat.say("/edit 1 to=someone@kestrel.example")
    assert "[/approve 1]" in edited
    chat.say("/approve 1")
    [mail] = smtp.wait_for(1)
    assert mail["To"] == "someone@kestrel.example"


@pytest.mark.parametrize(
    "text", ["invoice Kestrel $500 for logo design", "bill Kestrel $1,200 for october design work"]
)
def test_an_invoice_for_a_client_without_an_address_cannot_be_approved(chat, smtp, text: str) -> None:
    chat.say("new client: Kestrel")
    shown = chat.say(text)
    assert "/edit 1 to=name@example.com" in shown and "[/approve 1]" not in shown
    assert _card_message(chat, 1).payload["buttons"] == ["edit", "reject"]
    for typed in ("/approve 1", "/approve #1", "/ok 1"):
        answer = chat.say(typed)
        if "needs an e-mail address" in answer:
            break
    assert "needs an e-mail address" in answer
    approval = chat.runtime.store.runs.approval(1)
    assert approval.status == "pending"
    assert chat.runtime.store.runs.get(approval.run_id).status == "waiting_approval"
    time.sleep(0.3)
    assert smtp.messages == []


@pytest.mark.parametrize(
    "to", ["Tom", "Tom Hale", "tom at kestrel", "<tom@kestrel.example>", "a@b.example, c@d.example"]
)
def test_the_smtp_layer_refuses_a_recipient_that_is_not_an_address(smtp, to: str) -> None:
    mailer = SmtpMailer(smtp.url, "Ana <ana@studio.example>")
    with pytest.raises(AgentError, match="not an e-mail address"):
        mailer.send(OutgoingEmail(to=to, subject="Hi", body="Hello", idempotency_key="k"))
    time.sleep(0.2)
    assert smtp.messages == []


def _view(to: str | None) -> CardView:
    return CardView(
        approval_id=3,
        card=Card(title="Send invoice", question="Send it?"),
        draft=Draft(to=to, subject="Invoice", body="Hello"),
    )


def test_slack_offers_add_an_address_instead_of_approve() -> None:
    [actions] = [b for b in card_blocks(_view(None)) if b["type"] == "actions"]
    labels = [e["text"]["text"] for e in actions["elements"]]
    assert labels == ["Add an address", "Reject"]
    assert actions["elements"][0]["action_id"] == "coo:edit:3"
    [ok] = [b for b in card_blocks(_view("jane@acme.example")) if b["type"] == "actions"]
    assert [e["text"]["text"] for e in ok["elements"]] == ["Approve", "Edit", "Reject"]


@pytest.mark.parametrize("to", [None, "Tom"])
def test_telegram_offers_no_approve_and_says_how_to_add_an_address(to: str | None) -> None:
    view = _view(to)
    buttons = [b.text for row in keyboard(view.approval_id, view.can_approve).inline_keyboard for b in row]
    assert buttons == ["Reject"]
    assert "/edit 3 to=name@example.com" in card_text(view)
