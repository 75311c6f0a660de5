"""Changing a client's currency by chat (issue #12): "Globex is billed in EUR from now on" asks
first (money), never converts invoices already made, and new invoices use it; undo puts it back."""

from __future__ import annotations

import pytest

from store.books_check import check_books

pytestmark = pytest.mark.clock  # the clock is 2026-11-25


@pytest.fixture
def globex(chat, smtp):  # type: ignore[no-untyped-def]
    chat.say("new client: Globex, contact jane@globex.example")
    chat.say("invoice Globex for $4,000 for the website")
    chat.say("/approve 1")
    smtp.wait_for(1)
    return chat


def _currency(chat) -> str:  # type: ignore[no-untyped-def]
    [client] = chat.runtime.store.clients.find("Globex")
    return client.currency


def test_a_new_currency_asks_first_converts_nothing_and_new_invoices_use_it(globex):
    shown = globex.say("Globex is billed in EUR from now on")
    assert "Bill Globex in EUR from now on?" in shown, shown
    assert "Currency: USD → EUR" in shown
    assert "Nothing is converted: invoices already made keep their currency and amounts." in shown
    assert "Still owed as before: INV-0001 $4,000.00." in shown
    assert _currency(globex) == "USD"  # nothing until "yes"
    shown = globex.say("yes")
    assert "Globex is billed in EUR from now on (was USD); nothing was converted. 1 open invoice keeps theirs." in shown
    assert _currency(globex) == "EUR"
    old = globex.runtime.store.billing.get("INV-0001")
    assert (old.currency, old.total_cents) == ("USD", 400_000)
    shown = globex.say("invoice Globex for 2 days of workshop at 800 per day")
    assert "Invoice #INV-0002 for Globex: €1,600.00" in shown, shown
    assert globex.runtime.store.billing.get("INV-0002").currency == "EUR"
    assert check_books(globex.runtime.store.db) == []


def test_no_keeps_the_currency_and_undo_puts_it_back(globex):
    globex.say("switch Globex to GBP")
    assert "nothing" in globex.say("no").lower()
    assert _currency(globex) == "USD"
    globex.say("change Globex's currency to CHF")
    globex.say("yes")
    assert _currency(globex) == "CHF"
    shown = globex.say("undo")
    assert "Undone: Globex's currency changed from USD to CHF. Globex is billed in USD again." in shown, shown
    assert _currency(globex) == "USD"


def test_the_same_currency_changes_nothing(globex):
    assert "Nothing changed: Globex is already billed in USD." in globex.say("bill Globex in dollars from now on")
