"""A payment told in chat is booked only when its invoice is certain (issue #11): the number was
said, or the amount is exactly one open invoice's balance — and coo says how it matched.
Anything else is a question first, answered with an invoice number, "yes" or "credit"."""

from __future__ import annotations

import pytest

from store.books_check import check_books
from tests.conftest import phrasings

pytestmark = pytest.mark.clock


@pytest.fixture
def two_invoices(chat):  # type: ignore[no-untyped-def]
    chat.say("new client: Globex, contact pay@globex.example")
    chat.say("invoice Globex $600 for october design work")
    chat.say("/approve 1")
    chat.say("invoice Globex $300 for logo tweaks")
    chat.say("/approve 2")
    return chat


def _payments(chat) -> int:
    return int(chat.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM payments") or 0)


@phrasings(
    "said",
    ["Globex paid $300", "got $300 from Globex", "received $300 from Globex", "Globex sent $300", "Globex paid 300"],
)
def test_an_amount_equal_to_one_balance_is_booked_and_says_how(two_invoices, said):
    shown = two_invoices.say(said)
    assert "Recorded $300.00" in shown and "from Globex against INV-0002 (now paid in full)." in shown, shown
    assert "Matched by amount: INV-0002's balance is exactly $300.00." in shown
    assert _payments(two_invoices) == 1


@pytest.mark.parametrize(
    "said", ["Globex paid $250", "got $250 from Globex", "received $1,000 from Globex", "Globex sent $299.99"]
)
def test_an_amount_that_is_no_balance_is_a_question_and_nothing_is_booked(two_invoices, said):
    shown = two_invoices.say(said)
    assert "is not the balance of any of Globex's open invoices (INV-0001 $600.00, INV-0002 $300.00)" in shown, shown
    assert 'Which invoice is it for? Reply with its number, or "credit". (or /cancel)' in shown
    assert _payments(two_invoices) == 0


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("INV-0001", "against INV-0001 ($350.00 still open)"),
        ("it's for inv-0001", "against INV-0001 ($350.00 still open)"),
        ("INV-0002", "against INV-0002 ($50.00 still open)"),
        ("credit", "on 2026-11-25 as a credit for Globex."),
        ("keep it as credit", "as a credit for Globex."),
    ],
)
def test_the_answer_completes_the_same_payment(two_invoices, answer, expected):
    two_invoices.say("Globex paid $250")
    shown = two_invoices.say(answer)
    assert "Recorded $250.00 from Globex" in shown and expected in shown, shown
    assert _payments(two_invoices) == 1
    assert check_books(two_invoices.runtime.store.db) == []


def test_answers_that_cannot_be_right_are_refused_and_the_question_stays(two_invoices):
    two_invoices.say("new client: Initech, contact ap@initech.example")
    two_invoices.say("invoice Initech $90 for icons")
    two_invoices.say("/approve 3")
    two_invoices.say("Globex paid $250")
    assert "There is no invoice INV-0099. (or /cancel)" in two_invoices.say("INV-0099")
    assert "INV-0003 is not Globex's invoice. (or /cancel)" in two_invoices.say("INV-0003")
    assert 'Reply with the invoice number (e.g. INV-0001), or "credit".' in two_invoices.say("yes")  # which one?
    assert _payments(two_invoices) == 0
    assert "against INV-0001" in two_invoices.say("INV-0001")


def test_one_open_invoice_is_suggested_and_yes_takes_it(chat):
    chat.say("new client: Acme, contact jane@acme.example")
    chat.say("invoice Acme $600 for the logo")
    chat.say("/approve 1")
    shown = chat.say("Acme paid $200")
    assert "Acme has INV-0001 $600.00 open; $200.00 is less than that. Is it for INV-0001?" in shown, shown
    shown = chat.say("yes")
    assert "Recorded $200.00 from Acme against INV-0001 ($400.00 still open)." in shown
    assert "Matched by amount" not in shown  # the operator chose it


def test_two_invoices_with_the_same_balance_ask_which(chat):
    chat.say("new client: Acme, contact jane@acme.example")
    for n in (1, 2):
        chat.say("invoice Acme $500 for a workshop")
        chat.say(f"/approve {n}")
    shown = chat.say("Acme paid $500")
    assert "INV-0001 $500.00, INV-0002 $500.00 each have $500.00 open. Which one is it for?" in shown, shown
    assert "against INV-0002 (now paid in full)" in chat.say("INV-0002")


def test_a_client_with_nothing_open_is_asked_before_a_credit(chat):
    chat.say("new client: Acme, contact jane@acme.example")
    shown = chat.say("Acme paid $120")
    assert "Acme has no open invoice. Keep $120.00 as a credit for them?" in shown, shown
    assert _payments(chat) == 0
    assert "as a credit for Acme." in chat.say("credit")
    assert "Acme: $120.00" in chat.say("who owes me money?")


def test_a_request_of_its_own_sets_the_question_aside(two_invoices):
    two_invoices.say("Globex paid $250")
    shown = two_invoices.say("what's overdue?")
    assert "set aside my question about “Globex paid $250”" in shown
    assert _payments(two_invoices) == 0
    shown = two_invoices.say("Globex paid $300")  # a complete, certain payment: no question left over
    assert "against INV-0002 (now paid in full)" in shown


@phrasings(
    "said",
    ["Globex paid $300 for INV-0001", "got $300 from Globex for invoice INV-0001", "INV-0001 was paid, $300"],
)
def test_a_named_invoice_is_certain(two_invoices, said):
    shown = two_invoices.say(said)
    assert "Recorded $300.00 from Globex against INV-0001 ($300.00 still open)." in shown, shown
    assert "Matched by amount" not in shown


@phrasings(
    "said",
    ["Globex paid INV-0001 in full", "INV-0001 was paid in full", "Globex settled INV-0001", "INV-0001 paid in full"],
)
def test_paid_in_full_is_the_invoices_balance(two_invoices, said):
    shown = two_invoices.say(said)
    assert "against INV-0001 (now paid in full)" in shown, shown
    assert "$600.00" in shown
