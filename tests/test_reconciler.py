"""The invoice reconciler, driven as the operator does: `coo import-payments FILE` and a CSV
dropped into the chat, on exports in the shapes banks, Stripe and PayPal produce (tests/data/payments),
including the rows it must not match; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date
from decimal import Decimal
from pathlib import Path

import pytest

from agents.bank_csv import UnreadableExport, parse_amount, parse_export
from store.billing import NewLine
from store.facade import Store
from store.models import LedgerEvent
from tests.channels import TG_OPERATOR, telegram_settings
from tests.conftest import CliResult

pytestmark = pytest.mark.clock  # scripts/test runs these again with the process time shifted

DATA = Path(__file__).parent / "data" / "payments"

# Open invoices: INV-0001 Acme $4,000 · INV-0002 Bob Lee $1,140 · INV-0003 Globex €2,500 ·
# INV-0004 Initech $750 · INV-0005 Umbrella $750 (the same balance as INV-0004, on purpose).
CLIENTS = [
    ("Acme Studio", "jane@acme.example", "USD", "4000"),
    ("Bob Lee", "bob@lee.example", "USD", "1140"),
    ("Globex GmbH", "billing@globex.de", "EUR", "2500"),
    ("Initech", "ops@initech.example", "USD", "750"),
    ("Umbrella Corp", "u@umbrella.example", "USD", "750"),
]


def seed(store: Store) -> None:
    with store.db.transaction() as tx:
        for n, (name, email, currency, amount) in enumerate(CLIENTS):
            client, _ = store.clients.upsert(tx, name, contact_email=email, currency=currency)
            invoice = store.billing.create_invoice(
                tx,
                client.id,
                [NewLine(description="design work", quantity=Decimal(1), unit_price=Decimal(amount))],
                currency,
                date(2026, 11, 1),
                date(2026, 12, 1),
                f"seed-{n}",
            )
            store.billing.set_status(tx, invoice.id, "sent")


@pytest.fixture
def store(db_url: str, clock, coo_env, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A seeded database that `coo` (in process) uses too."""
    monkeypatch.setenv("COO_DATABASE_URL", db_url)
    opened = Store.open(db_url, clock)
    seed(opened)
    yield opened
    opened.close()


def coo_import(coo: Callable[[list[str]], CliResult], *args: str) -> str:
    """`coo import-payments ARGS` in process, on the test's clock."""
    result = coo(["import-payments", *args])
    assert result.returncode == 0, result.stderr
    return result.stdout


def status(store: Store, number: str) -> tuple[str, Decimal]:
    invoice = store.billing.get(number)
    assert invoice is not None
    return invoice.status, invoice.balance


def reconciled(store: Store) -> list[dict]:
    rows = store.db.fetchall("SELECT * FROM ledger WHERE kind = 'payment_reconciled' ORDER BY id")
    return [LedgerEvent.model_validate(r).payload for r in rows]


def payments(store: Store) -> int:
    return int(store.db.scalar("SELECT COUNT(*) AS n FROM payments"))


