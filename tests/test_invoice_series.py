"""Invoice number series (issue #17): the seller's format with a prefix and the year, restarting
each year by the invoice's issue date, gapless within a year, read back everywhere a number is
said — chat, a bank CSV, `coo invoice pdf`, `coo books check` — on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pypdf
import pytest

from store.books_check import check_books
from store.invoice_numbers import NumberFormat, NumberFormatError, number_tokens

pytestmark = pytest.mark.clock  # the clock is 2026-11-25; the year end is crossed on purpose


def test_a_format_numbers_per_year_and_bad_ones_are_refused():
    fmt = NumberFormat.parse("ACME-{year}-{seq:04}")
    assert fmt.render(2026, 7) == "ACME-2026-0007" and fmt.render(2027, 12345) == "ACME-2027-12345"
    assert fmt.series(2026) != fmt.series(2027)  # a counter per year
    assert NumberFormat.parse("INV-{seq:04}").series(2026) == NumberFormat.parse("INV-{seq:04}").series(2027)
    for bad in ["ACME", "{year}-{seq}", "ACME {seq}", "ACME-{seq}-X", "A-{seq}-{seq}", "A-{year:2}-{seq}"]:
        with pytest.raises(NumberFormatError):
            NumberFormat.parse(bad)
    assert number_tokens("ref ACME-2026-0007 / inv 7") == ["ACME-2026-0007"]


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_numbers_restart_each_year_and_are_read_back_in_chat_csv_pdf_and_books(chat, clock, coo, tmp_path):
    refused = chat.say("/profile number_format=ACME {seq}")
    assert "Nothing was changed" in refused and "number_format" in refused
    assert "Saved" in chat.say(
        "/profile number_format=ACME-{year}-{seq:04} legal_name=Ana Ruiz Design LLC address=1 Main St; Springfield"
        " country=US payment_link=https://pay.example/ana"
    )
    chat.say("new client: Bluefin, contact marta@bluefin.example")
    for n, amount in enumerate(["1,000", "2,000"], start=1):
        shown = chat.say(f"invoice Bluefin ${amount} for design")
        print(shown)
        assert f"ACME-2026-000{n}" in shown
        print(chat.say(f"/approve {n}"))
    clock.advance(days=40)  # 2027-01-04: a new year, a new sequence
    shown = chat.say("invoice Bluefin $3,000 for design")
    print(shown)
    assert "ACME-2027-0001" in shown
    print(chat.say("/approve 3"))
    print(chat.say("paid ACME-2026-0002"))
    print(chat.say("void ACME-2026-0001"))
    print(chat.say("show ACME-2027-0001"))
    print(chat.say("what's the status of inv 1?"))
    billing = chat.runtime.store.billing
    print([(i.number, i.status, i.series, i.series_seq) for i in billing.invoices()])
    assert check_books(chat.runtime.store.db) == []
