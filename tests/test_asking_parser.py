"""How everyday questions and small talk are read (offline rules and the model parser): many
phrasings each — lower case, typos, no punctuation, British and American spellings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from graphs.intents import intent_to_dict
from graphs.offline_parser import OfflineParser
from graphs.offline_parsing.rules_reports import period
from graphs.suggestions import closest_examples, not_understood, small_talk_reply

TODAY = date(2026, 11, 25)  # a Wednesday
CLIENTS = ("Acme", "Globex", "Bluefin", "Bob Lee", "Kestrel")


@pytest.fixture(scope="module")
def parser() -> OfflineParser:
    return OfflineParser()


def read(parser: OfflineParser, text: str) -> dict:
    return intent_to_dict(parser.parse(text, TODAY, CLIENTS).intent)


NOV = ("2026-11-01", "2026-11-30")
OCT = ("2026-10-01", "2026-10-31")
Q4 = ("2026-10-01", "2026-12-31")
YEAR = ("2026-01-01", "2026-12-31")


@pytest.mark.parametrize(
    ("text", "start", "end", "by_client"),
    [
        ("how much did I make this month?", *NOV, False),
        ("how much did i make this month", *NOV, False),
        ("How much have we earned so far this month?", *NOV, False),
        ("how much did I mkae this month", *NOV, False),
        ("earnings this month", *NOV, False),
        ("how much did I make last month?", *OCT, False),
        ("how much money came in last month", *OCT, False),
        ("what did I earn in October?", *OCT, False),
        ("how much did I make in oct", *OCT, False),
        ("revenue for october", *OCT, False),
        ("how much did I make this quarter?", *Q4, False),
        ("income this quarter", *Q4, False),
        ("how much have I made this year?", *YEAR, False),
        ("earnings year to date", *YEAR, False),
        ("what's my income ytd?", *YEAR, False),
        ("how much did I earn last year", "2025-01-01", "2025-12-31", False),
        ("how much did we make in Q3?", "2026-07-01", "2026-09-30", False),
        ("how much did I make in December?", "2025-12-01", "2025-12-31", False),  # the last one that began
        ("how much did I get paid last week?", "2026-11-16", "2026-11-22", False),
        ("earnings by client this year", *YEAR, True),
        ("earnigns per client this year?", *YEAR, True),
        ("who paid me the most this year?", *YEAR, True),
        ("revenue by customer in october", *OCT, True),
        ("breakdown of income this quarter by client", *Q4, True),
    ],
)
def test_earnings_phrasings(parser, text, start, end, by_client) -> None:
    assert read(parser, text) == {
        "version": 1,
        "kind": "earnings",
        "start": start,
        "end": end,
        "by_client": by_client,
    }, text


def test_earnings_without_a_period_or_for_one_client(parser) -> None:
    assert read(parser, "how much have I earned?") == {"version": 1, "kind": "earnings", "by_client": False}
    said = read(parser, "how much did Globex pay me this year?")
    assert (said["kind"], said["client_name"], said["start"], said["end"]) == ("earnings", "Globex", *YEAR)
    said = read(parser, "how much did I make from Acme last month")
    assert (said["kind"], said["client_name"], said["start"]) == ("earnings", "Acme", OCT[0])


@pytest.mark.parametrize(
    ("text", "client"),
    [
        ("how much has Globex paid me", "Globex"),
        ("how much has globex paid me so far?", "globex"),
        ("How much has Globex paid us in total?", "Globex"),
        ("what has Bob Lee paid me", "Bob Lee"),
        ("what did Acme pay me altogether", "Acme"),
        ("how much have I received from Globex", "Globex"),
        ("what does Acme owe", "Acme"),
        ("what does acme owe me?", "acme"),
        ("how much does Acme owe us", "Acme"),
        ("does Acme owe me anything?", "Acme"),
        ("is Kestrel still owing me money", "Kestrel"),
        ("what's Acme's balance?", "Acme"),
        ("whats globex's balance", "globex"),
        ("total paid by Globex", "Globex"),
    ],
)
def test_client_paid_and_owed_phrasings(parser, text, client) -> None:
    assert read(parser, text) == {"version": 1, "kind": "client_balance", "client_name": client}, text


@pytest.mark.parametrize(
    ("text", "state", "client"),
    [
        ("show overdue invoices", "overdue", None),
        ("any overdue invoices?", "overdue", None),
        ("which invoices are late", "overdue", None),
        ("list past due invoices for Acme", "overdue", "Acme"),
        ("which invoices are paid", "paid", None),
        ("Which invoices have been paid?", "paid", None),
        ("show me the paid invoices", "paid", None),
        ("settled invoices from Globex", "paid", "Globex"),
        ("list void invoices", "void", None),
        ("show cancelled invoices", "void", None),
        ("show canceled invoices", "void", None),
        ("open invoices", "open", None),
        ("show open invoces", "open", None),
        ("which invoices are partially paid?", "partially_paid", None),
        ("show me draft invoices", "draft", None),
        ("list all invoices for Acme", "all", "Acme"),
    ],
)
def test_invoices_by_state_phrasings(parser, text, state, client) -> None:
    said = read(parser, text)
    assert (said["kind"], said["state"], said.get("client_name")) == ("invoice_list", state, client), text


@pytest.mark.parametrize(
    "text",
    [
        "show INV-0007",
        "find INV-0007",
        "find inv-0007",
        "INV-0007",
        "inv 7",
        "what's the status of inv 7",
        "whats the status of invoice #7",
        "status of invoice 7?",
        "is INV-0007 paid?",
        "has INV0007 been paid",
        "pull up invoice no. 7",
        "details of INV-0007",
        "tell me about INV-0007",
    ],
)
def test_one_invoice_by_number_phrasings(parser, text) -> None:
    assert read(parser, text) == {"version": 1, "kind": "invoice_lookup", "number": "INV-0007"}, text


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("got $1,140 from Bob Lee for INV-0001", "record_payment"),
        ("INV-0001 was paid in full", "record_payment"),
        ("INV-0001 was paid, 500", "record_payment"),
        ("Acme paid $4,000 for INV-0002", "record_payment"),
        ("who owes me money?", "status_query"),
        ("which invoices are still unpaid?", "status_query"),
        ("show me the invoices for Acme", "status_query"),
        ("what's overdue?", "status_query"),
        ("did Acme pay?", "status_query"),
        ("invoice Acme $2,500 for the website", "create_invoice"),
        ("remind me to check the paid invoices tomorrow", "add_task"),
    ],
)
def test_what_is_not_a_report_stays_what_it_was(parser, text, kind) -> None:
    assert read(parser, text)["kind"] == kind, text


@pytest.mark.parametrize(
    "text",
    [
        "what did the Bluefin board think of the logo?",
        "which client wanted the files as PDFs?",
        "When is Lena's office closed?",
        "when is lenas office closed",
        "who asked for the invoices in euros?",
        "what colour did Kestrel pick for the banner?",
        "why did Acme push the launch back?",
        "Jane's new phone number?",
    ],
)
def test_a_question_no_rule_answers_goes_to_recall(parser, text) -> None:
    said = read(parser, text)
    assert said["kind"] == "recall" and said["query"] == text.rstrip("?"), said


def test_recall_from_a_question_names_a_known_client(parser) -> None:
    assert read(parser, "when is Kestrel's office closed?")["client_name"] == "Kestrel"


@pytest.mark.parametrize(
    "text",
    ["what's the weather like tomorrow", "how do I say thank you in French", "what's my credit card balance"],
)
def test_questions_about_private_life_stay_unknown(parser, text) -> None:
    assert read(parser, text)["kind"] == "unknown", text


@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "Hi!",
        "hello coo",
        "hey there",
        "good morning",
        "Good afternoon coo",
        "morning!",
        "thanks!",
        "thank you so much",
        "thank u",
        "thx",
        "cheers",
        "ta",
        "many thanks",
        "ok great",
        "OK, great thanks!",
        "perfect",
        "awesome, thanks",
        "how are you?",
        "hi coo how are you doing today",
    ],
)
def test_small_talk_phrasings(parser, text) -> None:
    assert read(parser, text) == {"version": 1, "kind": "small_talk", "text": text}, text


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("what can you do?", "help"),
        ("help", "help"),
        ("hi, Acme paid $4,000", "record_payment"),
        ("thanks, what's overdue?", "status_query"),
        ("yes", "unknown"),
        ("asdf qwerty", "unknown"),
    ],
)
def test_small_talk_is_only_the_whole_message(parser, text, kind) -> None:
    assert read(parser, text)["kind"] == kind, text


def test_small_talk_replies() -> None:
    assert small_talk_reply("thanks!") == "You're welcome! Anything else, just say."
    assert small_talk_reply("cheers") == "You're welcome! Anything else, just say."
    assert small_talk_reply("good morning").startswith("Good morning!")
    assert small_talk_reply("hello coo").startswith("Hi! What can I do for you?")
    assert small_talk_reply("how are you?").startswith("All good here")
    assert small_talk_reply("ok great") == "Great. Anything else I can do?"


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("chase the money Globex owes me", "• Questions"),
        ("write to the client about the logo", "• E-mail a client"),
        ("stop the retainer", "• Retainer changes"),
        ("bill Acme", "• New retainer"),
    ],
)
def test_not_understood_offers_the_closest_things(text, first) -> None:
    closest = closest_examples(text)
    assert 1 <= len(closest) <= 3 and any(line.startswith(first) for line in closest), closest
    reply = not_understood(text)
    assert reply.count("\n• ") == len(closest) and "Type /help to see everything." in reply
    assert "Commands:" not in reply  # not the whole help text


def test_not_understood_without_any_overlap_offers_the_everyday_three() -> None:
    assert [line.split(" — ")[0] for line in closest_examples("asdf qwerty")] == [
        "• Invoice",
        "• Payment",
        "• Questions",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("this month", ("2026-11-01", "2026-11-30")),
        ("last month", ("2026-10-01", "2026-10-31")),
        ("last quarter", ("2026-07-01", "2026-09-30")),
        ("in the past 30 days", ("2026-10-27", "2026-11-25")),
        ("in 2025", ("2025-01-01", "2025-12-31")),
        ("in November 2025", ("2025-11-01", "2025-11-30")),
        ("today", ("2026-11-25", "2026-11-25")),
        ("may I ask", None),  # "may" is a month only after in/for/during/of/since
    ],
)
def test_periods(text, expected) -> None:
    found = period(text, TODAY)
    assert (tuple(d.isoformat() for d in found) if found else None) == expected


# --- the model parser: the new kinds, and a question it calls "unknown" -------------------------


@pytest.fixture
def scripted() -> Iterator:
    from agents.llm import register_provider, unregister_provider
    from tests.fakes.scripted_model import ScriptedChatModel

    model = ScriptedChatModel(script=[], calls=[])
    register_provider("scripted", lambda name: model)
    yield model
    unregister_provider("scripted")


@pytest.fixture
def model_chat(make_runtime, sqlite_url, smtp, scripted):
    from tests.conftest import ChatDriver

    return ChatDriver(make_runtime(database_url=sqlite_url, smtp_url=smtp.url, model_small="scripted:parser"))


def test_model_parser_reads_reports_and_small_talk(model_chat, scripted) -> None:
    scripted.script.extend([{"kind": "small_talk"}])
    assert "You're welcome!" in model_chat.say("thanks a bunch!")
    scripted.script.extend([{"kind": "earnings"}, {"start": "2026-10-01", "end": "2026-10-31", "by_client": True}])
    assert "No payments received in October 2026." in model_chat.say("what came in during october, per client?")
    scripted.script.extend([{"kind": "invoice_lookup"}, {"number": "99"}])  # the number as said
    assert "There is no invoice INV-0099." in model_chat.say("pull up ninety-nine")
    assert len(scripted.calls) == 5  # small talk: one call; the reports: the kind, then its fields


def test_a_question_the_model_calls_unknown_goes_to_recall(model_chat, scripted) -> None:
    scripted.script.extend([{"kind": "unknown"}])
    shown = model_chat.say("which client wanted the files as PDFs?")
    assert "I don't have anything about “which client wanted the files as PDFs” in the e-mails" in shown
    assert "not sure what you'd like" not in shown
    scripted.script.extend([{"kind": "unknown"}])
    shown = model_chat.say("book a flight to Denver")
    assert "I'm not sure what you'd like me to do" in shown