def test_us_bank_export_records_the_reference_match_and_asks_the_rest(store, coo):
    out = coo_import(coo, str(DATA / "us_bank.csv"))
    assert "bank export with signed amounts (','-separated, amounts like 1,234.56, dates mm/dd/yyyy)" in out
    assert "1 matched · 2 to ask about · 3 ignored · 1 unreadable." in out
    assert "The file doesn't say its currency; amounts read as USD." in out
    assert (
        "✓ line 2, 2026-11-20, $4,000.00 from ACME STUDIO LLC ACH CREDIT REF INV-0001 → INV-0001 "
        "(Acme Studio; by reference INV-0001)"
    ) in out
    # The supplier debit for the same $4,000 is outgoing money, never a payment.
    assert "– line 3, 2026-11-20, $4,000.00 from ADOBE SYSTEMS CC PAYMENT: outgoing" in out
    # $750 with no payer and two invoices of $750: asked, not picked.
    assert (
        "1. line 4, 2026-11-21, $750.00 from ZELLE FROM JOHN SMITH: no client or invoice I can tie it to; "
        "2 open invoices have that amount"
    ) in out
    assert (
        "2. line 5, 2026-11-22, $500.00 from BOB LEE ONLINE TRANSFER: from Bob Lee; their INV-0002 has "
        "$1,140.00 open: record it as a partial payment?" in out
    )
    assert "To record it, say: Bob Lee paid $500.00 for INV-0002 on 2026-11-22" in out
    assert "$1,234.56 from STRIPE TRANSFER ST-X1Y2Z3: a payout from a payment provider" in out
    assert "– line 7, 2026-11-24, $15.00 from MONTHLY SERVICE FEE: outgoing" in out
    assert "! line 8: can't read '12.5.0' as an amount" in out

    assert status(store, "INV-0001") == ("paid", Decimal("0.00"))
    assert status(store, "INV-0002") == ("sent", Decimal("1140.00"))
    assert status(store, "INV-0004") == ("sent", Decimal("750.00"))
    assert status(store, "INV-0005") == ("sent", Decimal("750.00"))
    [event] = reconciled(store)
    assert event["invoice"] == "INV-0001" and event["amount"] == "4000.00" and event["line"] == 2
    assert len(event["fingerprint"]) == 32 and event["invoice_status"] == "paid"
    [run] = [r for r in store.runs.recent(5) if r.kind == "import_payments"]
    assert run.status == "done" and "1 matched, 2 to ask about, 3 ignored, 1 unreadable" in (run.summary or "")

    again = coo_import(coo, str(DATA / "us_bank.csv"))
    assert "0 matched · 2 to ask about · 4 ignored · 1 unreadable." in again
    assert "$4,000.00 from ACME STUDIO LLC ACH CREDIT REF INV-0001: already imported on 2026-11-25 (INV-0001)" in again
    assert "(asked before on 2026-11-25)" in again
    assert payments(store) == 1 and len(reconciled(store)) == 1
    assert status(store, "INV-0001") == ("paid", Decimal("0.00"))


def test_debit_credit_columns_tab_separated(store, coo):
    out = coo_import(coo, str(DATA / "debit_credit.tsv"))
    assert "bank export with Debit/Credit columns (tab-separated" in out
    assert "✓ line 3, 2026-11-19, $1,140.00 from Bob Lee invoice 2 → INV-0002 (Bob Lee; by reference INV-0002)" in out
    # "Initech ops" holds Initech's name and more: a question (with the message that records it),
    # never a booking, and never Umbrella's $750 either.
    assert (
        "1. line 4, 2026-11-19, $750.00 from Initech ops payment: Is Initech ops the same as your client "
        "Initech? If it is, it pays INV-0004 ($750.00), but other open invoices have the same amount."
    ) in out
    assert "To record it, say: Initech paid $750.00 for INV-0004 on 2026-11-19" in out
    assert "$45.00 from Card payment FIGMA: outgoing" in out and "$200.00 from Refund to client: outgoing" in out
    assert status(store, "INV-0002")[0] == "paid" and status(store, "INV-0004")[0] == "sent"
    assert status(store, "INV-0005") == ("sent", Decimal("750.00"))


def test_german_bank_semicolons_decimal_commas_and_currency_check(store, coo):
    out = coo_import(coo, str(DATA / "de_bank.csv"))
    assert "(';'-separated, amounts like 1.234,56, dates dd.mm.yyyy)" in out
    assert "✓ line 6, 2026-11-24, €2,500.00 from Globex GmbH → INV-0003 (Globex GmbH; by reference INV-0003)" in out
    # The rent debit of the same €2,500 is not Globex paying twice.
    assert "€2,500.00 from Bueromiete Schmidt KG: outgoing" in out
    # Acme owes $4,000; €4.000,00 from Acme is not that invoice.
    assert "€4,000.00 from ACME STUDIO LLC: from Acme Studio, whose open invoices are in USD, not EUR" in out
    assert "€1,000.00 from Globex GmbH: from Globex GmbH, who has no open invoice: record it as a credit?" in out
    assert "Endsaldo" not in out and "unreadable" in out and "0 unreadable" in out
    assert status(store, "INV-0003") == ("paid", Decimal("0.00"))
    assert status(store, "INV-0001") == ("sent", Decimal("4000.00"))
    assert [e["currency"] for e in reconciled(store)] == ["EUR"]


