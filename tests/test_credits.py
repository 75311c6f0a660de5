"""A client's credit (an over-payment's excess) shows in their profile and goes towards their next
invoice in the same currency: the card shows it, approving applies it, rejecting gives it back
(issue #11, class 5)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.ticks import run_tick
from store.books_check import check_books
from tests.conftest import phrasings
from tests.fakes.smtp import text_body

pytestmark = pytest.mark.clock


@pytest.fixture
def credited(chat):  # type: ignore[no-untyped-def]
    """Acme paid $660 on a $600 invoice: a $60.00 credit."""
    chat.say("new client: Acme, contact jane@acme.example")
    chat.say("invoice Acme for $600 for the logo")
    chat.say("/approve 1")
    chat.say("Acme paid $660 for INV-0001")
    return chat


def _ledger(chat, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    rows = chat.runtime.store.db.fetchall("SELECT payload FROM ledger WHERE kind = ? ORDER BY id", (kind,))
    return [r["payload"] if isinstance(r["payload"], dict) else __import__("json").loads(r["payload"]) for r in rows]


@phrasings("asked", ["what do we know about Acme?", "tell me about Acme", "Acme's profile", "profile for Acme"])
def test_the_credit_shows_in_the_profile(credited, asked):
    shown = credited.say(asked)
    assert "Credit: $60.00 (paid beyond its invoices; the next invoice in the same currency uses it)" in shown, shown


@phrasings(
    "said",
    ["invoice Acme for $400 for the icons", "bill Acme $400 for icon work", "send Acme an invoice for $400 for icons"],
)
def test_the_next_invoice_uses_the_credit_once_approved(credited, smtp, said):
    shown = credited.say(said)
    assert "Credit applied: −$60.00 (overpayment on INV-0001)" in shown, shown
    assert "Amount due: $340.00" in shown
    assert (
        "Acme's credit of $60.00 (overpayment on INV-0001) goes towards it once you approve: $340.00 to pay." in shown
    )
    waiting = credited.say("who owes me money?")
    assert "INV-0002 Acme: $400.00 (uses $60.00 of credit once sent: $340.00 to pay)" in waiting, waiting
    shown = credited.say("/approve 2")
    assert "Applied $60.00 of credit (overpayment on INV-0001) to INV-0002: $340.00 is left to pay." in shown
    assert "Amount due: $340.00" in text_body(smtp.messages[-1])
    owed = credited.say("who owes me money?")
    assert "INV-0002" in owed and "$340.00" in owed and "Credits" not in owed
    assert "Credit:" not in credited.say("what do we know about Acme?")
    [applied] = _ledger(credited, "credit_applied")
    assert applied["invoice"] == "INV-0002" and applied["amount"] == "60.00" and applied["currency"] == "USD"
    assert check_books(credited.runtime.store.db) == []
    # used once: the invoice after it has no credit to use
    assert "Credit applied" not in credited.say("invoice Acme for $100 for a favicon")


def test_rejecting_the_invoice_leaves_the_credit_for_the_next_one(credited):
    credited.say("invoice Acme for $400 for the icons")
    shown = credited.say("/reject 2")
    assert "The $60.00 credit it would have used is still available." in shown
    assert "Acme: $60.00" in credited.say("who owes me money?")
    assert "Credit: $60.00" in credited.say("what do we know about Acme?")
    assert "Credit applied: −$60.00 (overpayment on INV-0001)" in credited.say("invoice Acme for $250 for banners")
    assert check_books(credited.runtime.store.db) == []


def test_a_credit_larger_than_the_invoice_pays_it_and_the_rest_stays(credited):
    shown = credited.say("invoice Acme for $40 for a favicon")
    assert "Credit applied: −$40.00 (overpayment on INV-0001)" in shown and "Amount due: $0.00" in shown
    shown = credited.say("/approve 2")
    assert "Applied $40.00 of credit (overpayment on INV-0001) to INV-0002: it is paid in full." in shown
    owed = credited.say("who owes me money?")
    assert "Acme: $20.00" in owed and "INV-0002" not in owed
    assert "Credit: $20.00" in credited.say("what do we know about Acme?")
    assert credited.runtime.store.billing.get("INV-0002").status == "paid"  # type: ignore[union-attr]
    assert check_books(credited.runtime.store.db) == []


def test_editing_the_invoice_recomputes_the_credit_it_uses(credited):
    credited.say("invoice Acme for 10 hours of design at $50/h")
    shown = credited.say("/edit 2 rate=5")
    assert "Credit applied: −$50.00 (overpayment on INV-0001)" in shown and "Amount due: $0.00" in shown, shown
    credited.say("/approve 2")
    assert "Acme: $10.00" in credited.say("who owes me money?")
    assert check_books(credited.runtime.store.db) == []


def test_a_credit_in_another_currency_is_never_applied(credited):
    shown = credited.say("invoice Acme for €300 for the workshop")
    assert "Credit applied" not in shown
    assert "$60.00 of credit remains: it is in USD, this invoice in EUR, so it is not applied." in shown
    credited.say("/approve 2")
    owed = credited.say("who owes me money?")
    assert "Acme: $60.00" in owed and "€300.00" in owed
    assert check_books(credited.runtime.store.db) == []


@pytest.mark.parametrize("autonomy", ["ask", "auto"])
def test_the_retainer_tick_invoice_uses_the_credit(chat, smtp, autonomy):
    chat.say("Acme Studio signed the retainer: $4,000 a month, bill on the 1st, contact jane@acme.example")
    chat.say("/approve 1")
    chat.say("invoice Acme Studio $500 for the extra landing page")
    chat.say("/approve 2")
    chat.say("got $560 from Acme Studio for INV-0001")
    chat.say(f"/autonomy invoicer {autonomy}")
    sent = len(smtp.messages)
    run_tick(chat.runtime, date(2026, 12, 1))
    chat.runtime.queue.wait_idle()
    assert len(smtp.messages) == sent  # using a credit is never routine: it asks, even under auto
    [card] = [a.card for a in chat.runtime.store.runs.pending_approvals()]
    assert "Credit applied: −$60.00 (overpayment on INV-0001)" in card["details"]
    assert "Amount due: $3,940.00" in card["details"]
    shown = chat.say("/approve 3")
    assert "Applied $60.00 of credit (overpayment on INV-0001) to INV-0002: $3,940.00 is left to pay." in shown
    assert check_books(chat.runtime.store.db) == []


@phrasings("keep", ["credit=no", "credit=keep", "credit=off"])
def test_the_operator_can_keep_the_credit_for_later(credited, keep):
    shown = credited.say("invoice Acme for $400 for the icons")
    assert "To keep the credit for later, edit it with credit=no." in shown
    shown = credited.say(f"/edit 2 {keep}")
    assert "Edited #2 (credit → kept for later)" in shown, shown
    assert "Credit applied" not in shown and "$60.00 of credit is kept for later: not applied to this invoice." in shown
    shown = credited.say("/edit 2 rate=500")  # a later edit does not bring it back
    assert "Credit applied" not in shown
    credited.say("/approve 2")
    owed = credited.say("who owes me money?")
    assert "Acme: $60.00" in owed and "$500.00" in owed
    assert _ledger(credited, "credit_applied") == []
    assert check_books(credited.runtime.store.db) == []


def test_a_kept_credit_can_be_used_again_and_a_wrong_value_is_refused(credited):
    credited.say("invoice Acme for $400 for the icons")
    credited.say("/edit 2 credit=no")
    assert 'I can\'t read "maybe" for credit' in credited.say("/edit 2 credit=maybe")
    shown = credited.say("/edit 2 credit=yes")
    assert "Credit applied: −$60.00 (overpayment on INV-0001)" in shown and "Amount due: $340.00" in shown
    assert "$340.00 is left to pay" in credited.say("/approve 2")
    assert check_books(credited.runtime.store.db) == []


def test_credits_and_retainer_states_survive_export_and_import(make_runtime, sqlite_url, pg_url, smtp, clock):
    from store.facade import Store
    from store.snapshot import export_snapshot, import_snapshot
    from tests.conftest import ChatDriver

    chat = ChatDriver(make_runtime(database_url=sqlite_url, smtp_url=smtp.url))
    chat.say("Acme signed the retainer: $1,000 a month, bill on the 1st, contact jane@acme.example")
    chat.say("/approve 1")
    chat.say("invoice Acme for $600 for the logo")
    chat.say("/approve 2")
    chat.say("Acme paid $700 for INV-0001")
    chat.say("invoice Acme for $40 for a favicon")
    chat.say("/approve 3")  # $40 of the $100 credit applied
    chat.say("invoice Acme for $500 for the brochure")  # holds the other $60, waiting
    chat.say("pause Acme's retainer until March")
    chat.say("yes")
    first = export_snapshot(chat.runtime.store.db, clock.now())
    target = Store.open(pg_url, clock)
    try:
        assert import_snapshot(target.db, first)["credit_applications"] == 2
        assert export_snapshot(target.db, clock.now()).tables == first.tables
        [retainer] = target.work.active_retainers()
        assert retainer.paused_until == date(2027, 3, 1) and not retainer.bills_on(date(2027, 2, 1))
        assert check_books(target.db) == []
    finally:
        target.close()
