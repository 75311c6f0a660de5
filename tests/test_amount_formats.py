"""Money is an amount and a currency, however it is written: European ("1.250,00 EUR", "1 250,00 €"),
Swiss ("CHF 1'250.50") and English ("1,250.00 USD", "$1,250", "2.5k") forms read as the right
amount in the right currency; a form that reads two ways ("$1.250") is a question, never a guess."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from graphs.offline_parser import OfflineParser
from store.books_check import check_books

pytestmark = pytest.mark.clock

TODAY = date(2026, 11, 25)


def _payment(text: str):  # type: ignore[no-untyped-def]
    result = OfflineParser().parse(text, TODAY)
    assert result.intent.kind == "record_payment", (text, result.intent)
    return result


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("Globex paid 1.250,00 EUR", "1250", "EUR"),
        ("Globex paid EUR 1.250,00", "1250", "EUR"),
        ("Globex paid 1 250,00 €", "1250", "EUR"),
        ("Globex paid 1\u00a0250,00\u00a0€", "1250", "EUR"),
        ("Globex paid 1\u202f250,00 €", "1250", "EUR"),
        ("got €1.250,50 from Globex", "1250.50", "EUR"),
        ("Globex sent € 1.250,50", "1250.50", "EUR"),
        ("Globex paid CHF 1'250.50", "1250.50", "CHF"),
        ("Globex paid 1’250 CHF", "1250", "CHF"),
        ("Globex paid CHF 12’500", "12500", "CHF"),
        ("Globex paid 1,250.00 USD", "1250", "USD"),
        ("Globex paid $1,250", "1250", "USD"),
        ("Globex paid $1,250.75", "1250.75", "USD"),
        ("Globex paid 2.5k", "2500", None),
        ("Globex paid €4k", "4000", "EUR"),
        ("Globex paid €1,5k", "1500", "EUR"),
        ("Globex paid €1.250", "1250", "EUR"),
        ("Globex paid 12.500 EUR", "12500", "EUR"),
        ("Globex paid 12,50 €", "12.50", "EUR"),
        ("Globex paid 99,9 EUR", "99.90", "EUR"),
        ("Globex paid 2 500 euros", "2500", "EUR"),
        ("Globex paid 1.250.000,00 EUR", "1250000", "EUR"),
        ("Globex paid 1.250,00", "1250", None),
        ("Globex paid £1,250.50", "1250.50", "GBP"),
        ("Globex paid 300 swiss francs", "300", "CHF"),
        ("Globex paid CAD 2,400", "2400", "CAD"),
        ("Globex paid C$2,400", "2400", "CAD"),
        ("Globex paid 15 000 NOK", "15000", "NOK"),
    ],
)
def test_european_swiss_and_english_amounts_read_right(text: str, amount: str, currency: str | None) -> None:
    result = _payment(text)
    assert result.problems == []
    assert (result.intent.amount, result.intent.currency) == (Decimal(amount), currency)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "readings"),
    [
        # "." before three digits groups thousands only where the currency's convention does (EUR, DKK).
        ("Globex paid $1.250", "$1.25 or $1,250"),
        ("Globex paid £2.500", "£2.50 or £2,500"),
        ("Globex paid CHF 1.250", "CHF 1.25 or CHF 1,250"),
        # A decimal comma is a euro (franc, krone…) habit; in dollars it is a question.
        ("Globex paid $4,50", "$4.50 or $450"),
        ("Globex paid $4,0000", "$4,000 or $40,000"),
        # Dollars and pounds are not grouped with spaces: $2,500, or 2 × $500?
        ("Globex paid 2 500 dollars", "$500 or $2,500"),
        ("got 3 450 quid from Globex", "£450 or £3,450"),
    ],
)
def test_an_amount_that_reads_two_ways_is_a_question(text: str, readings: str) -> None:
    result = _payment(text)
    assert result.intent.amount is None  # type: ignore[union-attr]
    assert [p.field for p in result.problems] == ["amount"]
    assert result.problems[0].message.endswith(f"did you mean {readings}?")


@pytest.mark.parametrize("text", ["Globex paid €1.250.00", "Globex paid €12,5000", "Globex paid CHF 1'25.50"])
def test_a_malformed_amount_is_never_booked(text: str) -> None:
    result = _payment(text)
    assert result.intent.amount is None and result.problems  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "price", "currency"),
    [
        ("invoice Globex for 3 hours at €1.250,00", "1250", "EUR"),
        ("invoice Globex 10h at 95,50 €/h", "95.50", "EUR"),
        ("invoice Globex GmbH CHF 4'800 for the brand workshop", "4800", "CHF"),
        ("bill Globex 1.500,00 EUR for the logo", "1500", "EUR"),
    ],
)
def test_invoice_lines_read_european_and_swiss_prices(text: str, price: str, currency: str) -> None:
    intent = OfflineParser().parse(text, TODAY).intent
    assert intent.kind == "create_invoice"
    assert [i.unit_price for i in intent.items] == [Decimal(price)] and intent.currency == currency  # type: ignore[union-attr]


def test_a_price_and_a_count_are_not_one_spaced_number() -> None:
    intent = OfflineParser().parse("invoice Globex $5 200 flyers", TODAY).intent
    assert [(i.unit_price, i.description) for i in intent.items] == [(Decimal(5), "200 flyers")]  # type: ignore[union-attr]


def test_an_ambiguous_invoice_price_bills_nothing() -> None:
    result = OfflineParser().parse("invoice Globex $1.500 for the logo", TODAY)
    assert result.intent.items == []  # type: ignore[union-attr]
    assert result.problems[0].message.endswith("did you mean $1.50 or $1,500?")


@pytest.mark.parametrize(
    ("answer", "amount"), [("1.250,00 €", "1250"), ("CHF 1'250", "1250"), ("€1.250", "1250"), ("1,250", "1250")]
)
def test_an_answer_to_how_much_reads_the_same_way(answer: str, amount: str) -> None:
    assert OfflineParser().parse_field("amount", answer, TODAY) == Decimal(amount)


def test_an_answer_that_reads_two_ways_is_asked_again() -> None:
    with pytest.raises(ValueError, match=r"did you mean \$1.25 or \$1,250\?"):
        OfflineParser().parse_field("amount", "$1.250", TODAY)


def test_a_european_invoice_and_its_payment_in_chat(chat) -> None:  # type: ignore[no-untyped-def]
    chat.say("new client: Globex GmbH, contact ap@globex.example")
    shown = chat.say("invoice Globex GmbH for 1.250,00 EUR for the brand workshop")
    assert "€1,250.00" in shown, shown
    chat.say("/approve 1")
    shown = chat.say("Globex GmbH paid €1.250,00 for INV-0001")
    assert "INV-0001 (now paid in full)" in shown, shown
    assert check_books(chat.runtime.store.db) == []


def test_an_ambiguous_payment_is_asked_about_in_chat_and_the_answer_is_booked(chat) -> None:  # type: ignore[no-untyped-def]
    chat.say("new client: Globex GmbH, contact ap@globex.example")
    chat.say("invoice Globex GmbH for $1,250 for the brand workshop")
    chat.say("/approve 1")
    shown = chat.say("Globex GmbH paid $1.250 for INV-0001")
    assert "did you mean $1.25 or $1,250?" in shown, shown
    assert chat.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM payments") == 0
    shown = chat.say("$1,250")
    assert "INV-0001 (now paid in full)" in shown, shown
    assert check_books(chat.runtime.store.db) == []
