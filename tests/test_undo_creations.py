"""Undo covers what the operator created by chatting (issue #12): an invoice, a task, a
deliverable, a proposal, the payments of a CSV import. A draft invoice is voided with its number
kept (never reused) and its card withdrawn; a sent one is offered as a void with a credit note,
for approval; an over-payment whose credit was used already is not undone."""

from __future__ import annotations

import pytest

from store.books_check import check_books

pytestmark = pytest.mark.clock  # the clock is 2026-11-25


@pytest.fixture
def bob(chat):  # type: ignore[no-untyped-def]
    chat.say("new client: Bob Lee, contact bob@lee.example")
    return chat


def _approval_status(chat, n: int) -> str:  # type: ignore[no-untyped-def]
    return str(chat.runtime.store.db.scalar("SELECT status FROM approvals WHERE id = ?", (n,)))


def test_undo_a_draft_invoice_voids_it_keeps_its_number_and_withdraws_its_card(bob, smtp):
    bob.say("invoice Bob Lee for 12 hours of logo work at $95/h, due in 14 days")
    shown = bob.say("undo that")
    assert "Undone: created invoice INV-0001 for Bob Lee ($1,140.00)." in shown, shown
    assert "INV-0001 was never sent: it is void now" in shown and "its number stays in the sequence" in shown
    assert "Its approval card #1 is withdrawn." in shown
    store = bob.runtime.store
    assert store.billing.get("INV-0001").status == "void"
    assert _approval_status(bob, 1) == "withdrawn"
    assert "already withdrawn" in bob.say("/approve 1")  # nothing resumes it, nothing is sent
    assert smtp.messages == []
    assert "INV-0001" not in bob.say("who owes me money?")
    # no number reuse: the next invoice is INV-0002
    assert "Invoice #INV-0002" in bob.say("invoice Bob Lee for $300 for the icons")
    assert check_books(store.db) == []
    # a ledger row is never deleted: the creation and its undoing are both there
    kinds = [r["kind"] for r in store.db.fetchall("SELECT kind FROM ledger WHERE kind LIKE 'change%' ORDER BY id")]
    assert "change_undone" in kinds


def test_undo_a_sent_invoice_offers_a_void_with_a_credit_note_through_approval(bob, smtp):
    bob.say("invoice Bob Lee for $600 for the logo")
    bob.say("/approve 1")
    smtp.wait_for(1)
    shown = bob.say("undo")
    assert "INV-0001 was sent to bob@lee.example: it has left the machine" in shown, shown
    assert "I can void it with a credit note to the client, once you approve" in shown
    assert "Void INV-0001 and send credit note CN-0001 to bob@lee.example?" in shown
    assert bob.runtime.store.billing.get("INV-0001").status == "sent"  # nothing until approved
    shown = bob.say("/approve 2")
    smtp.wait_for(2)
    assert "INV-0001 is void" in shown, shown
    assert bob.runtime.store.billing.get("INV-0001").status == "void"
    assert check_books(bob.runtime.store.db) == []
    # the credit note has left the machine too; past it, undo went past the send and the
    # invoice's creation (the void covers them): next is the new client
    assert "The last thing was the e-mail “Credit note CN-0001" in bob.say("undo")
    assert "I can't undo added the client Bob Lee" in bob.say("undo")


def test_undo_a_task_and_a_deliverable_takes_them_off_the_list(bob):
    bob.say("Bob Lee needs the homepage mockups by Friday")
    bob.say("remind me to call the accountant tomorrow")
    shown = bob.say("undo")
    assert "Undone: created the task “call the accountant”. The task “call the accountant” is off your list." in (
        shown
    ), shown
    assert bob.runtime.store.work.open_tasks() == []
    shown = bob.say("undo")
    assert "Undone: created the deliverable “homepage mockups” (Bob Lee)." in shown, shown
    assert bob.runtime.store.work.open_deliverables() == []
    # and then the client, which nothing refers to any more but the deleted deliverable
    assert "Bob Lee" in bob.say("undo")


def test_undo_a_proposal_withdraws_its_card(bob, smtp):
    bob.say("draft a proposal for Bob Lee for a brand refresh, $6k")
    shown = bob.say("undo")
    assert "Undone: created the proposal #" in shown and "its approval card #1 is withdrawn" in shown, shown
    assert _approval_status(bob, 1) == "withdrawn"
    assert smtp.messages == []


def test_undo_a_csv_import_takes_its_payments_back(bob, smtp):
    from graphs.payments_intake import import_payments

    bob.say("invoice Bob Lee for $600 for the logo")
    bob.say("/approve 1")
    smtp.wait_for(1)
    result = import_payments(
        bob.runtime.conversation,
        b"Date,Description,Amount\n11/24/2026,BOB LEE INV-0001,600.00\n",
        "bank.csv",
        channel="console",
        thread_id="console",
        user_id="ana",
        event_id="drop-1",
    )
    assert result.counts["matched"] == 1, result.reply
    store = bob.runtime.store
    assert store.billing.get("INV-0001").status == "paid"
    shown = bob.say("undo")
    assert "Undone: the 1 payment imported from bank.csv. 1 payment taken back; INV-0001 are as they were" in shown
    invoice = store.billing.get("INV-0001")
    assert (invoice.status, invoice.paid_cents) == ("sent", 0)
    assert store.db.scalar("SELECT COUNT(*) AS n FROM payments") == 0
    assert check_books(store.db) == []


def test_undo_an_over_payment_whose_credit_was_used_is_refused(bob, smtp):
    bob.say("invoice Bob Lee for $600 for the logo")
    bob.say("/approve 1")
    smtp.wait_for(1)
    bob.say("got $660 from Bob Lee for INV-0001")  # $60 becomes Bob Lee's credit
    bob.say("invoice Bob Lee for $100 for the icons")  # holds the $60 credit
    bob.say("/approve 2")
    smtp.wait_for(2)
    bob.say("undo")  # the second invoice's send: offered as a void (card 3)
    bob.say("/reject 3")
    shown = bob.say("undo")  # now the payment: its credit went into INV-0002
    assert "I can't undo the payment of $660.00 from Bob Lee against INV-0001" in shown, shown
    assert "the $60.00 credit it made was already used: INV-0002 (used $60.00)" in shown
    assert "Nothing changed." in shown
    assert bob.runtime.store.billing.get("INV-0001").status == "paid"
    assert check_books(bob.runtime.store.db) == []


def test_undo_an_over_payment_whose_credit_is_unused_takes_it_back(bob, smtp):
    bob.say("invoice Bob Lee for $600 for the logo")
    bob.say("/approve 1")
    smtp.wait_for(1)
    bob.say("got $660 from Bob Lee for INV-0001")
    shown = bob.say("undo")
    assert "Undone: the payment of $660.00 from Bob Lee against INV-0001." in shown, shown
    assert bob.runtime.store.billing.credits() == []
    assert check_books(bob.runtime.store.db) == []


def test_a_retainer_invoice_the_schedule_made_is_not_your_last_change(chat, smtp):
    from datetime import date

    from bot.ticks import run_tick

    chat.say(
        "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example"
    )
    chat.say("/approve 1")
    smtp.wait_for(1)
    run_tick(chat.runtime, date(2026, 12, 1))
    chat.runtime.queue.wait_idle()
    [drafted] = chat.runtime.store.billing.drafts()
    shown = chat.say("undo")
    assert "created invoice" not in shown and "was never sent" not in shown, shown
    assert chat.runtime.store.billing.get(drafted.number).status == "draft"
    assert chat.runtime.store.runs.approval_for(drafted.run_id or "", "send_invoice").status == "pending"