def test_stripe_export_failed_and_refunded_charges_are_not_payments(store, coo):
    out = coo_import(coo, str(DATA / "stripe_payments.csv"))
    assert "Stripe export" in out
    assert "✓ line 2, 2026-11-20, $4,000.00 from Acme Studio → INV-0001 (Acme Studio; by reference INV-0001)" in out
    assert "– line 3, 2026-11-20, $1,140.00 from Bob Lee: failed or cancelled charge (status failed)" in out
    assert "– line 4, 2026-11-21, $1,140.00 from Bob Lee: refunded" in out
    assert "✓ line 5, 2026-11-22, $1,140.00 from bob@lee.example → INV-0002 (Bob Lee; by payer and amount)" in out
    assert (
        "line 6, 2026-11-23, $750.00 from someone@gmail.com: no client or invoice I can tie it to; "
        "2 open invoices have that amount"
    ) in out
    assert payments(store) == 2
    assert status(store, "INV-0002") == ("paid", Decimal("0.00"))
    assert status(store, "INV-0004")[0] == status(store, "INV-0005")[0] == "sent"


def test_paypal_gross_counts_and_outgoing_or_pending_rows_do_not(store, coo):
    out = coo_import(coo, str(DATA / "paypal.csv"))
    assert "PayPal-style export" in out
    assert "✓ line 2, 2026-11-20, $1,140.00 from Bob Lee → INV-0002 (Bob Lee; by payer and amount)" in out
    assert "✓ line 3, 2026-11-21, $750.00 from Initech → INV-0004 (Initech; by payer and amount)" in out
    assert "$50.00 from Bob Lee: outgoing" in out and "$1,000.00 from ana@studio.example: outgoing" in out
    assert "$750.00 from Umbrella Corp: not completed yet (status pending)" in out
    # The invoice is paid in full by the gross amount; PayPal's fee is the operator's cost.
    assert status(store, "INV-0002") == ("paid", Decimal("0.00"))
    assert status(store, "INV-0005") == ("sent", Decimal("750.00"))


def test_an_overlapping_export_records_only_the_new_rows(store, coo, tmp_path):
    coo_import(coo, str(DATA / "stripe_payments.csv"))
    lines = (DATA / "stripe_payments.csv").read_text().splitlines()
    later = tmp_path / "stripe_later.csv"
    later.write_text(
        "\n".join(
            [
                lines[0],
                lines[4],
                "ch_3Q2fff,2026-11-24 08:00:00,750.00,0.00,usd,true,750.00,22.05,Paid,cus_U1,"
                "Umbrella Corp,u@umbrella.example,Invoice 5",
            ]
        )
        + "\n"
    )
    out = coo_import(coo, str(later))
    assert "$1,140.00 from bob@lee.example: already imported on 2026-11-25 (INV-0002)" in out
    assert "✓ line 3, 2026-11-24, $750.00 from Umbrella Corp → INV-0005 (Umbrella Corp; by reference INV-0005)" in out
    assert payments(store) == 3
    assert [e["invoice"] for e in reconciled(store)] == ["INV-0001", "INV-0002", "INV-0005"]


def test_csv_dropped_into_chat_asks_and_the_operator_answers_in_chat(chat):
    from graphs.payments_intake import import_payments

    store = chat.runtime.store
    seed(store)
    data = (DATA / "us_bank.csv").read_bytes()
    result = import_payments(
        chat.runtime.conversation,
        data,
        "us_bank.csv",
        channel="console",
        thread_id="console",
        user_id="ana",
        event_id="drop-1",
    )
    assert result.counts["matched"] == 1 and not result.duplicate
    posted = [m.text for m in store.conversations.messages_after("console", "console", 0)]
    assert posted == [result.reply]
    assert "Questions (nothing recorded for these):" in result.reply
    assert "Answer any question by writing the message shown" in result.reply
    # The same file share delivered twice (a webhook retry): one report, nothing recorded twice.
    again = import_payments(
        chat.runtime.conversation,
        data,
        "us_bank.csv",
        channel="console",
        thread_id="console",
        user_id="ana",
        event_id="drop-1",
    )
    assert again.duplicate and len(store.conversations.messages_after("console", "console", 0)) == 1

    shown = chat.say("Bob Lee paid $500.00 for INV-0002 on 2026-11-22")
    assert "Recorded $500.00 from Bob Lee against INV-0002 ($640.00 still open)." in shown
    assert status(store, "INV-0002") == ("partially_paid", Decimal("640.00"))

    # Dropped again later: Bob's row is the payment just entered by hand, not a new one.
    third = import_payments(
        chat.runtime.conversation,
        data,
        "us_bank.csv",
        channel="console",
        thread_id="console",
        user_id="ana",
        event_id="drop-2",
    )
    assert (
        "$500.00 from BOB LEE ONLINE TRANSFER: already recorded in chat ($500.00 from Bob Lee on 2026-11-22)"
        in third.reply
    )
    assert third.counts["matched"] == 0 and payments(store) == 2
    assert status(store, "INV-0002") == ("partially_paid", Decimal("640.00"))

    junk = import_payments(
        chat.runtime.conversation,
        b"hello,world\n1,2\n",
        "notes.csv",
        channel="console",
        thread_id="console",
        user_id="ana",
        event_id="drop-3",
    )
    assert junk.reply.startswith("I couldn't read notes.csv as a bank or payment-provider export:")
    assert "Nothing was recorded." in junk.reply


