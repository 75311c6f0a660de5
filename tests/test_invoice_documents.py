"""Invoices a real business can send (issue #17): the seller's profile and the client's billing
details set from chat, a tax rate per line, a PDF attached to the e-mail (Factur-X for an EU
seller), a credit note as PDF too; what the PDF and its XML say is what the card and the books say."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from email.message import Message

import facturx
import pypdf
import pypdfium2
import pytest
from lxml import etree

from bot.ticks import run_tick
from store.books_check import check_books

pytestmark = pytest.mark.clock  # the clock is 2026-11-25: issue and due dates are asserted

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
EU_PROFILE = (
    "/profile legal_name=Ana Ruiz Estudio SL address=Calle Mayor 5; 28013 Madrid country=ES tax_id=ESB12345678"
    " iban=ES91 2100 0418 4502 0005 1332 bic=CAIXESBBXXX terms_days=30 tax_rate=21"
)


@pytest.fixture
def sqlite_chat(make_runtime, sqlite_url, smtp):  # type: ignore[no-untyped-def]
    """The console chat on SQLite only: the documents do not depend on the database, and the two
    tests that run on both (above all, the books) keep the suite short."""
    from tests.conftest import ChatDriver

    return ChatDriver(
        make_runtime(database_url=sqlite_url, smtp_url=smtp.url, from_email="Ana Ruiz <ana@studio.example>")
    )


def _pdf(message: Message) -> tuple[str, bytes]:
    [part] = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    return str(part.get_filename()), bytes(part.get_payload(decode=True))


def _text(pdf: bytes) -> str:
    """The PDF's text as read back, on one line (a table row reads "design 10 hours €100.00 …")."""
    return " ".join(" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def _xml(pdf: bytes) -> etree._Element:
    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert filename == "factur-x.xml"
    # Validated against the Factur-X EN 16931 schema (XSD), independently of drafthorse.
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    return etree.fromstring(xml)


def _amount(root: etree._Element, path: str) -> Decimal:
    return Decimal(root.xpath(path, namespaces=NS)[0].text)


def _rendered_ink(pdf: bytes) -> int:
    """How many pixels of the first page are not white, rendered to PNG and read back."""
    from PIL import Image

    page = pypdfium2.PdfDocument(pdf)[0]
    png = io.BytesIO()
    page.render(scale=1).to_pil().save(png, format="PNG")
    image = Image.open(io.BytesIO(png.getvalue())).convert("L")
    return sum(image.histogram()[:128])


def test_hourly_invoice_with_two_rates_and_its_credit_note_as_pdf_with_facturx(chat, smtp, coo, tmp_path):
    # The seller's profile, set once from chat; a bad IBAN is refused and changes nothing.
    refused = chat.say("/profile iban=ES00 1234")
    assert "Nothing was changed" in refused and "iban" in refused
    assert "Saved" in chat.say(EU_PROFILE)
    chat.say("new client: Bluefin, contact marta@bluefin.example")
    shown = chat.say(
        "/billing Bluefin legal_name=Bluefin Media GmbH address=Torstr. 9; 10119 Berlin country=DE"
        " tax_id=DE811234567 po_number=PO-4471 billing_email=ap@bluefin.example currency=EUR language=en"
    )
    assert "Saved for Bluefin" in shown and "ap@bluefin.example" in shown

    shown = chat.say("invoice Bluefin 10 hours design at €100/h at 21% VAT and 2x books at €39.90 at 10% VAT")
    # The approval card: each line with its rate, tax per rate, totals; it goes to accounts payable.
    assert "Send it to ap@bluefin.example?" in shown
    assert "• design: 10 hours × €100.00 = €1,000.00 (21% tax)" in shown
    assert "Net total: €1,079.80" in shown
    assert "Tax 21% on €1,000.00: €210.00" in shown
    assert "Tax 10% on €79.80: €7.98" in shown
    assert "Total €1,297.78 · issued 2026-11-25 · due 2026-12-25" in shown  # the seller's 30 days
    assert (
        "PDF attached: from Ana Ruiz Estudio SL to Bluefin Media GmbH, PO PO-4471, with Factur-X (EN 16931)." in shown
    )
    invoice = chat.runtime.store.billing.get("INV-0001")
    assert (invoice.total_cents, invoice.tax_cents) == (129778, 21798)

    assert "Sent invoice #INV-0001 to ap@bluefin.example" in chat.say("/approve 1")
    [message] = smtp.messages
    assert message["To"] == "ap@bluefin.example"
    filename, pdf = _pdf(message)
    assert filename == "INV-0001.pdf"
    text = _text(pdf)
    for said in [
        "Ana Ruiz Estudio SL",
        "Calle Mayor 5",
        "VAT/Tax ID: ESB12345678",
        "Bluefin Media GmbH",
        "Torstr. 9",
        "VAT/Tax ID: DE811234567",
        "PO number: PO-4471",
        "Number: INV-0001",
        "Issue date: 2026-11-25",
        "Due date: 2026-12-25",
        "design 10 hours €100.00 21% €1,000.00",
        "books 2 €39.90 10% €79.80",
        "Net total €1,079.80",
        "Tax 21% on €1,000.00 €210.00",
        "Tax 10% on €79.80 €7.98",
        "Total €1,297.78",
        "IBAN ES91 2100 0418 4502 0005 1332 · BIC CAIXESBBXXX",
    ]:
        assert said in text, said
    assert _rendered_ink(pdf) > 2000  # the page renders, with text on it

    # The embedded e-invoice says what the books say.
    root = _xml(pdf)
    assert root.xpath("//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS)[0].text == "380"
    assert root.xpath("//rsm:ExchangedDocument/ram:ID", namespaces=NS)[0].text == "INV-0001"
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert _amount(root, f"{summation}/ram:TaxBasisTotalAmount") == Decimal("1079.80")
    assert _amount(root, f"{summation}/ram:TaxTotalAmount") * 100 == invoice.tax_cents
    assert _amount(root, f"{summation}/ram:GrandTotalAmount") * 100 == invoice.total_cents
    bands = {
        Decimal(t.findtext("ram:RateApplicablePercent", namespaces=NS)): Decimal(
            t.findtext("ram:CalculatedAmount", namespaces=NS)
        )
        for t in root.xpath("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS)
    }
    assert bands == {Decimal("21"): Decimal("210.00"), Decimal("10"): Decimal("7.98")}
    assert root.xpath("//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID", namespaces=NS)[0].text == "PO-4471"
    assert root.xpath("//ram:PayeePartyCreditorFinancialAccount/ram:IBANID", namespaces=NS)[0].text == (
        "ES9121000418450200051332"
    )

    # Voided with a credit note: its own number, linked to the invoice, as PDF and Factur-X too.
    shown = chat.say("void INV-0001")
    assert "credit note CN-0001" in shown
    chat.say("/approve 2")
    note_mail = smtp.messages[-1]
    filename, note_pdf = _pdf(note_mail)
    assert filename == "CN-0001.pdf"
    note_text = _text(note_pdf)
    assert "Credit note" in note_text and "Number: CN-0001" in note_text
    assert "Cancels invoice INV-0001 of 2026-11-25" in note_text
    assert "Total €1,297.78" in note_text
    note_root = _xml(note_pdf)
    assert note_root.xpath("//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS)[0].text == "381"
    assert note_root.xpath("//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", namespaces=NS)[0].text == "INV-0001"
    note = chat.runtime.store.credit_notes.get("CN-0001")
    assert _amount(note_root, f"{summation}/ram:GrandTotalAmount") * 100 == note.amount_cents + note.credited_cents
    assert chat.runtime.store.billing.get("INV-0001").status == "void"
    assert check_books(chat.runtime.store.db) == []
    # `coo invoice pdf CN-0001` writes the credit note the client received.
    chat.runtime.close()
    out = tmp_path / "cn.pdf"
    done = coo(["invoice", "pdf", "CN-0001", "-o", str(out)], {"COO_DATABASE_URL": chat.runtime.settings.database})
    assert done.returncode == 0, done.stderr
    assert "Credit note CN-0001: €1,297.78" in done.stdout and "Factur-X" in done.stdout
    assert _text(out.read_bytes()) == note_text


def test_retainer_invoice_as_pdf_and_the_missing_profile_is_asked_for(chat, smtp, clock, tmp_path, coo):
    chat.say("Northwind signed the retainer: $1,500 a month, bill on the 30th, contact ops@northwind.example")
    chat.say("/approve 1")
    clock.advance(days=5)  # 2026-11-30, its billing day
    assert len(run_tick(chat.runtime, date(2026, 11, 30)).invoices) == 1
    chat.runtime.queue.wait_idle()
    approval = chat.runtime.store.db.fetchone("SELECT id, card FROM approvals WHERE action = 'send_invoice'")
    asked = chat.runtime.store.db.fetchall("SELECT text FROM messages ORDER BY id")
    # No seller profile yet: the first invoice says what its PDF lacks and how to set it.
    assert any("Your invoice PDF still lacks your legal_name, address, iban" in m["text"] for m in asked)
    chat.say("/profile legal_name=Ana Ruiz Design LLC address=1 Main St; Springfield, IL 62701 country=US")
    chat.say("/profile account_number=000123456789 routing_number=011000015")
    chat.say(f"/approve {approval['id']}")
    [_, invoice_mail] = smtp.messages  # the proposal, then the invoice
    _, pdf = _pdf(invoice_mail)
    text = _text(pdf)
    invoice = chat.runtime.store.billing.get("INV-0001")
    assert "Ana Ruiz Design LLC" in text and "Northwind" in text
    assert f"Total {invoice.taxes.gross}" in text and "$1,500.00" in text
    assert "Tax" not in text  # no rate anywhere: a seller not registered for VAT shows no tax
    assert "Account 000123456789 · routing number 011000015" in text
    # A US seller's PDF carries no Factur-X.
    assert pypdf.PdfReader(io.BytesIO(pdf)).attachments == {}

    # `coo invoice pdf INV-N` writes the same document to a file.
    chat.runtime.close()
    out = tmp_path / "inv.pdf"
    database = {"COO_DATABASE_URL": chat.runtime.settings.database}
    done = coo(["invoice", "pdf", "INV-0001", "-o", str(out)], database)
    assert done.returncode == 0, done.stderr
    assert "Invoice INV-0001: $1,500.00" in done.stdout
    assert _text(out.read_bytes()) == text
    missing = coo(["invoice", "pdf", "INV-0099"], database)
    assert missing.returncode == 1 and "There is no invoice INV-0099" in missing.stderr


def test_coo_profile_sets_checks_and_shows_the_sellers_details(coo):
    shown = coo(["profile"])
    assert shown.returncode == 0 and "Invoices still need: legal_name, address" in shown.stdout
    bad = coo(["profile", "iban=DE00 0000", "legal_name=Jane"])
    assert bad.returncode == 1 and "Nothing was changed" in bad.stdout and "not a valid IBAN" in bad.stdout
    assert "legal_name: Jane" not in coo(["profile"]).stdout  # all or nothing
    done = coo(["profile", "legal_name=Jane Doe Design", "address=Hauptstr. 1; 10115 Berlin", "tax_id=DE123456789",
                "country=DE", "iban=DE89 3704 0044 0532 0130 00", "late_fee=1.5"])  # fmt: skip
    assert done.returncode == 0, done.stdout
    assert "• iban: DE89370400440532013000" in done.stdout and "Invoices still need" not in done.stdout
    assert "• address: Hauptstr. 1; 10115 Berlin" in done.stdout
    unknown = coo(["profile", "vat=20"])
    assert unknown.returncode == 1 and "Unknown detail vat" in unknown.stdout
    nobody = coo(["profile", "client", "Nobody", "po_number=1"])
    assert nobody.returncode == 1 and "I don't know a client called 'Nobody'" in nobody.stdout


def test_reverse_charge_invoice_shows_the_note_and_no_tax(sqlite_chat, smtp):
    sqlite_chat.say(EU_PROFILE)
    sqlite_chat.say("new client: Bluefin, contact marta@bluefin.example")
    sqlite_chat.say("/billing Bluefin country=DE tax_id=DE811234567 tax_treatment=reverse charge language=de")
    shown = sqlite_chat.say("invoice Bluefin €2,000 for the website")
    assert "Tax 0% on €2,000.00: €0.00" in shown and "Reverse charge" in shown
    assert "Total €2,000.00" in shown
    sqlite_chat.say("/approve 1")
    _, pdf = _pdf(smtp.messages[0])
    text = _text(pdf)
    assert "Rechnung" in text and "Gesamtbetrag €2,000.00" in text  # the client's language
    assert "Reverse charge: VAT to be accounted for by the recipient" in text
    root = _xml(pdf)
    assert {c.text for c in root.xpath("//ram:CategoryCode", namespaces=NS)} == {"AE"}
    assert re.search(r"Bitte zahlen Sie bis 2026-12-25", text)


def test_editing_a_taxed_draft_keeps_each_lines_rate(sqlite_chat):
    sqlite_chat.say(EU_PROFILE)
    sqlite_chat.say("new client: Bluefin, contact marta@bluefin.example")
    sqlite_chat.say("invoice Bluefin 10 hours design at €100/h at 21% VAT and 2x books at €39.90 at 10% VAT")
    shown = sqlite_chat.say("/edit 1 qty=12")
    assert "Tax 21% on €1,200.00: €252.00" in shown and "Tax 10% on €79.80: €7.98" in shown
    assert "Total €1,539.78" in shown
    assert "PDF attached: from Ana Ruiz Estudio SL to Bluefin, with Factur-X (EN 16931)." in shown
    invoice = sqlite_chat.runtime.store.billing.get("INV-0001")
    assert (invoice.total_cents, invoice.tax_cents) == (153978, 25998)
    assert check_books(sqlite_chat.runtime.store.db) == []


def test_a_conversion_only_when_asked_with_the_operators_dated_rate_and_a_logo(sqlite_chat, coo, tmp_path):
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), (20, 60, 160)).save(logo)
    sqlite_chat.say(EU_PROFILE + f" logo={logo}")
    sqlite_chat.say("new client: Bluefin, contact marta@bluefin.example")
    sqlite_chat.say("invoice Bluefin €1,000 for the website at 21% VAT")
    sqlite_chat.runtime.close()
    database = {"COO_DATABASE_URL": sqlite_chat.runtime.settings.database}
    plain, converted = tmp_path / "plain.pdf", tmp_path / "usd.pdf"
    assert coo(["invoice", "pdf", "INV-0001", "-o", str(plain)], database).returncode == 0
    assert "For information" not in _text(plain.read_bytes())  # never converted unless asked
    done = coo(
        [
            "invoice",
            "pdf",
            "INV-0001",
            "-o",
            str(converted),
            "--in",
            "USD",
            "--rate",
            "1.0842",
            "--rate-date",
            "2026-11-20",
        ],
        database,
    )
    assert done.returncode == 0, done.stderr
    text = _text(converted.read_bytes())
    assert "For information: €1,210.00 = $1,311.88 at 1 EUR = 1.0842 USD (rate of 2026-11-20). Payable in EUR." in text
    assert "Total €1,210.00" in text
    page = pypdfium2.PdfDocument(converted.read_bytes())[0]
    assert len(list(page.get_objects(filter=[pypdfium2.raw.FPDF_PAGEOBJ_IMAGE]))) == 1  # the logo is printed
    half = coo(["invoice", "pdf", "INV-0001", "--in", "USD"], database)
    assert half.returncode == 2 and "--rate" in half.stderr


def test_the_clients_credit_used_is_on_the_pdf_and_paid_in_the_xml(sqlite_chat, smtp):
    sqlite_chat.say(EU_PROFILE)
    sqlite_chat.say("new client: Bluefin, contact marta@bluefin.example")
    sqlite_chat.say("invoice Bluefin €1,000 for the website")  # the seller's 21%: €1,210.00
    sqlite_chat.say("/approve 1")
    sqlite_chat.say("Bluefin paid €1,310 for INV-0001")  # €100.00 more than owed: Bluefin's credit
    shown = sqlite_chat.say("invoice Bluefin €500 for the newsletter")
    assert "Total €605.00" in shown and "Amount due: €505.00" in shown
    sqlite_chat.say("/approve 2")
    _, pdf = _pdf(smtp.messages[-1])
    text = _text(pdf)
    assert "Total €605.00 Credit applied -€100.00 Amount due €505.00" in text
    root = _xml(pdf)
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert _amount(root, f"{summation}/ram:TotalPrepaidAmount") == Decimal("100.00")
    assert _amount(root, f"{summation}/ram:DuePayableAmount") == Decimal("505.00")
    assert check_books(sqlite_chat.runtime.store.db) == []
