"""A bank payer is a client only when its name *is* the client's name (legal form and the bank's
own words aside), or the row quotes an invoice number, the contact e-mail or the client's domain.
A payer holding the client's name and more ("GLOBEX LOGISTICS GMBH" for Globex) is another
company until the operator says otherwise: a numbered question, never a booking."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from agents.bank_csv import BankRow
from agents.payment_matching import RowResult, match_rows
from store.facade import Store
from store.models import Client, Invoice
from tests.conftest import CliResult
from tests.test_reconciler import payments, seed, status

pytestmark = pytest.mark.clock

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def decide(client: str, payer: str, *, column: bool, contact_name: str | None = None) -> RowResult:
    """One $500 row from ``payer`` (in a payer column, or only in the description) against one
    client owing exactly $500."""
    clients = [
        Client(
            id=1,
            name=client,
            contact_name=contact_name,
            contact_email="ap@client.example",
            created_at=NOW,
            updated_at=NOW,
        )
    ]
    invoice = Invoice(
        id=1, seq=1, number="INV-0001", client_id=1, status="sent", currency="USD",
        issue_date=date(2026, 11, 1), due_date=date(2026, 12, 1), total_cents=50000, created_at=NOW,
    )  # fmt: skip
    fields = {"payer": payer, "text": "Payment november"} if column else {"text": payer}
    row = BankRow(
        line=2, fingerprint="fp", booked_on=date(2026, 11, 20), amount=Decimal("500.00"), direction="in",
        currency="USD", **fields,
    )  # fmt: skip
    [result] = match_rows([row], [invoice], clients)
    return result


SAME = [
    ("Globex", "GLOBEX GMBH"),
    ("Globex", "Globex Corporation"),
    ("Globex Corporation", "GLOBEX CORP."),
    ("Globex Corporation", "GLOBEX"),
    ("Globex GmbH", "SEPA TRANSFER GLOBEX GMBH"),
    ("Acme Studio", "ACME STUDIO LTD"),
    ("Acme Studio", "Acme Studio, LLC"),
    ("Acme Studio", "ACME STUDIO LIMITED"),
    ("Acme Studio LLC", "acme studio"),
    ("Bluefin Design", "BLUEFIN DESIGN LLC"),
    ("Bluefin Design", "WIRE TRANSFER BLUEFIN DESIGN INC"),
    ("Müller GmbH", "MUELLER GMBH"),
    ("Société Générale Conseil", "SOCIETE GENERALE CONSEIL S.A.R.L."),
    ("Van Dijk BV", "VAN DIJK B.V."),
    ("Smith & Co", "SMITH CO"),
    ("The Kestrel Company", "KESTREL CO"),
    ("Bob Lee", "BOB LEE ONLINE TRANSFER"),
    ("Initech", "ZELLE FROM INITECH INC"),
    ("Oakridge Media Ltd", "OAKRIDGE MEDIA PLC"),
    ("Acme Studio", "ACME STUDIO LTD 4411223344"),  # an account number beside the name
]


@pytest.mark.parametrize("column", [True, False], ids=["payer-column", "description"])
@pytest.mark.parametrize(("client", "payer"), SAME)
def test_the_clients_own_name_books_the_payment(client, payer, column):
    result = decide(client, payer, column=column)
    assert result.outcome == "matched", result.reason
    assert [a.invoice_number for a in result.allocations] == ["INV-0001"]


ASK = [
    # The client's whole name and more: another company until the operator says otherwise.
    ("Globex", "GLOBEX LOGISTICS GMBH", "Is GLOBEX LOGISTICS GMBH the same as your client Globex?"),
    ("Globex Corporation", "GLOBEX LOGISTICS GMBH", "Is GLOBEX LOGISTICS GMBH the same as your client"),
    ("Bluefin Design", "BLUEFIN DESIGN BUILD LLC", "Is BLUEFIN DESIGN BUILD LLC the same as your client"),
    ("Acme", "ACME STORAGE INC", "Is ACME STORAGE INC the same as your client Acme?"),
    ("Nordlicht AG", "Nordlicht Aktien AG", "Is Nordlicht Aktien AG the same as your client Nordlicht AG?"),
    ("Müller GmbH", "MUELLER BAU GMBH", "Is MUELLER BAU GMBH the same as your client Müller GmbH?"),
    ("Initech", "NEW INITECH LTD", "Is NEW INITECH LTD the same as your client Initech?"),
    ("Bob Lee", "BOB LEE PLUMBING LLC", "Is BOB LEE PLUMBING LLC the same as your client Bob Lee?"),
    # Part of the client's name.
    ("Acme Studio", "ACME LTD", "Is ACME LTD the same as your client Acme Studio?"),
    ("Summit Outdoors", "SUMMIT BANK TRANSFER", "the same as your client Summit Outdoors?"),
    # One shared word.
    ("Acme Studio", "ACME STUDIOS LIMITED", "your client Acme Studio? (only one word of the payer matches)"),
    ("Acme Studio", "ACME STORAGE INC", "Is ACME STORAGE INC your client Acme Studio?"),
    ("Kestrel Labs", "KESTREL HOLDINGS PAYMENT", "your client Kestrel Labs?"),
    ("State Farm Insurance", "STATE OF OREGON REFUND", "your client State Farm Insurance?"),
    ("Blue Harbor Design", "BLUE BOTTLE COFFEE", "your client Blue Harbor Design?"),
    ("Northwind Traders", "SOUTHWIND TRADERS", "your client Northwind Traders?"),
]


@pytest.mark.parametrize("column", [True, False], ids=["payer-column", "description"])
@pytest.mark.parametrize(("client", "payer", "asked"), ASK)
def test_a_similar_name_is_a_question_never_a_booking(client, payer, asked, column):
    result = decide(client, payer, column=column)
    assert result.outcome == "unknown" and result.allocations == []
    assert asked in result.reason and "If it is, it pays INV-0001 ($500.00)." in result.reason
    assert result.suggestion == f"say: {client} paid $500.00 for INV-0001 on 2026-11-20"


@pytest.mark.parametrize(
    ("client", "payer"),
    [
        ("Acme Studio", "STUDIO DESIGN GROUP"),  # only words every studio has
        ("Globex", "INITECH LLC"),
        ("Bob Lee", "JOHN SMITH"),
    ],
)
def test_unrelated_payers_are_not_tied_to_the_client(client, payer):
    result = decide(client, payer, column=True)
    assert result.outcome == "unknown" and result.client_name is None
    assert "no client I know" in result.reason and "the amount alone is not enough" in result.reason


def test_the_contacts_full_name_identifies_the_client_and_more_than_it_is_asked():
    assert decide("Acme Studio", "JANE DOE", column=True, contact_name="Jane Doe").outcome == "matched"
    asked = decide("Acme Studio", "JANE DOE CONSULTING LLC", column=True, contact_name="Jane Doe")
    assert asked.outcome == "unknown"
    assert "Is JANE DOE CONSULTING LLC the same as your client Acme Studio?" in asked.reason


def test_a_payer_column_of_only_bank_words_leaves_the_description_to_name_the_payer():
    clients = [Client(id=1, name="Globex", contact_email="ap@globex.example", created_at=NOW, updated_at=NOW)]
    invoice = Invoice(
        id=1, seq=1, number="INV-0001", client_id=1, status="sent", currency="USD",
        issue_date=date(2026, 11, 1), due_date=date(2026, 12, 1), total_cents=50000, created_at=NOW,
    )  # fmt: skip
    row = BankRow(
        line=2, fingerprint="fp", booked_on=date(2026, 11, 20), amount=Decimal("500.00"), direction="in",
        currency="USD", payer="SEPA TRANSFER", text="GLOBEX GMBH 2026-11",
    )  # fmt: skip
    [decided] = match_rows([row], [invoice], clients)
    assert decided.outcome == "matched", decided.reason


def test_a_payer_column_is_the_payer_the_description_only_a_hint():
    # Someone else paid and wrote the client's name in the reference: asked, not booked.
    result = BankRow(
        line=2, fingerprint="fp", booked_on=date(2026, 11, 20), amount=Decimal("500.00"), direction="in",
        currency="USD", payer="JOHN SMITH", text="for Globex",
    )  # fmt: skip
    clients = [Client(id=1, name="Globex", contact_email="ap@globex.example", created_at=NOW, updated_at=NOW)]
    invoice = Invoice(
        id=1, seq=1, number="INV-0001", client_id=1, status="sent", currency="USD",
        issue_date=date(2026, 11, 1), due_date=date(2026, 12, 1), total_cents=50000, created_at=NOW,
    )  # fmt: skip
    [decided] = match_rows([result], [invoice], clients)
    assert decided.outcome == "unknown" and decided.allocations == []
    assert "Is JOHN SMITH paying for your client Globex? (the reference names Globex)" in decided.reason


def test_an_invoice_number_or_the_contacts_address_still_identifies_a_similar_name():
    clients = [Client(id=1, name="Globex", contact_email="ap@globex.example", created_at=NOW, updated_at=NOW)]
    invoice = Invoice(
        id=1, seq=1, number="INV-0001", client_id=1, status="sent", currency="USD",
        issue_date=date(2026, 11, 1), due_date=date(2026, 12, 1), total_cents=50000, created_at=NOW,
    )  # fmt: skip

    def row(text: str, email: str | None = None) -> BankRow:
        return BankRow(
            line=2, fingerprint=text, booked_on=date(2026, 11, 20), amount=Decimal("500.00"), direction="in",
            currency="USD", payer="GLOBEX LOGISTICS GMBH", text=text, email=email,
        )  # fmt: skip

    for decided in (
        match_rows([row("Invoice INV-0001")], [invoice], clients)[0],
        match_rows([row("Payment", "ap@globex.example")], [invoice], clients)[0],
        match_rows([row("Payment", "finance@globex.example")], [invoice], clients)[0],
    ):
        assert decided.outcome == "matched", decided.reason


def test_a_similar_name_never_outranks_the_client_it_is():
    clients = [
        Client(id=1, name="Globex", contact_email="ap@globex.example", created_at=NOW, updated_at=NOW),
        Client(id=2, name="Globex Logistics", contact_email="ap@gl.example", created_at=NOW, updated_at=NOW),
    ]
    invoices = [
        Invoice(
            id=n,
            seq=n,
            number=f"INV-000{n}",
            client_id=n,
            status="sent",
            currency="USD",
            issue_date=date(2026, 11, 1),
            due_date=date(2026, 12, 1),
            total_cents=50000,
            created_at=NOW,
        )  # fmt: skip
        for n in (1, 2)
    ]
    row = BankRow(
        line=2, fingerprint="fp", booked_on=date(2026, 11, 20), amount=Decimal("500.00"), direction="in",
        currency="USD", payer="GLOBEX LOGISTICS GMBH",
    )  # fmt: skip
    [decided] = match_rows([row], invoices, clients)
    assert decided.outcome == "matched" and decided.client_name == "Globex Logistics"
    assert [a.invoice_number for a in decided.allocations] == ["INV-0002"]


# -- as the operator sees it ------------------------------------------------------------------


@pytest.fixture
def store(db_url: str, clock, coo_env, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("COO_DATABASE_URL", db_url)
    opened = Store.open(db_url, clock)
    seed(opened)
    yield opened
    opened.close()


def test_a_wire_from_a_similarly_named_company_is_a_numbered_question(store, coo: Callable[..., CliResult], tmp_path):
    export = tmp_path / "bank.csv"
    export.write_text(
        "Buchungstag;Auftraggeber / Empfänger;Verwendungszweck;Betrag (EUR)\n"
        "20.11.2026;GLOBEX LOGISTICS GMBH;Zahlung;2.500,00\n"
        "21.11.2026;ACME STORAGE INC;Payment;4.000,00\n"
        "22.11.2026;GLOBEX GMBH;SEPA Gutschrift;2.500,00\n"
    )
    result = coo(["import-payments", str(export)])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "1 matched · 2 to ask about" in out
    assert (
        "1. line 2, 2026-11-20, €2,500.00 from GLOBEX LOGISTICS GMBH: Is GLOBEX LOGISTICS GMBH the same as "
        "your client Globex GmbH? If it is, it pays INV-0003 (€2,500.00). But line 4 of this file paid INV-0003 "
        "in full: a second payment, or for another invoice?"
    ) in out
    # No message to record it against INV-0003 again: the real Globex's transfer below paid it.
    assert "Globex GmbH paid €2,500.00 for INV-0003" not in out
    assert "2. line 3, 2026-11-21, €4,000.00 from ACME STORAGE INC: Is ACME STORAGE INC your client Acme Studio?" in out
    # The real Globex's transfer is booked; the look-alike's would have paid the same invoice.
    assert "✓ line 4, 2026-11-22, €2,500.00 from GLOBEX GMBH → INV-0003 (Globex GmbH; by payer and amount)" in out
    assert payments(store) == 1 and status(store, "INV-0003") == ("paid", Decimal("0.00"))


def test_the_operator_answers_a_similar_name_question_in_chat(chat):
    from graphs.payments_intake import import_payments

    store = chat.runtime.store
    seed(store)
    data = b"Date,Payer,Reference,Amount\n2026-11-20,GLOBEX LOGISTICS GMBH,Payment,2500.00\n"

    def drop(event_id: str) -> str:
        result = import_payments(
            chat.runtime.conversation,
            data,
            "bank.csv",
            channel="console",
            thread_id="console",
            user_id="ana",
            event_id=event_id,
            default_currency="EUR",
        )
        return result.reply

    first = drop("drop-1")
    assert "1. line 2, 2026-11-20, €2,500.00 from GLOBEX LOGISTICS GMBH: Is GLOBEX LOGISTICS GMBH the same" in first
    assert "To record it, say: Globex GmbH paid €2,500.00 for INV-0003 on 2026-11-20" in first
    assert payments(store) == 0

    shown = chat.say("Globex GmbH paid €2,500.00 for INV-0003 on 2026-11-20")
    assert "Recorded €2,500.00 from Globex GmbH against INV-0003" in shown
    assert status(store, "INV-0003") == ("paid", Decimal("0.00"))

    again = drop("drop-2")
    assert "already recorded in chat (€2,500.00 from Globex GmbH on 2026-11-20)" in again
    assert payments(store) == 1


@pytest.mark.parametrize(
    ("client", "description"),
    [
        ("Initech", "ORIG CO NAME:INITECH INC ORIG ID:1234567890 DESC DATE:261120 CO ENTRY DESCR:PAYMENT SEC:CCD"),
        ("Globex GmbH", "SEPA-Gutschrift von Globex GmbH EREF+NOTPROVIDED SVWZ+Zahlung November"),
        ("Globex SARL", "VIR SEPA RECU DE GLOBEX SARL REF 99812"),
        ("Acme Studio Ltd", "FASTER PAYMENTS RECEIPT REF 2611 FROM ACME STUDIO LTD"),
        ("Van Dijk BV", "Overboeking naam: Van Dijk B.V. omschrijving: november"),
        ("Bob Lee", "Zelle payment from BOB LEE 19283746"),
    ],
)
def test_bank_descriptions_as_banks_write_them(client, description):
    assert decide(client, description, column=False).outcome == "matched"


@pytest.mark.parametrize(
    ("client", "description"),
    [
        ("Initech", "ORIG CO NAME:INITECH LABS INC ORIG ID:1234567890 CO ENTRY DESCR:PAYMENT SEC:CCD"),
        ("Globex GmbH", "SEPA-Gutschrift von Globex Logistics GmbH SVWZ+Zahlung November"),
        ("Acme Studio Ltd", "FASTER PAYMENTS RECEIPT REF 2611 FROM ACME STUDIOS LTD"),
        # Dutch "van" (from) before a name that starts with Van: read as a longer name, so asked.
        ("Van Dijk BV", "Overboeking van Van Dijk B.V."),
    ],
)
def test_bank_descriptions_naming_a_look_alike_are_asked(client, description):
    result = decide(client, description, column=False)
    assert result.outcome == "unknown" and "your client" in result.reason