# -- reading values strictly (no database) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "decimal", "value", "currency"),
    [
        ("-1,234.56", ".", "-1234.56", None),
        ("1.234,56", ",", "1234.56", None),
        ("(45.00)", ".", "-45.00", None),
        ("1'234.50 CHF", ".", "1234.50", "CHF"),
        ("1.234,56-", ",", "-1234.56", None),
        ("$4,000.00", ".", "4000.00", "USD"),
        ("-€45,00", ",", "-45.00", "EUR"),
        ("EUR 1.200,00", ",", "1200.00", "EUR"),
        ("100.00 DR", ".", "-100.00", None),
        ("1 234,56", ",", "1234.56", None),
        ("+750", ".", "750", None),
    ],
)
def test_amounts_in_every_convention(cell, decimal, value, currency):
    assert parse_amount(cell, decimal) == (Decimal(value), currency)


@pytest.mark.parametrize(
    ("cell", "decimal"),
    [("1.234", "."), ("1,234", ","), ("1,2345", "."), ("12abc", "."), ("1,23,4", "."), ("4 000 USD EUR", ".")],
)
def test_amounts_that_could_mean_two_things_are_refused(cell, decimal):
    with pytest.raises(ValueError):
        parse_amount(cell, decimal)


def test_dates_are_reported_when_day_and_month_cannot_be_told_apart():
    parsed = parse_export(b"Date,Description,Amount\n03/04/2026,Client A,100.00\n05/06/2026,Client B,200.00\n")
    assert parsed.rows == [] and parsed.problems == []
    assert parsed.date_question is not None and parsed.date_question.lines == [2, 3]
    assert (parsed.date_question.day_first, parsed.date_question.month_first) == (date(2026, 4, 3), date(2026, 3, 4))
    # One date past the 12th settles the whole column.
    settled = parse_export(b"Date,Description,Amount\n03/04/2026,A,100.00\n03/14/2026,B,200.00\n")
    assert [r.booked_on for r in settled.rows] == [date(2026, 3, 4), date(2026, 3, 14)]


def test_a_file_without_a_transaction_header_is_refused():
    with pytest.raises(UnreadableExport):
        parse_export(b"name,email\nAna,ana@example.com\n")


def test_telegram_csv_document_is_reconciled_and_reported_in_the_chat(telegram_api, serve, sqlite_url):
    import time

    served = serve(**telegram_settings(telegram_api), database_url=sqlite_url)
    seed(served.runtime.store)
    data = (DATA / "stripe_payments.csv").read_bytes()
    telegram_api.files["documents/csv1.eml"] = data  # the fake Bot API serves every document under this path
    update = {
        "update_id": 7101,
        "message": {
            "message_id": 71,
            "date": int(time.time()),
            "chat": {"id": TG_OPERATOR, "type": "private"},
            "from": {"id": TG_OPERATOR, "is_bot": False, "first_name": "Ana"},
            "document": {
                "file_id": "csv1",
                "file_unique_id": "csv1",
                "file_name": "stripe_payments.csv",
                "mime_type": "text/csv",
                "file_size": len(data),
            },
        },
    }
    assert served.telegram_update(update).status_code == 200
    [reply] = telegram_api.wait_for("sendMessage")
    assert "Payments import of stripe_payments.csv — Stripe export" in reply["text"]
    assert "→ INV-0001 (Acme Studio; by reference INV-0001)" in reply["text"]
    assert reply["reply_parameters"]["message_id"] == 71
    assert status(served.runtime.store, "INV-0001")[0] == "paid"


