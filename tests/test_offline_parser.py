"""The offline (rules) parser on real operator phrasings, plus its two regression gates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from graphs.intents import LineItem
from graphs.offline_parser import OfflineParser
from graphs.parser_eval import (
    BOOKS_PHRASINGS_PATH,
    evaluate_out_of_domain,
    evaluate_phrasings,
    format_phrasing_report,
)

pytestmark = pytest.mark.clock  # scripts/test runs these again with the process time shifted

TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.fixture(scope="module")
def parser() -> OfflineParser:
    return OfflineParser()


def parse(parser: OfflineParser, text: str):
    return parser.parse(text, TODAY)


def test_retainer_signup_full_sentence(parser: OfflineParser) -> None:
    result = parse(
        parser,
        "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example",
    )
    intent = result.intent
    assert intent.kind == "retainer_signup"
    assert intent.client_name == "Acme Studio"
    assert intent.monthly_amount == Decimal("4000")
    assert intent.revision_rounds == 3
    assert intent.billing_day == 1
    assert intent.contact_email == "jane@acme.example"
    assert result.problems == []


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("Northwind signed the retainer, $4k a month", "4000", "USD"),
        ("Northwind signed the retainer, 4.5k a month", "4500", "USD"),
        ("Northwind signed the retainer, USD 300 a month", "300", "USD"),
        ("Northwind signed the retainer, 300 dollars a month", "300", "USD"),
        ("Northwind signed the retainer, €2,000 a month", "2000", "EUR"),
        ("Northwind signed the retainer, £1,140.00 a month", "1140.00", "GBP"),
    ],
)
def test_amount_formats(parser: OfflineParser, text: str, amount: str, currency: str) -> None:
    intent = parse(parser, text).intent
    assert intent.kind == "retainer_signup"
    assert intent.monthly_amount == Decimal(amount)
    assert intent.currency == currency


@pytest.mark.parametrize("raw", ["$4,0000", "$4,00,0"])
def test_malformed_amount_becomes_field_problem(parser: OfflineParser, raw: str) -> None:
    result = parse(parser, f"Acme Studio signed the retainer: {raw} a month")
    assert result.intent.kind == "retainer_signup"
    assert result.intent.monthly_amount is None
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.field == "monthly_amount"
    assert problem.text == raw
    assert problem.message.startswith(f'I can\'t read "{raw}" as an amount')


def test_malformed_amount_message_offers_both_readings(parser: OfflineParser) -> None:
    problem = parse(parser, "Acme paid $4,0000").problems[0]
    assert problem.field == "amount"
    assert problem.message == 'I can\'t read "$4,0000" as an amount — did you mean $4,000 or $40,000?'


def test_invoice_hours_at_rate(parser: OfflineParser) -> None:
    intent = parse(parser, "invoice Bob Lee for 12 hours of logo work at $95/h, due in 14 days").intent
    assert intent.kind == "create_invoice"
    assert intent.client_name == "Bob Lee"
    assert intent.items == [
        LineItem(description="logo work", quantity=Decimal(12), unit_price=Decimal(95), unit="hour")
    ]
    assert intent.due_in_days == 14


def test_invoice_multiple_items_and_flat_fee(parser: OfflineParser) -> None:
    intent = parse(parser, "invoice Acme: 10h design at $90/h and 2h calls at $60/h").intent
    assert [(i.description, i.quantity, i.unit_price) for i in intent.items] == [
        ("design", Decimal(10), Decimal(90)),
        ("calls", Decimal(2), Decimal(60)),
    ]
    flat = parse(parser, "bill Acme $2,500 for the website").intent
    assert flat.kind == "create_invoice" and flat.client_name == "Acme"
    assert flat.items[0].description == "website" and flat.items[0].unit_price == Decimal(2500)


@pytest.mark.parametrize(
    ("phrase", "due_date", "due_in_days"),
    [
        ("net 30", None, 30),
        ("due in 2 weeks", None, 14),
        ("due by Friday", "2026-11-27", None),
        ("due next Monday", "2026-11-30", None),
        ("due tomorrow", "2026-11-26", None),
        ("due Dec 3", "2026-12-03", None),
        ("due 2026-12-09", "2026-12-09", None),
        ("due 12/9", "2026-12-09", None),
        ("due end of month", "2026-11-30", None),
    ],
)
def test_invoice_due_dates(parser: OfflineParser, phrase: str, due_date: str | None, due_in_days: int | None) -> None:
    intent = parse(parser, f"invoice Northwind $1,200 for the landing page, {phrase}").intent
    assert intent.kind == "create_invoice"
    assert (intent.due_date.isoformat() if intent.due_date else None) == due_date
    assert intent.due_in_days == due_in_days
    assert intent.items[0].description == "landing page"


@pytest.mark.parametrize(
    ("text", "client", "amount", "invoice_number"),
    [
        ("Acme paid $4,000", "Acme", "4000", None),
        ("got $1,140 from Bob Lee for INV-0001", "Bob Lee", "1140", "INV-0001"),
        ("payment received from Acme, 2k", "Acme", "2000", None),
    ],
)
def test_record_payment(parser: OfflineParser, text: str, client: str, amount: str, invoice_number: str | None) -> None:
    intent = parse(parser, text).intent
    assert intent.kind == "record_payment"
    assert intent.client_name == client
    assert intent.amount == Decimal(amount)
    assert intent.invoice_number == invoice_number


def test_proposal_new_client_and_names(parser: OfflineParser) -> None:
    proposal = parse(parser, "draft a proposal for Acme for a brand refresh, $6k").intent
    assert (proposal.kind, proposal.client_name, proposal.scope, proposal.amount) == (
        "draft_proposal",
        "Acme",
        "brand refresh",
        Decimal(6000),
    )
    client = parse(parser, "new client: Northwind, contact ops@northwind.example").intent
    assert (client.kind, client.client_name, client.contact_email) == (
        "new_client",
        "Northwind",
        "ops@northwind.example",
    )
    bakery = parse(parser, "add jane's bakery as a client").intent
    assert bakery.client_name == "jane's bakery"  # capitalisation kept as typed
    contact = parse(parser, "new client: Halcyon Labs, contact Jane Doe <jane@x.com>").intent
    assert (contact.contact_name, contact.contact_email) == ("Jane Doe", "jane@x.com")


def test_deliverables_and_tasks(parser: OfflineParser) -> None:
    d = parse(parser, "Acme needs the homepage mockups by Friday").intent
    assert (d.kind, d.client_name, d.title, d.due_date) == (
        "add_deliverable",
        "Acme",
        "homepage mockups",
        date(2026, 11, 27),
    )
    d2 = parse(parser, "deliverable for Bob Lee: logo v2 due Dec 3").intent
    assert (d2.client_name, d2.title, d2.due_date) == ("Bob Lee", "logo v2", date(2026, 12, 3))
    t = parse(parser, "remind me to call the accountant tomorrow").intent
    assert (t.kind, t.title, t.due_date) == ("add_task", "call the accountant", date(2026, 11, 26))
    t2 = parse(parser, "todo: renew domain next week").intent
    assert (t2.kind, t2.title, t2.due_date) == ("add_task", "renew domain", date(2026, 12, 2))


@pytest.mark.parametrize(
    ("text", "topic", "client"),
    [
        ("what's overdue?", "overdue", None),
        ("who owes me money?", "invoices", None),
        ("what's due this week?", "deliverables", None),
        ("any approvals waiting?", "approvals", None),
        ("how are we doing?", "summary", None),
        ("what's the status with Acme?", "summary", "Acme"),
    ],
)
def test_status_queries(parser: OfflineParser, text: str, topic: str, client: str | None) -> None:
    intent = parse(parser, text).intent
    assert (intent.kind, intent.topic, intent.client_name) == ("status_query", topic, client)


def test_remember_fact_canonical_fields(parser: OfflineParser) -> None:
    fact = parse(parser, "remember that Acme allows only 2 revision rounds and prefers Slack").intent
    assert fact.kind == "remember_fact" and fact.client_name == "Acme"
    assert fact.fact == "Acme allows only 2 revision rounds and prefers Slack"
    assert (fact.revision_limit, fact.preferred_channel) == (2, "slack")
    rate = parse(parser, "note: Bob Lee's rate is $95/h").intent
    assert (rate.client_name, rate.hourly_rate) == ("Bob Lee", Decimal(95))


def test_send_email(parser: OfflineParser) -> None:
    e = parse(parser, "email Jane at Acme that the logo is ready").intent
    assert (e.kind, e.client_name, e.to, e.body) == ("send_email", "Acme", "Jane", "the logo is ready")
    e2 = parse(parser, "tell Bob Lee the files are uploaded").intent
    assert (e2.client_name, e2.body) == ("Bob Lee", "the files are uploaded")
    e3 = parse(parser, "send bob@lee.example a note that the draft is attached").intent
    assert (e3.to, e3.body) == ("bob@lee.example", "the draft is attached")


@pytest.mark.parametrize("text", ["help", "what can you do?", "?"])
def test_help(parser: OfflineParser, text: str) -> None:
    assert parse(parser, text).intent.kind == "help"


@pytest.mark.parametrize(
    "text",
    [
        "pay my cable bill",
        "transfer $200 to my savings",
        "book a flight",
        "what's my credit card balance",
        "send a text to mom",
        "tell carl that he sucks",
        "bill my mom $20 for pizza",
    ],
)
def test_everyday_requests_have_no_side_effects(parser: OfflineParser, text: str) -> None:
    intent = parse(parser, text).intent
    assert not intent.has_side_effects, intent


def test_unknown_keeps_text_and_reason(parser: OfflineParser) -> None:
    intent = parse(parser, "book a flight to Denver").intent
    assert intent.kind == "unknown" and intent.text == "book a flight to Denver" and intent.reason


def test_personal_reminder_is_a_task(parser: OfflineParser) -> None:
    intent = parse(parser, "remind me to buy milk").intent
    assert (intent.kind, intent.title) == ("add_task", "buy milk")


@pytest.mark.parametrize(
    ("field", "answer", "expected"),
    [
        ("client_name", "Acme Studio", "Acme Studio"),
        ("contact_email", "it's jane@acme.example", "jane@acme.example"),
        ("monthly_amount", "$4k", Decimal(4000)),
        ("amount", "1,140.00", Decimal("1140.00")),
        ("due_date", "next Monday", date(2026, 11, 30)),
        ("due_date", "in 14 days", date(2026, 12, 9)),
        ("billing_day", "the 15th", 15),
        ("billing_day", "1", 1),
        ("revision_rounds", "3", 3),
        ("revision_rounds", "up to 2 revisions", 2),
        ("title", "homepage mockups", "homepage mockups"),
        ("body", "the logo is ready.", "the logo is ready"),
    ],
)
def test_parse_field_answers(parser: OfflineParser, field: str, answer: str, expected: object) -> None:
    assert parser.parse_field(field, answer, TODAY) == expected


def test_parse_field_items(parser: OfflineParser) -> None:
    items = parser.parse_field("items", "12 hours of logo work at $95/h", TODAY)
    assert items == [LineItem(description="logo work", quantity=Decimal(12), unit_price=Decimal(95), unit="hour")]


@pytest.mark.parametrize(
    ("field", "answer", "fragment"),
    [
        ("monthly_amount", "$4,0000", "did you mean $4,000 or $40,000?"),
        ("amount", "no idea", "can't find an amount"),
        ("due_date", "whenever", "as a date"),
        ("contact_email", "ask jane", "e-mail address"),
        ("client_name", "my mom", "client name"),
        ("items", "some stuff", "invoice lines"),
        ("billing_day", "soonish", "day of the month"),
    ],
)
def test_parse_field_rejects_unreadable(parser: OfflineParser, field: str, answer: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        parser.parse_field(field, answer, TODAY)
    assert fragment in str(info.value)


def test_phrasing_accuracy_gate(parser: OfflineParser) -> None:
    report = evaluate_phrasings(parser)
    assert report.total >= 180
    assert report.accuracy >= 0.95, format_phrasing_report(report)


@pytest.mark.parametrize("name", ["dev.jsonl", "test.jsonl"])
def test_clinc150_side_effect_rate_gate(parser: OfflineParser, name: str, corpus: Callable[[str], Path]) -> None:
    path = corpus(f"clinc150/{name}")
    report = evaluate_out_of_domain(parser, path)
    assert report.total > 0
    assert report.side_effect_rate <= 0.005, report.examples


# --- failure classes found by the held-out operator set (tests use fresh phrasings) ---------


@pytest.mark.parametrize(
    ("text", "client", "amount"),
    [
        ("received 2.75k from Harbor Studio", "Harbor Studio", "2750"),
        ("got $1,400.50 from Quill & Co", "Quill & Co", "1400.50"),
        ("3.2k came in from Northpeak Labs", "Northpeak Labs", "3200"),
        ("$900 landed from Bluebird Coffee this morning", "Bluebird Coffee", "900"),
    ],
)
def test_received_money_from_client_is_a_payment(parser: OfflineParser, text: str, client: str, amount: str) -> None:
    intent = parse(parser, text).intent
    assert (intent.kind, intent.client_name, intent.amount) == ("record_payment", client, Decimal(amount))


@pytest.mark.parametrize(
    "text",
    [
        "what else can you help me with?",
        "what can you do for us",
        "how should I use this bot?",
        "how can you help me",
        "what are you good for?",
    ],
)
def test_capability_questions_are_help(parser: OfflineParser, text: str) -> None:
    assert parse(parser, text).intent.kind == "help"


@pytest.mark.parametrize(
    "text",
    [
        "transfer $750 from savings to checking",
        "move 2k into my money market account from checking",
        "i'd like to move $1,200 from the household account to savings",
        "got $250 from savings",
        "shift $90 from my debit card to the joint account",
    ],
)
def test_transfers_between_own_accounts_are_unknown(parser: OfflineParser, text: str) -> None:
    intent = parse(parser, text).intent
    assert intent.kind == "unknown", intent


def test_client_transfer_into_own_account_is_still_a_payment(parser: OfflineParser) -> None:
    intent = parse(parser, "Harbor Studio transferred $500 to my business account").intent
    assert (intent.kind, intent.client_name, intent.amount) == ("record_payment", "Harbor Studio", Decimal(500))


@pytest.mark.parametrize(
    "text",
    [
        "send me an inspirational quote every morning",
        "write me a funny quote for my birthday card",
        "draft a quote for tomorrow",
    ],
)
def test_quote_for_the_operator_is_not_a_proposal(parser: OfflineParser, text: str) -> None:
    assert parse(parser, text).intent.kind != "draft_proposal"


@pytest.mark.parametrize(
    ("text", "client"),
    [
        ("send Harbor Studio a quote for the app redesign", "Harbor Studio"),
        ("Quill & Co wants an estimate for a new logo", "Quill & Co"),
        ("send a quote to bob lee for the mural", "bob lee"),
    ],
)
def test_quote_addressed_to_a_client_is_a_proposal(parser: OfflineParser, text: str, client: str) -> None:
    intent = parse(parser, text).intent
    assert (intent.kind, intent.client_name) == ("draft_proposal", client)


def test_grouped_number_closing_a_proposal_or_invoice_is_the_price(parser: OfflineParser) -> None:
    proposal = parse(parser, "draft a proposal for Harbor Studio: logo refresh for 12,500").intent
    assert (proposal.client_name, proposal.scope, proposal.amount) == ("Harbor Studio", "logo refresh", Decimal(12500))
    inv = parse(parser, "invoice Northpeak Labs for the onboarding workshop for 4,500").intent
    assert inv.kind == "create_invoice"
    assert [(i.description, i.unit_price) for i in inv.items] == [("onboarding workshop", Decimal(4500))]
    # Ungrouped or counted numbers stay unread: "3000" may be a count, "3,000 words" is one.
    assert parse(parser, "proposal for Acme: 12 posts for 3000").intent.amount is None
    assert parse(parser, "proposal for Acme for 3,000 words of copy").intent.amount is None


@pytest.mark.parametrize(
    ("text", "client", "title"),
    [
        ("deliverable: Harbor Studio event posters by Friday", "Harbor Studio", "event posters"),
        ("new deliverable - Quill & Co menu redesign, due tomorrow", "Quill & Co", "menu redesign"),
        ("deliverable: Brand Guidelines v2 due Dec 3", None, "Brand Guidelines v2"),
        ("add deliverable: Annual Report draft due Friday", None, "Annual Report draft"),
        ("deliverable: Homepage Mockups due Friday", None, "Homepage Mockups"),
        ("deliverable: Logo v2 for Bob Lee, due Dec 3", "Bob Lee", "Logo v2"),
    ],
)
def test_deliverable_capitalised_prefix_is_the_client(
    parser: OfflineParser, text: str, client: str | None, title: str
) -> None:
    intent = parse(parser, text).intent
    assert (intent.kind, intent.client_name, intent.title) == ("add_deliverable", client, title)


@pytest.mark.parametrize(
    ("text", "raw", "readings"),
    [
        ("invoice Harbor Studio $3,0000 for november", "$3,0000", "$3,000 or $30,000"),
        ("bill Quill & Co $2,00,0 for the logo", "$2,00,0", "$2,000"),
        ("invoice Acme 10h at $90/h and $1,0000 for hosting", "$1,0000", "$1,000 or $10,000"),
    ],
)
def test_malformed_invoice_amount_is_a_field_problem_on_items(
    parser: OfflineParser, text: str, raw: str, readings: str
) -> None:
    result = parse(parser, text)
    assert result.intent.kind == "create_invoice" and result.intent.items == []
    assert [(p.field, p.text) for p in result.problems] == [("items", raw)]
    assert result.problems[0].message == f'I can\'t read "{raw}" as an amount — did you mean {readings}?'


def test_books_phrasings_gate(parser: OfflineParser) -> None:
    """Money formats, date directions and companies as clients: every case right, none guessed."""
    report = evaluate_phrasings(parser, BOOKS_PHRASINGS_PATH)
    assert report.total >= 80
    assert report.correct == report.total, format_phrasing_report(report)


def test_client_keys_worked_out_for_added_names_equal_those_worked_out_afresh():
    """A client added keys only the new name (the names are keyed again whenever one changes);
    the keys and their leading words are those of keying every name afresh."""
    from graphs.offline_parsing.names import ClientKeys, client_keys, name_key

    names = ("Globex Corporation", "Initech LLC", "Acme")
    grown = (*names, "Acme Rocket Works", "Umbrella Corp.")
    shrunk = ("Initech LLC", "Umbrella Corp.")
    for step in (names, grown, shrunk, grown):
        keys = client_keys(step)
        fresh = ClientKeys(name_key(n) for n in step)
        assert set(keys) == set(fresh) and keys.prefixes == fresh.prefixes
    assert "acme" in client_keys(grown).prefixes and "acme" not in client_keys(shrunk).prefixes
