"""A payment is an amount and a currency: one without a currency takes the invoice's (and coo
says so); one in another currency never settles an invoice."""

from __future__ import annotations

import pytest

from store.books_check import check_books

pytestmark = pytest.mark.clock


@pytest.fixture
def euro_invoice(chat):  # type: ignore[no-untyped-def]
    chat.say("new client: Globex GmbH, contact ap@globex.example")
    shown = chat.say("invoice Globex GmbH for €500 for the brand workshop")
    assert "€500.00" in shown, shown
    chat.say("/approve 1")
    return chat


@pytest.mark.parametrize(
    "said",
    [
        "Globex GmbH paid 500 for INV-0001",
        "got 500 from Globex GmbH",
        "Globex GmbH paid 500",
        "INV-0001 was paid, 500",
    ],
)
def test_no_currency_said_takes_the_invoices_and_says_so(euro_invoice, said):
    shown = euro_invoice.say(said)
    assert "€500.00 (the invoice's currency, EUR: you didn't say one)" in shown, shown
    assert "INV-0001 (now paid in full)" in shown
    if "INV-" not in said:  # coo chose the invoice, and says how
        assert "Matched by amount: INV-0001's balance is exactly €500.00." in shown
    assert check_books(euro_invoice.runtime.store.db) == []


@pytest.mark.parametrize(
    "said",
    [
        "Globex GmbH paid $500 for INV-0001",
        "got $500 from Globex GmbH for INV-0001",
        "Globex GmbH paid £500 for INV-0001",
        "INV-0001: received USD 500 from Globex GmbH",
    ],
)
def test_another_currency_never_settles_the_invoice(euro_invoice, said):
    shown = euro_invoice.say(said)
    assert "so I recorded nothing" in shown and "EUR" in shown, shown
    store = euro_invoice.runtime.store
    assert store.db.scalar("SELECT COUNT(*) AS n FROM payments") == 0
    assert store.billing.get("INV-0001").status != "paid"
    assert check_books(store.db) == []


def test_a_dollar_payment_by_name_is_not_matched_to_a_euro_invoice(euro_invoice):
    shown = euro_invoice.say("Globex GmbH paid $500")
    assert "$500.00 is in USD, but Globex GmbH's open invoices are not (INV-0001 €500.00)" in shown, shown
    assert "a payment in another currency never settles them" in shown
    store = euro_invoice.runtime.store
    assert store.db.scalar("SELECT COUNT(*) AS n FROM payments") == 0  # a question, never a booking
    shown = euro_invoice.say("credit")
    assert "Recorded $500.00 from Globex GmbH on 2026-11-25 as a credit for Globex GmbH." in shown, shown
    assert store.billing.get("INV-0001").status != "paid"
    assert check_books(store.db) == []


@pytest.mark.parametrize(
    "said",
    [
        "invoice Globex GmbH for 500 for the workshop",
        "invoice Globex GmbH for 5 hours of workshop prep at 100/h",
        "invoice Globex GmbH 500 for the workshop",
    ],
)
def test_an_invoice_without_a_currency_is_in_the_clients(chat, said):
    chat.say("Globex GmbH signed the retainer: €2,000 a month, bill on the 1st, contact ap@globex.example")
    shown = chat.say(said)
    assert "€500.00" in shown and "In EUR, Globex GmbH's currency (you didn't say one)." in shown, shown


def test_an_invoice_in_a_currency_said_keeps_it(chat):
    chat.say("Globex GmbH signed the retainer: €2,000 a month, bill on the 1st, contact ap@globex.example")
    shown = chat.say("invoice Globex GmbH for $500 for the workshop")
    assert "$500.00" in shown and "you didn't say one" not in shown


def test_the_card_never_compares_amounts_in_two_currencies(euro_invoice):
    shown = euro_invoice.say("invoice Globex GmbH for $300 for the icons")
    assert "Last invoice INV-0001" in shown and "€500.00" in shown, shown
    assert "this one is in USD, not EUR (not compared across currencies)." in shown
    assert "−" not in shown.split("Last invoice")[1].splitlines()[0]  # no difference computed
    shown = euro_invoice.say("invoice Globex GmbH for €550 for the workshop follow-up")
    assert "Last invoice INV-0002" in shown and "not compared across currencies" in shown


def test_an_invoice_without_a_currency_follows_the_clients_last_invoice(chat):
    chat.say("new client: Helvetia AG, contact ap@helvetia.example")
    chat.say("invoice Helvetia AG for CHF 1'200 for the audit")
    shown = chat.say("invoice Helvetia AG for 300 for the follow-up")
    assert "Invoice #INV-0002 for Helvetia AG: 300.00 CHF" in shown, shown
    assert "In CHF, Helvetia AG's currency (you didn't say one)." in shown
