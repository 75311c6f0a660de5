"""An invoice after it went out, from chat (issue #12): void it with a credit note, send it again,
remind the client to pay — each waits for approval, and what SMTP received is what was approved."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from agents.digest_writer import write_digest
from bot.ticks import run_tick
from store.books_check import check_books
from tests.conftest import phrasings
from tests.fakes.smtp import text_body

pytestmark = pytest.mark.clock  # the clock is 2026-11-25


def _body(message) -> str:  # type: ignore[no-untyped-def]
    return text_body(message)


@pytest.fixture
def sent(chat, smtp):  # type: ignore[no-untyped-def]
    """Globex has invoice INV-0001 ($4,000), sent to jane@globex.example (approval #1)."""
    chat.say("new client: Globex, contact jane@globex.example")
    chat.say("invoice Globex for $4,000 for the website")
    assert "Sent invoice #INV-0001 to jane@globex.example" in chat.say("/approve 1")
    assert len(smtp.messages) == 1
    return chat


def _invoice(chat, number: str = "INV-0001"):  # type: ignore[no-untyped-def]
    return chat.runtime.store.billing.get(number)


# -- void ----------------------------------------------------------------------------------------

VOIDS = [
    "void INV-0001",
    "cancel invoice 1",
    "INV-0001 was a mistake, void it",
    "please void invoice #1",
    "can you cancel INV-1",
    "Void inv 1.",
    "INV-0001 was sent by mistake, please cancel it",
]


@phrasings("said", VOIDS)
def test_void_a_sent_invoice_sends_a_credit_note_once_approved(sent, smtp, said):
    shown = sent.say(said)
    assert "Void INV-0001 and send credit note CN-0001 to jane@globex.example?" in shown
    assert "Credit note CN-0001: −$4,000.00 (the unpaid amount)" in shown
    assert "Reject: nothing changes." in shown
    assert "[/approve 2]" in shown
    assert _invoice(sent).status == "sent" and len(smtp.messages) == 1  # nothing before approval
    done = sent.say("/approve 2")
    assert "Sent credit note #CN-0001 to jane@globex.example" in done
    assert "INV-0001 is void: $4,000.00 is no longer owed (credit note CN-0001)." in done
    assert _invoice(sent).status == "void"
    assert len(smtp.messages) == 2
    note = smtp.messages[-1]
    assert note["Subject"].startswith("Credit note CN-0001 for invoice INV-0001")
    assert note["In-Reply-To"] == smtp.messages[0]["Message-ID"]  # threaded with the invoice
    assert "Amount credited: $4,000.00" in _body(note)
    assert check_books(sent.runtime.store.db) == []
    assert "INV-0001" not in sent.say("who owes me money?")
    sent.say("/approve 2")  # a double tap sends nothing more
    assert len(smtp.messages) == 2


@pytest.mark.parametrize("answer", ["/reject 2"])
def test_rejecting_a_void_changes_nothing(sent, smtp, answer):
    sent.say("void INV-0001")
    shown = sent.say(answer)
    assert "Rejected: nothing changed" in shown
    invoice = _invoice(sent)
    assert invoice.status == "sent" and invoice.paid_cents == 0
    assert len(smtp.messages) == 1
    assert check_books(sent.runtime.store.db) == []
    assert "INV-0001" in sent.say("who owes me money?")
    # a later void takes the next credit note number: the rejected one stays in the series
    assert "credit note CN-0002" in sent.say("void INV-0001")


def test_voiding_a_part_paid_invoice_turns_the_paid_part_into_the_clients_credit(sent, smtp):
    sent.say("Globex paid $1,000 for INV-0001")
    assert _invoice(sent).status == "partially_paid"
    shown = sent.say("void INV-0001")
    assert "Credit note CN-0001: −$3,000.00 (the unpaid amount)" in shown
    assert "Already paid on it: $1,000.00 — not refunded, not dropped: it becomes Globex's credit" in shown
    done = sent.say("/approve 2")
    assert "The $1,000.00 already paid on it is now Globex's credit for their next invoice." in done
    assert "stays on your account as a credit" in _body(smtp.messages[-1])
    assert _invoice(sent).status == "void"
    store = sent.runtime.store
    [(_, currency, amount)] = store.billing.credits(store.clients.find("Globex", None)[0].id)
    assert (currency, amount) == ("USD", 1000)
    assert check_books(store.db) == []
    # the credit goes towards the next invoice
    assert "Globex's credit of $1,000.00" in sent.say("invoice Globex for $2,500 for the redesign")


def test_a_draft_is_voided_by_rejecting_it_and_void_says_so(chat, smtp):
    chat.say("new client: Globex, contact jane@globex.example")
    chat.say("invoice Globex for $4,000 for the website")
    shown = chat.say("void INV-0001")
    assert "INV-0001 is a draft that was never sent" in shown and "/reject 1 voids it" in shown
    chat.say("/reject 1")
    assert "already void" in chat.say("void INV-0001")
    assert smtp.messages == []


def test_void_of_an_unknown_invoice_is_said(sent):
    assert "I can't find invoice INV-0042" in sent.say("void INV-0042")


# -- resend --------------------------------------------------------------------------------------

RESENDS_ELSEWHERE = [
    "resend INV-0001 to ap@globex.example",
    "send INV-0001 again to ap@globex.example",
    "re-send invoice 1 to ap@globex.example please",
    "forward invoice #1 to ap@globex.example",
]


@phrasings("said", RESENDS_ELSEWHERE)
def test_resend_to_another_address(sent, smtp, said):
    shown = sent.say(said)
    assert "Send it again to ap@globex.example?" in shown
    assert "Sent before to jane@globex.example" in shown
    assert len(smtp.messages) == 1
    done = sent.say("/approve 2")
    assert "Sent invoice #INV-0001 to ap@globex.example" in done
    assert len(smtp.messages) == 2
    again = smtp.messages[-1]
    assert again["To"] == "ap@globex.example"
    assert "Please find invoice INV-0001 below." in _body(again)
    assert _invoice(sent).status == "sent"
    assert check_books(sent.runtime.store.db) == []


@phrasings("said", ["send INV-0001 again", "resend INV-0001", "resend invoice 1 to Globex"])
def test_each_resend_is_its_own_send(sent, smtp, said):
    assert "Send it again to jane@globex.example?" in sent.say(said)
    sent.say("/approve 2")
    assert "Send it again to jane@globex.example?" in sent.say(said)
    sent.say("/approve 3")
    sent.say("/approve 3")  # exactly once per resend
    assert [m["To"] for m in smtp.messages] == ["jane@globex.example"] * 3


def test_resend_of_a_void_or_draft_invoice_is_refused(sent, smtp):
    sent.say("invoice Globex for $500 for the icons")
    assert "INV-0002 was never sent: it is a draft. /approve 2 sends it." in sent.say("resend INV-0002")
    sent.say("void INV-0001")
    sent.say("/approve 3")
    assert "Invoice INV-0001 is void; I won't send it again." in sent.say("resend INV-0001")


# -- payment reminders ---------------------------------------------------------------------------

NUDGES = [
    "nudge Globex about INV-0001",
    "remind Globex they owe us",
    "remind Globex to pay INV-0001",
    "chase Globex for payment",
    "follow up with Globex on the unpaid invoice",
    "chase up INV-0001",
    "send a payment reminder to Globex",
]


def _to_day(clock, day: date) -> None:  # type: ignore[no-untyped-def]
    clock.advance(seconds=(datetime(day.year, day.month, day.day, 9, tzinfo=UTC) - clock.now()).total_seconds())


def _tick(chat, clock, day: date):  # type: ignore[no-untyped-def]
    _to_day(clock, day)
    report = run_tick(chat.runtime, day)
    chat.runtime.queue.wait_idle()
    return report


def _pending_reminders(chat) -> list:  # type: ignore[no-untyped-def]
    return [a for a in chat.runtime.store.runs.pending_approvals() if a.action == "send_reminder"]


@phrasings("said", NUDGES)
def test_a_reminder_on_request_is_polite_threaded_and_waits_for_approval(sent, smtp, clock, said):
    _to_day(clock, date(2026, 12, 14))  # INV-0001 was due 2026-12-09
    shown = sent.say(said)
    assert "Send the reminder to jane@globex.example?" in shown
    assert "Open: INV-0001 $4,000.00 — 5 days overdue" in shown
    assert len(smtp.messages) == 1
    assert "Sent payment reminder for #INV-0001 to jane@globex.example" in sent.say("/approve 2")
    reminder = smtp.messages[-1]
    assert reminder["In-Reply-To"] == smtp.messages[0]["Message-ID"]
    assert reminder["Subject"] == "Re: Invoice INV-0001 from Ana Ruiz"
    body = _body(reminder)
    assert "A quick, friendly reminder" in body and "INV-0001 of 2026-11-25: $4,000.00 due 2026-12-09" in body


@phrasings(
    "said",
    [
        "chase the overdue invoices",
        "nudge everyone who owes us",
        "nudge everyone who's late",
        "send payment reminders for overdue invoices",
    ],
)
def test_chasing_the_overdue_invoices_drafts_one_reminder_per_late_client(sent, smtp, clock, said):
    """One card per client that is late; a client's several overdue invoices share one reminder."""
    sent.say("invoice Globex for $500 for the icons")
    sent.say("/approve 2")
    sent.say("new client: Initech, contact ap@initech.example")
    sent.say("invoice Initech for $900 for the icons")
    sent.say("/approve 3")
    assert "Nothing is overdue" in sent.say(said)
    _to_day(clock, date(2026, 12, 20))
    shown = sent.say(said)
    assert (
        "3 overdue invoices from 2 clients: one reminder per client, each its own card to approve —"
        " Globex (INV-0001, INV-0002); Initech (INV-0003)." in shown
    ), shown
    waiting = _pending_reminders(sent)
    assert [(a.card["client"], a.draft["to"]) for a in waiting] == [
        ("Globex", "jane@globex.example"),
        ("Initech", "ap@initech.example"),
    ]
    assert "INV-0001" in waiting[0].draft["body"] and "INV-0002" in waiting[0].draft["body"]
    assert "INV-0003" in waiting[1].draft["body"]
    assert len(smtp.messages) == 3  # the invoices only: every reminder waits for its approval
    sent.say(f"/reject {waiting[0].id}")
    sent.say(f"/approve {waiting[1].id}")
    assert [m["To"] for m in smtp.messages[3:]] == ["ap@initech.example"]


def test_chasing_when_one_client_is_late_drafts_its_reminder(sent, smtp, clock):
    _to_day(clock, date(2026, 12, 20))
    shown = sent.say("chase the overdue invoices")
    assert "Send the reminder to jane@globex.example?" in shown
    assert len(_pending_reminders(sent)) == 1


def test_no_reminder_for_paid_or_void_invoices(sent, smtp):
    sent.say("Globex paid $4,000 for INV-0001")
    assert "INV-0001 is paid: no reminder needed." in sent.say("nudge Globex about INV-0001")
    assert "Globex owes nothing: no open invoices." in sent.say("remind Globex they owe us")


def test_the_tick_drafts_each_stage_once_each_firmer(sent, smtp, clock):
    assert _tick(sent, clock, date(2026, 12, 11)).reminders == []  # 2 days overdue
    assert len(_tick(sent, clock, date(2026, 12, 12)).reminders) == 1  # 3 days: reminder 1
    assert _tick(sent, clock, date(2026, 12, 12)).reminders == []  # the same day again: nothing new
    assert _tick(sent, clock, date(2026, 12, 13)).reminders == []
    [first] = _pending_reminders(sent)
    assert len(smtp.messages) == 1  # it waits for approval
    digest = write_digest(sent.runtime.store, date(2026, 12, 13)).text
    assert "Payment reminders waiting" in digest and f"#{first.id} Globex" in digest
    sent.say(f"/approve {first.id}")
    assert "Just a friendly reminder" in _body(smtp.messages[-1])
    assert len(_tick(sent, clock, date(2026, 12, 19)).reminders) == 1  # 10 days: reminder 2
    [second] = _pending_reminders(sent)
    sent.say(f"/approve {second.id}")
    assert "Following up on my earlier reminder" in _body(smtp.messages[-1])
    assert len(_tick(sent, clock, date(2027, 1, 8)).reminders) == 1  # 30 days: the final one
    [third] = _pending_reminders(sent)
    sent.say(f"/approve {third.id}")
    assert "This is a final reminder" in _body(smtp.messages[-1])
    assert _tick(sent, clock, date(2027, 2, 8)).reminders == []  # the schedule is done
    assert len(smtp.messages) == 4
    assert check_books(sent.runtime.store.db) == []


def test_a_late_first_tick_drafts_only_the_stage_reached(sent, clock):
    assert len(_tick(sent, clock, date(2027, 1, 10)).reminders) == 1
    [only] = _pending_reminders(sent)
    assert "reminder 3 (schedule)" in only.card["title"]
    assert _tick(sent, clock, date(2027, 1, 11)).reminders == []


def test_paid_and_voided_invoices_get_no_more_reminders(sent, clock):
    sent.say("invoice Globex for $500 for the icons")
    sent.say("/approve 2")
    sent.say("Globex paid $4,000 for INV-0001")
    sent.say("void INV-0002")
    sent.say("/approve 3")
    assert _tick(sent, clock, date(2026, 12, 12)).reminders == []
    assert _pending_reminders(sent) == []


def test_routine_reminders_go_out_on_their_own_with_collector_autonomy(sent, smtp, clock):
    assert "OK: the collector now sends scheduled payment reminders" in sent.say("/autonomy collector auto")
    assert "collector: auto" in sent.say("/autonomy")
    _tick(sent, clock, date(2026, 12, 12))
    assert _pending_reminders(sent) == []
    assert len(smtp.messages) == 2 and "Just a friendly reminder" in _body(smtp.messages[-1])
    # one the operator asks for still waits for approval
    assert "Send the reminder to jane@globex.example?" in sent.say("nudge Globex about INV-0001")
    assert len(_pending_reminders(sent)) == 1
    sent.say("/autonomy collector ask")
    _tick(sent, clock, date(2026, 12, 19))
    assert len(_pending_reminders(sent)) == 2 and len(smtp.messages) == 2


def test_reminder_days_are_a_setting(make_runtime, db_url, smtp, clock):
    from tests.conftest import ChatDriver

    chat = ChatDriver(
        make_runtime(
            database_url=db_url, smtp_url=smtp.url, from_email="Ana Ruiz <ana@studio.example>", reminder_days="1, 5"
        )
    )
    assert chat.runtime.settings.reminder_schedule == (1, 5)
    chat.say("new client: Globex, contact jane@globex.example")
    chat.say("invoice Globex for $4,000 for the website")
    chat.say("/approve 1")
    assert len(_tick(chat, clock, date(2026, 12, 10)).reminders) == 1
    assert _tick(chat, clock, date(2026, 12, 12)).reminders == []
    assert len(_tick(chat, clock, date(2026, 12, 14)).reminders) == 1


@pytest.mark.parametrize("value", ["soon", "0,3", "-1"])
def test_a_wrong_reminder_setting_names_the_variable(value):
    from bot.config_error import ConfigError
    from bot.settings import load_settings

    with pytest.raises(ConfigError, match="COO_REMINDER_DAYS: expected days overdue"):
        load_settings(reminder_days=value)


def test_a_credit_note_the_mail_server_refused_voids_nothing_until_it_goes_out(sent, smtp):
    sent.say("void INV-0001")
    smtp.recorder.rcpt_reply = "550 5.1.1 No such user"
    shown = sent.say("/approve 2")
    assert "⚠️ NOT SENT: I could not send the credit note #CN-0001" in shown
    assert _invoice(sent).status == "sent"  # still owed: the client was not told
    assert check_books(sent.runtime.store.db) == []
    smtp.recorder.rcpt_reply = None
    assert "Sent credit note #CN-0001 to jane@globex.example" in sent.say("/resend 2")
    assert _invoice(sent).status == "void"
    assert len(smtp.messages) == 2
    assert check_books(sent.runtime.store.db) == []


def test_books_check_finds_credit_notes_that_do_not_add_up(sent):
    sent.say("void INV-0001")
    sent.say("/approve 2")
    db = sent.runtime.store.db
    with db.transaction() as tx:
        tx.execute("UPDATE credit_notes SET amount_cents = amount_cents - 100")
    assert [p.kind for p in check_books(db)] == ["credit_note_mismatch"]
    with db.transaction() as tx:
        tx.execute("UPDATE credit_notes SET amount_cents = amount_cents + 100, status = 'cancelled'")
    assert [p.kind for p in check_books(db)] == ["missing_credit_note"]
    with db.transaction() as tx:
        tx.execute("UPDATE credit_notes SET status = 'issued'")
        tx.execute("UPDATE counters SET value = 5 WHERE name = 'credit_note'")
    assert [p.kind for p in check_books(db)] == ["credit_note_gap"]
