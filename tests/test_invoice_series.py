"""Invoice number series (issue #17): the seller's format with a prefix and the year, restarting
each year by the invoice's issue date, gapless within a year, read back everywhere a number is
said — chat, a bank CSV, `coo invoice pdf`, `coo books check` — on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pypdf
import pytest

from store.books_check import check_books
from store.invoice_numbers import NumberFormat, NumberFormatError, file_name, number_tokens

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
        assert f"Please find invoice ACME-2026-000{n} below." in chat.say(f"invoice Bluefin ${amount} for design")
        assert f"Sent invoice #ACME-2026-000{n}" in chat.say(f"/approve {n}")
    clock.advance(days=40)  # 2027-01-04: the sequence restarts by the invoice's issue date
    assert "Please find invoice ACME-2027-0001 below." in chat.say("invoice Bluefin $3,000 for design")
    assert "Sent invoice #ACME-2027-0001" in chat.say("/approve 3")

    # Chat: paid, void and looked up by the new numbers ("inv 1" is this year's first).
    paid = chat.say("Bluefin paid $2,000 for ACME-2026-0002")
    assert "ACME-2026-0002" in paid
    billing = chat.runtime.store.billing
    assert billing.get("ACME-2026-0002").status == "paid"
    # A client's own reference shaped like a number is not taken for an invoice.
    assert "There is no invoice" not in chat.say("Bluefin paid $50 for PO-4471")
    assert "Void ACME-2026-0001 and send credit note CN-0001" in chat.say("void ACME-2026-0001")
    chat.say("/approve 4")
    assert billing.get("ACME-2026-0001").status == "void"
    assert chat.say("show ACME-2027-0001").startswith("coo> " + "ACME-2027-0001 — Bluefin, issued 2027-01-04")
    assert chat.say("what's the status of inv 1?").startswith("coo> " + "ACME-2027-0001 — Bluefin")
    assert [(i.number, i.series_seq) for i in billing.invoices()] == [
        ("ACME-2026-0001", 1),
        ("ACME-2026-0002", 2),
        ("ACME-2027-0001", 1),
    ]
    assert check_books(chat.runtime.store.db) == []
    chat.runtime.close()
    database = {"COO_DATABASE_URL": chat.runtime.settings.database}

    # A bank CSV whose reference is the new number pays that invoice.
    csv = tmp_path / "bank.csv"
    csv.write_text(
        'Date,Description,Amount,Balance\n2027-01-04,BLUEFIN MEDIA SEPA CREDIT REF ACME-2027-0001,"3,000.00","9,000.00"\n'
    )
    imported = coo(["import-payments", str(csv)], database)
    assert imported.returncode == 0, imported.stderr
    assert "ACME-2027-0001" in imported.stdout

    # `coo invoice pdf NUMBER` writes the document under its number.
    out = tmp_path / "inv.pdf"
    done = coo(["invoice", "pdf", "ACME-2027-0001", "-o", str(out)], database)
    assert done.returncode == 0, done.stderr
    assert "Invoice ACME-2027-0001: $3,000.00" in done.stdout
    assert "Number: ACME-2027-0001" in _text(out.read_bytes())

    # `coo books check`: clean, then a gap in the new format is named per series and year.
    checked = coo(["books", "check"], database)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("Books OK: 3 invoices")
    from store.facade import Store

    store = Store.open(chat.runtime.settings.database, clock)
    try:
        with store.db.transaction() as tx:
            tx.execute("UPDATE invoices SET series_seq = 3, number = 'ACME-2027-0003' WHERE number = 'ACME-2027-0001'")
    finally:
        store.close()
    broken = coo(["books", "check"], database)
    assert broken.returncode == 1
    assert "number_gap: ACME-2027-0003: numbers 1 to 2 are missing" in broken.stdout
    assert "the counter of the series ACME-{year}-{seq:04} in 2027 is at 1 but the last invoice is number 3" in (
        broken.stdout
    )
    assert "ACME-2026" not in broken.stdout  # last year's series is whole


def test_coo_profile_sets_the_number_format_and_refuses_a_bad_one(coo):
    bad = coo(["profile", "number_format=2026-{seq}"])
    assert bad.returncode == 1 and "Nothing was changed" in bad.stdout and "needs a prefix with letters" in bad.stdout
    done = coo(["profile", "number_format=ACME/{year}/{seq:03}"])
    assert done.returncode == 0, done.stdout
    assert "• number_format: ACME/{year}/{seq:03}" in done.stdout
    assert file_name(NumberFormat.parse("ACME/{year}/{seq:03}").render(2026, 7)) == "ACME-2026-007.pdf"
