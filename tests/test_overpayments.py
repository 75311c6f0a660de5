"""Over- and under-payments are said; an excess is a visible credit; totals are per currency."""

from __future__ import annotations

import pytest

from store.books_check import check_books
from tests.conftest import phrasings

pytestmark = pytest.mark.clock


@pytest.fixture
def invoiced(chat):  # type: ignore[no-untyped-def]
    chat.say("new client: Acme, contact jane@acme.example")
    chat.say("invoice Acme for $600 for the logo")
    chat.say("/approve 1")
    return chat


@phrasings("said", ["Acme paid $660", "got $660 from Acme for INV-0001", "Acme sent $660"])
def test_an_over_payment_settles_the_invoice_and_the_rest_is_a_visible_credit(invoiced, said):
    shown = invoiced.say(said)
    if "INV-" not in said:  # not the invoice's balance: coo asks which invoice before booking
        assert "Acme has INV-0001 $600.00 open; $660.00 is more than that. Is it for INV-0001?" in shown, shown
        assert invoiced.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM payments") == 0
        shown = invoiced.say("yes")
    assert "INV-0001 (now paid in full; $60.00 more than it was owed is kept as a credit for Acme)" in shown, shown
    owed = invoiced.say("who owes me money?")
    assert "Credits" in owed and "Acme: $60.00" in owed
    assert check_books(invoiced.runtime.store.db) == []


@phrasings("said", ["Acme paid $450", "got $450 from Acme for INV-0001"])
def test_an_under_payment_says_what_is_still_open(invoiced, said):
    shown = invoiced.say(said)
    if "INV-" not in said:
        assert "$450.00 is less than that. Is it for INV-0001?" in shown, shown
        shown = invoiced.say("INV-0001")
    assert "INV-0001 ($150.00 still open)" in shown, shown
    assert check_books(invoiced.runtime.store.db) == []


def test_totals_are_per_currency_never_added_across(chat):
    chat.say("new client: Acme, contact jane@acme.example")
    chat.say("new client: Globex GmbH, contact ap@globex.example")
    chat.say("new client: Initech Ltd, contact ap@initech.example")
    chat.say("invoice Acme for $600 for the logo")
    chat.say("invoice Globex GmbH for €500 for the workshop")
    chat.say("invoice Initech Ltd for £250 for the icons")
    for n in (1, 2, 3):
        chat.say(f"/approve {n}")
    owed = chat.say("who owes me money?")
    assert "€500.00 + £250.00 + $600.00 outstanding" in owed or "$600.00 + €500.00 + £250.00" in owed, owed
    summary = chat.say("how are things?")
    assert "$1,350.00" not in owed + summary
