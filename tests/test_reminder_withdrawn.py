"""A payment reminder waiting for approval is withdrawn, and its thread told, once the invoice it
is about is paid or voided: it can no longer be sent (issue #12, invoices after sending)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.ticks import run_tick

pytestmark = pytest.mark.clock  # the clock starts on 2026-11-25


@pytest.fixture
def late(chat, smtp, clock):  # type: ignore[no-untyped-def]
    """Globex's INV-0001 ($4,000, sent, due 2026-12-09) is 5 days overdue and a reminder waits (#2)."""
    chat.say("new client: Globex, contact jane@globex.example")
    chat.say("invoice Globex for $4,000 for the website")
    chat.say("/approve 1")
    smtp.wait_for(1)
    clock.advance(seconds=(datetime(2026, 12, 14, 9, tzinfo=UTC) - clock.now()).total_seconds())
    assert "Send the reminder to jane@globex.example?" in chat.say("nudge Globex about INV-0001")
    return chat


def _status(chat, approval_id: int) -> str:  # type: ignore[no-untyped-def]
    approval = chat.runtime.store.runs.approval(approval_id)
    return approval.status if approval else "?"


def test_a_waiting_reminder_is_withdrawn_when_the_invoice_is_paid(late, smtp):
    shown = late.say("Globex paid $4,000 for INV-0001")
    assert "Withdrew the payment reminder (card #2): INV-0001 is paid now, so it won't be sent." in shown, shown
    assert _status(late, 2) == "withdrawn"
    assert "already withdrawn" in late.say("/approve 2")
    assert len(smtp.messages) == 1  # the invoice only
    assert late.runtime.store.runs.get(late.runtime.store.runs.approval(2).run_id).status == "cancelled"


def test_a_waiting_reminder_is_withdrawn_when_the_invoice_is_voided(late, smtp):
    late.say("void INV-0001")
    shown = late.say("/approve 3")  # the credit note goes out: INV-0001 is void
    assert "INV-0001 is void" in shown
    assert "Withdrew the payment reminder (card #2): INV-0001 was voided now, so it won't be sent." in shown, shown
    assert _status(late, 2) == "withdrawn"
    assert [m["Subject"] for m in smtp.messages][-1].startswith("Credit note")


def test_a_partial_payment_leaves_the_reminder_waiting(late):
    late.say("Globex paid $1,000 for INV-0001")
    assert _status(late, 2) == "pending"


def test_a_scheduled_reminder_is_withdrawn_too(chat, smtp, clock):
    chat.say("new client: Globex, contact jane@globex.example")
    chat.say("invoice Globex for $4,000 for the website")
    chat.say("/approve 1")
    smtp.wait_for(1)
    day = date(2026, 12, 12)  # 3 days overdue: reminder 1
    clock.advance(seconds=(datetime(2026, 12, 12, 9, tzinfo=UTC) - clock.now()).total_seconds())
    assert len(run_tick(chat.runtime, day).reminders) == 1
    chat.runtime.queue.wait_idle()
    [waiting] = [a for a in chat.runtime.store.runs.pending_approvals() if a.action == "send_reminder"]
    shown = chat.say("Globex paid $4,000 for INV-0001")
    assert f"Withdrew the payment reminder (card #{waiting.id})" in shown, shown
    assert _status(chat, waiting.id) == "withdrawn"