def test_matching_rules_without_a_database():
    from datetime import datetime

    from agents.bank_csv import BankRow
    from agents.payment_matching import match_rows
    from store.models import Client, Invoice

    now = datetime(2026, 11, 25, tzinfo=UTC)
    clients = [
        Client(id=1, name="Northwind Traders", contact_email="ap@northwind.example", created_at=now, updated_at=now),
        Client(id=2, name="Contoso", contact_email="pay@contoso.example", created_at=now, updated_at=now),
    ]

    def invoice(seq: int, client: int, total: int) -> Invoice:
        return Invoice(
            id=seq,
            seq=seq,
            number=f"INV-{seq:04d}",
            client_id=client,
            status="sent",
            currency="USD",
            issue_date=date(2026, 11, 1),
            due_date=date(2026, 12, 1),
            total_cents=total,
            created_at=now,
        )

    def row(line: int, amount: str, text: str, email: str | None = None) -> BankRow:
        return BankRow(
            line=line,
            fingerprint=f"fp{line}",
            booked_on=date(2026, 11, 20),
            amount=Decimal(amount),
            direction="in",
            currency="USD",
            text=text,
            email=email,
        )

    invoices = [invoice(1, 1, 90000), invoice(2, 2, 30000), invoice(3, 2, 30000), invoice(4, 1, 12345)]
    results = match_rows(
        [
            row(1, "123.45", "NORTHWIND TRD ACH"),  # one shared word ("northwind"): a question, never a booking
            row(2, "300.00", "CONTOSO LTD"),  # the payer has two invoices of $300: which one?
            row(3, "900.00", "wire", email="someone@northwind.example"),  # the client's domain + unique amount
            row(4, "300.00", "INVOICE #0003 CONTOSO"),  # the reference settles it
            row(5, "300.00", "inv 3"),  # INV-0003 was just paid by the row above
        ],
        invoices,
        clients,
    )
    assert [(r.outcome, [a.invoice_number for a in r.allocations]) for r in results] == [
        ("unknown", []),
        ("unknown", []),
        ("matched", ["INV-0001"]),
        ("matched", ["INV-0003"]),
        ("unknown", []),
    ]
    assert "only one word of the payer matches" in results[0].reason
    assert results[0].suggestion and "INV-0004" in results[0].suggestion
    assert "same balance, no reference — which one?" in results[1].reason
    assert "which is already paid" in results[4].reason


@pytest.mark.parametrize(
    ("client", "payer"),
    [
        ("State Farm Insurance", "STATE OF OREGON REFUND"),
        ("Blue Harbor Design", "BLUE BOTTLE COFFEE"),
        ("Summit Outdoors", "SUMMIT BANK TRANSFER"),
        ("Kestrel Labs", "KESTREL HOLDINGS PAYMENT"),
    ],
)
def test_one_shared_word_is_a_question_never_a_booking(client, payer):
    from datetime import datetime

    from agents.bank_csv import BankRow
    from agents.payment_matching import match_rows
    from store.models import Client, Invoice

    now = datetime(2026, 11, 25, tzinfo=UTC)
    clients = [Client(id=1, name=client, contact_email="ap@client.example", created_at=now, updated_at=now)]
    invoice = Invoice(
        id=1, seq=1, number="INV-0001", client_id=1, status="sent", currency="USD",
        issue_date=date(2026, 11, 1), due_date=date(2026, 12, 1), total_cents=50000, created_at=now,
    )  # fmt: skip
    row = BankRow(
        line=2, fingerprint="fp", booked_on=date(2026, 11, 20), amount=Decimal("500.00"), direction="in",
        currency="USD", text=payer,
    )  # fmt: skip
    [result] = match_rows([row], [invoice], clients)
    assert result.outcome == "unknown" and result.allocations == []


def test_an_export_with_old_mac_line_endings_is_read(coo, tmp_path):
    export = tmp_path / "mac.csv"
    export.write_bytes(b"Date,Description,Amount\r11/20/2026,Wire INV-0099,40.00\r11/21/2026,Card FIGMA,-45.00\r")
    result = coo(["import-payments", str(export)])
    assert result.returncode == 0, result.stderr
    assert "line 2" in result.stdout and "line 3" in result.stdout


@pytest.mark.parametrize(
    "text",
    ["Wise transfer from Acme Studio INV-0001", "PayPal transfer Acme Studio invoice 1", "WISE TRANSFER REF INV 1"],
)
def test_a_transfer_through_a_payment_service_that_quotes_an_invoice_is_a_payment(coo, tmp_path, text):
    export = tmp_path / "bank.csv"
    export.write_text(f"Date,Description,Amount\n11/20/2026,{text},40.00\n")
    result = coo(["import-payments", str(export)])
    assert result.returncode == 0, result.stderr
    assert "payout from a payment provider" not in result.stdout
    assert "INV-0001" in result.stdout
