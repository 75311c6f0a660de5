"""A question coo asked only takes an answer that fits it: a request of its own is handled as
one (and coo says what became of the question); old questions lapse."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.clock


@pytest.mark.parametrize(
    "request_of_its_own",
    [
        "what's overdue?",
        "who owes me money?",
        "show my clients",
        "any approvals waiting?",
        "what do we know about Globex?",
        "new client: Initech, contact bill@initech.example",
        "remind me to call the accountant tomorrow",
    ],
)
def test_a_question_or_another_request_is_not_taken_as_the_answer(chat, request_of_its_own):
    asked = chat.say("invoice Bob Lee")
    assert "What should the invoice say?" in asked
    shown = chat.say(request_of_its_own)
    assert "set aside my question about “invoice Bob Lee”" in shown
    assert chat.runtime.store.conversations.pending_question("console:console") is None
    assert not [c for c in chat.runtime.store.clients.all() if c.name.lower().startswith(("show", "what", "who"))]


@pytest.mark.parametrize(
    ("first", "other"),
    [
        ("invoice Bob Lee", "invoice Globex for 3 hours of design at $90/h"),
        ("Acme Studio signed the retainer", "Globex signed the retainer: $2,000 a month, bill on the 1st"),
        ("draft a proposal", "draft a proposal for Globex for a brand refresh, $6k"),
    ],
)
def test_a_request_about_another_client_is_its_own(chat, first, other):
    chat.say("new client: Globex, contact ops@globex.example")
    assert "(or /cancel)" in chat.say(first)
    shown = chat.say(other)
    assert "set aside my question" in shown
    assert "Globex" in shown


def test_the_fitting_answer_still_completes_the_request(chat):
    assert "What should the invoice say?" in chat.say("invoice Bob Lee")
    shown = chat.say("12 hours of logo work at $95/h")
    assert "set aside" not in shown and "Invoice #INV-0001 for Bob Lee: $1,140.00" in shown


def test_an_old_question_lapses_and_says_so(chat, clock):
    assert "(or /cancel)" in chat.say("invoice Bob Lee")
    clock.advance(hours=13)
    shown = chat.say("12 hours of logo work at $95/h")
    assert "My question about “invoice Bob Lee” from earlier has lapsed." in shown
    assert "Invoice #" not in shown


def test_a_payment_for_another_client_is_not_booked_to_the_one_asked_about(chat):
    chat.say("new client: Acme, contact jane@acme.example")
    chat.say("new client: Globex, contact ops@globex.example")
    chat.say("invoice Acme for $600 for the logo")
    chat.say("/approve 1")
    chat.say("invoice Globex for $300 for the icons")
    chat.say("/approve 2")
    asked = chat.say("Acme paid")
    assert "(or /cancel)" in asked
    shown = chat.say("Globex paid $300")
    assert "set aside my question" in shown
    rows = chat.runtime.store.db.fetchall(
        "SELECT c.name, p.amount_cents FROM payments p JOIN invoices i ON i.id = p.invoice_id"
        " JOIN clients c ON c.id = i.client_id"
    )
    assert [(r["name"], r["amount_cents"]) for r in rows] == [("Globex", 30000)]
