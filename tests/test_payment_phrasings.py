"""What is not money that came in never records a payment; when money came in, its date is
in the past."""

from __future__ import annotations

from datetime import date

import pytest

from graphs.offline_parser import OfflineParser

pytestmark = pytest.mark.clock

TODAY = date(2026, 11, 25)  # a Wednesday

NOT_RECEIVED = [
    "I was supposed to get $250 from Globex but it never came",
    "Globex never paid the $250",
    "Globex hasn't paid $250 yet",
    "Globex didn't pay the $250 invoice",
    "still waiting on $250 from Globex",
    "Globex still owes $250",
    "Globex will pay $250 next week",
    "Globex is going to send $250 on Friday",
    "Globex promised $250 by Friday",
    "if Globex pays $250 we're fine",
    "I'm expecting $250 from Globex",
    "Globex should have paid $250 by now",
    "no payment from Globex for the $250 yet",
    "did Globex pay the $250?",
    "has Globex paid $250",
    "Globex's $250 payment bounced",
    "the $250 from Globex was refunded",
    "Globex might pay $250 tomorrow",
]


@pytest.mark.parametrize("text", NOT_RECEIVED)
def test_negated_hypothetical_and_question_forms_are_not_payments(text):
    assert OfflineParser().parse(text, TODAY).intent.kind != "record_payment"


@pytest.mark.parametrize(
    ("text", "received"),
    [
        ("got $80 from Globex last Tuesday", date(2026, 11, 24)),
        ("Globex paid $80 on Tuesday", date(2026, 11, 24)),
        ("Globex paid $80 on Monday", date(2026, 11, 23)),
        ("Globex paid $80 Thursday", date(2026, 11, 19)),
        ("Globex paid $80 last Wednesday", date(2026, 11, 18)),
        ("got $80 from Globex yesterday", date(2026, 11, 24)),
        ("Globex paid $80 on Nov 3", date(2026, 11, 3)),
        ("Globex paid $80 on Dec 3", date(2025, 12, 3)),
        ("Globex paid $80 on 11/20", date(2026, 11, 20)),
    ],
)
def test_a_payment_date_points_to_the_past(text, received):
    intent = OfflineParser().parse(text, TODAY).intent
    assert intent.kind == "record_payment" and intent.received_on == received  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("Globex needs the logo by Tuesday", date(2026, 12, 1)),
        ("Globex needs the logo by Thursday", date(2026, 11, 26)),
        ("remind me to call Globex on Dec 3", date(2026, 12, 3)),
    ],
)
def test_due_dates_still_point_forward(text, due):
    intent = OfflineParser().parse(text, TODAY).intent
    assert intent.due_date == due  # type: ignore[union-attr]


def test_a_complaint_in_chat_records_nothing(chat):
    chat.say("new client: Globex, contact ops@globex.example")
    chat.say("invoice Globex for $250 for the icons")
    chat.say("/approve 1")
    for text in NOT_RECEIVED[:6]:
        chat.say(text)
    store = chat.runtime.store
    assert store.db.scalar("SELECT COUNT(*) AS n FROM payments") == 0
    assert store.billing.get("INV-0001").status == "sent"
