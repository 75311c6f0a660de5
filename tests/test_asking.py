"""Asking coo like an assistant, in chat: earnings, a client's paid and owed, invoices by state,
one invoice by number, tasks that are due or late, questions answered from memory, and small
talk — what the user sees (each test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.digest import post_digest
from tests.conftest import phrasings
from tests.test_email_intake import client_mail, forward_as_attachment, ingest

pytestmark = pytest.mark.clock  # scripts/test runs these again with the process time shifted


def _books(chat) -> None:
    """On 2026-11-25: Acme (USD) and Globex (EUR) with paid, part-paid, void, open and draft invoices."""
    chat.say("new client: Acme, contact jane@acme.example")
    chat.say("new client: Globex, contact ops@globex.example")
    chat.say("invoice Acme $4,000 for october design work, due in 7 days")
    chat.say("/approve 1")  # INV-0001, paid below
    chat.say("invoice Globex €1,500 for the brand workshop, due in 30 days")
    chat.say("/approve 2")  # INV-0002, part-paid below
    chat.say("invoice Acme $800 for the photo shoot")
    chat.say("/reject 3")  # INV-0003, void
    chat.say("invoice Acme $1,200 for the december retainer, due in 3 days")
    chat.say("/approve 4")  # INV-0004, overdue once the clock moves on
    chat.say("invoice Globex $300 for hosting")  # INV-0005 stays a draft
    chat.say("Acme paid $4,000 for INV-0001")
    chat.say("Globex paid €500 for INV-0002")


def test_earnings_per_period_currency_and_client(chat, clock):
    _books(chat)
    for said in ("how much did I make this month?", "how much did i make this month", "earnings this month"):
        assert "Received in November 2026 (so far): €500.00 + $4,000.00 (2 payments)." in chat.say(said), said
    shown = chat.say("earnings by client this year")
    assert "Received in 2026 (so far): €500.00 + $4,000.00 (2 payments).\n     By client:" in shown
    assert "• Acme: $4,000.00 (1 payment)\n     • Globex: €500.00 (1 payment)" in shown
    assert "No payments received in October 2026." in chat.say("how much did I make in October")
    clock.advance(days=10)  # 2026-12-05
    chat.say("Globex paid €1,000 for INV-0002")
    for said in ("how much did I make last month?", "How much money came in last month", "revenue for november"):
        assert "Received in November 2026: €500.00 + $4,000.00 (2 payments)." in chat.say(said), said
    assert "Received in December 2026 (so far): €1,000.00 (1 payment)." in chat.say("how much did we earn this month")
    shown = chat.say("how much did I make this quarter?")
    assert "Received in Q4 2026 (so far): €1,500.00 + $4,000.00 (3 payments)." in shown
    shown = chat.say("who paid me the most this year?")
    assert "• Acme: $4,000.00 (1 payment)" in shown and "• Globex: €1,500.00 (2 payments)" in shown
    assert "Received from Globex in 2026 (so far): €1,500.00 (2 payments)." in chat.say(
        "how much did Globex pay me this year?"
    )
    assert chat.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM approvals WHERE status = 'pending'") == 1


def test_a_clients_total_paid_and_owed(chat, clock):
    _books(chat)
    for said in ("how much has Globex paid me", "how much has globex paid me so far?", "Globex balance?"):
        shown = chat.say(said)
        assert "Globex has paid you €500.00 in total (1 payment, the last on 2026-11-25)." in shown, said
        assert "Globex owes €1,000.00 on 1 open invoice:\n     • INV-0002: €1,000.00 of €1,500.00 — due 2026-12-25" in (
            shown
        )
    clock.advance(days=10)
    for said in ("what does Acme owe", "what does acme owe me?", "does Acme owe me anything?"):
        shown = chat.say(said)
        assert "Acme has paid you $4,000.00 in total" in shown, said
        assert (
            "Acme owes $1,200.00 on 1 open invoice, 1 overdue:\n     • INV-0004: $1,200.00 of $1,200.00 — 7 days overdue"
            in (shown)
        )
    assert "I don't know a client called 'Initech' yet." in chat.say("how much has Initech paid me?")


def test_invoices_by_state(chat, clock):
    _books(chat)
    clock.advance(days=10)
    for said in ("show overdue invoices", "any overdue invoices?", "which invoices are late"):
        shown = chat.say(said)
        assert "Overdue invoices (1):\n     • INV-0004 Acme: $1,200.00 — sent, 7 days overdue (issued 2026-11-25)" in (
            shown
        ), said
        assert "Owed: $1,200.00." in shown and "INV-0002" not in shown
    for said in ("which invoices are paid", "Which invoices have been paid?", "show me the paid invoices"):
        shown = chat.say(said)
        assert "Paid invoices (1):\n     • INV-0001 Acme: $4,000.00 — paid" in shown, said
    shown = chat.say("list void invoices")
    assert "Void invoices (1):\n     • INV-0003 Acme: $800.00 — void" in shown
    shown = chat.say("open invoices")
    assert "Open invoices (2):" in shown and "INV-0002 Globex: €1,500.00 — partially paid, €1,000.00 left" in shown
    assert "Owed: €1,000.00 + $1,200.00." in shown
    assert "Draft invoices (1):\n     • INV-0005 Globex: $300.00 — draft" in chat.say("show me draft invoices")
    assert "No partly paid invoices for Acme." in chat.say("which invoices for Acme are partially paid?")
    shown = chat.say("list all invoices for Globex")
    assert "Invoices for Globex (2):" in shown and "INV-0001" not in shown


def test_one_invoice_by_number_and_one_that_does_not_exist(chat):
    _books(chat)
    for said in ("show INV-0002", "find INV-0002", "what's the status of inv 2", "whats the status of invoice #2"):
        shown = chat.say(said)
        assert "INV-0002 — Globex, issued 2026-11-25, due 2026-12-25: partially paid, €1,000.00 left" in shown, said
        assert "• brand workshop: 1 × €1,500.00 = €1,500.00" in shown
        assert "Total €1,500.00 · paid €500.00 · balance €1,000.00" in shown
        assert "Payments:\n     • 2026-11-25: €500.00" in shown
        assert "E-mails:\n     • 2026-11-25 to ops@globex.example: “Invoice INV-0002" in shown
    assert "Not sent yet (a draft)." in chat.say("show INV-0005")
    for said in ("find INV-0099", "show inv 99", "INV-0099", "is INV-0099 paid?"):
        shown = chat.say(said)
        assert "There is no invoice INV-0099. The latest invoice is INV-0005." in shown, said
        assert "INV-0001" not in shown and "INV-0002" not in shown  # never other invoices instead


def test_tasks_are_in_whats_overdue_whats_due_and_the_digest(chat, clock):
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("remind me to call the accountant tomorrow")
    chat.say("remind me to renew the domain on 2026-11-30")
    chat.say("Northwind needs the homepage mockups by 2026-11-27")
    shown = chat.say("what's due this week?")
    assert "Tasks due in the next 7 days (or late):\n     • call the accountant — due 2026-11-26" in shown
    assert "homepage mockups (Northwind) — due 2026-11-27" in shown
    clock.advance(days=3)  # 2026-11-28
    shown = chat.say("what's overdue?")
    assert "Deliverables past due:\n     • homepage mockups (Northwind) — 1 day late" in shown
    assert "Tasks past due:\n     • call the accountant — 2 days late" in shown
    assert "renew the domain" not in shown  # due on the 30th: not late
    text = post_digest(chat.runtime, date(2026, 11, 28))[0].text
    assert (
        "Tasks due in the next 7 days:\n• call the accountant — 2 days late\n• renew the domain — due 2026-11-30"
        in (text)
    )


BLUEFIN_MAIL = (
    "Hi Ana,\n\nWe met on Monday. The board thinks the new logo works, but the navy is too "
    "dark for the app icon.\n\nAlso, our office is closed on Fridays in December, so please send things by "
    "Thursday.\n\nBest,\nLena"
)


def test_questions_nothing_else_answers_are_answered_from_memory(chat):
    chat.say("new client: Bluefin, contact Lena Park lena@bluefin.example")
    chat.say("new client: Kestrel, contact tom@kestrel.example")
    chat.say("remember that Kestrel wants the final files as PDFs")
    ingest(
        chat,
        forward_as_attachment(
            client_mail(BLUEFIN_MAIL, subject="Logo feedback", sender="Lena Park <lena@bluefin.example>")
        ),
    )
    runs = len(chat.runtime.store.runs.recent(50))
    shown = chat.say("what did the Bluefin board think of the logo?")
    first = next(line.strip() for line in shown.splitlines() if line.strip().startswith("•"))
    assert first.startswith("• e-mail from Lena Park") and "navy is too dark" in first, shown
    shown = chat.say("when is Lena's office closed?")
    first = next(line.strip() for line in shown.splitlines() if line.strip().startswith("•"))
    assert "office is closed on Fridays in December" in first, shown
    shown = chat.say("which client wanted the files as PDFs?")
    first = next(line.strip() for line in shown.splitlines() if line.strip().startswith("•"))
    assert first.startswith("• note about Kestrel") and "PDFs" in first, shown
    for said in ("when is lenas office closed", "who asked for the files as PDFs?"):
        shown = chat.say(said)
        assert "Here's what I found" in shown and "Here's what I can do" not in shown, said
    assert len(chat.runtime.store.runs.recent(50)) == runs + 5  # each a read-only recall run
    assert "/approve" not in shown


@phrasings(
    ("said", "reply"),
    [
        ("hi", "Hi! What can I do for you?"),
        ("hello coo", "Hi! What can I do for you?"),
        ("good morning", "Good morning! What can I do for you?"),
        ("thanks!", "You're welcome!"),
        ("thank you so much", "You're welcome!"),
        ("cheers", "You're welcome!"),
        ("ok great", "Great. Anything else I can do?"),
    ],
)
def test_small_talk_gets_a_short_friendly_reply_and_no_run(chat, said, reply):
    shown = chat.say(said)
    assert reply in shown and "Here's what I can do" not in shown and "not sure" not in shown
    assert len(shown.strip().splitlines()) == 1
    assert chat.runtime.store.runs.recent() == []


def test_help_is_for_asking_and_not_understanding_offers_the_closest_things(chat):
    for said in ("what can you do?", "/help"):
        shown = chat.say(said)
        assert "Here's what I can do" in shown and "Commands:" in shown
        assert "• Reports — " in shown and "• Invoices — " in shown
    shown = chat.say("can you chase the money Globex owes me")
    assert "I'm not sure what you'd like me to do with “can you chase the money Globex owes me”." in shown
    assert "The closest things I can do:" in shown and "Type /help to see everything." in shown
    assert 2 <= shown.count("\n     • ") <= 3 and "Commands:" not in shown
    assert chat.runtime.store.runs.recent() == []


def test_thanks_while_a_question_waits_keeps_the_question(chat):
    assert "Which client is this for?" in chat.say("invoice for 3 hours of logo work at $95/h")
    shown = chat.say("thanks")
    assert "You're welcome!" in shown and "Which client is this for? (or /cancel)" in shown
    shown = chat.say("new client: Bob Lee, contact bob@lee.example")
    assert "Which client" not in shown


def test_small_talk_to_a_yes_no_question_keeps_it_and_ok_is_a_yes(chat):
    chat.say("Acme Studio signed the retainer: $4,000 a month, bill on the 1st, contact jane@acme.example")
    chat.say("/approve 1")
    assert "Reply yes to go ahead" in chat.say("Acme Studio signed the retainer: $5,000 a month, bill on the 15th")
    shown = chat.say("thank you")
    assert "You're welcome!" in shown and "Acme Studio already has a retainer" in shown
    assert "as you confirmed" in chat.say("ok great")
