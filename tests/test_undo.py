"""Undo by chatting (issue #12): "undo", "undo that", /undo reverse the operator's last change
through a compensating ledger event (no ledger row is ever deleted); undoing twice undoes the one
before; an e-mail that was sent is not undone silently."""

from __future__ import annotations

import pytest

from store.books_check import check_books
from tests.conftest import phrasings

pytestmark = pytest.mark.clock  # the clock is 2026-11-25

UNDOS = ["undo", "undo that", "Undo.", "oops, undo that", "undo the last change", "/undo", "undo pls", "revert that"]


@pytest.fixture
def acme(chat):  # type: ignore[no-untyped-def]
    chat.say("new client: Acme Studio, contact jane@acme.example")
    chat.say("Acme Studio needs the logo by Dec 1")
    chat.say("remind me to call Bob tomorrow")
    return chat


def _client(chat, name: str = "Acme Studio"):  # type: ignore[no-untyped-def]
    found = chat.runtime.store.clients.find(name)
    return found[0] if len(found) == 1 else None


def _ledger(chat) -> int:  # type: ignore[no-untyped-def]
    return int(chat.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM ledger") or 0)


def _undone(chat) -> int:  # type: ignore[no-untyped-def]
    return int(chat.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM ledger WHERE kind = 'change_undone'") or 0)


@phrasings("undo", UNDOS)
def test_undo_a_rename_names_it_back_with_a_compensating_event(acme, undo):
    acme.say("rename Acme Studio to Acme Studio Ltd")
    acme.say("yes")
    rows = _ledger(acme)
    shown = acme.say(undo)
    assert "Undone: renamed Acme Studio to Acme Studio Ltd. Acme Studio Ltd is called Acme Studio again." in shown
    assert _client(acme).name == "Acme Studio"
    assert _ledger(acme) > rows and _undone(acme) == 1  # appended, nothing deleted


def test_undo_a_contact_change_restores_the_old_address(acme):
    acme.say("use billing@acme.example for Acme Studio")
    acme.say("yes")
    shown = acme.say("undo")
    assert "Acme Studio's contact e-mail is jane@acme.example again." in shown
    assert _client(acme).contact_email == "jane@acme.example"


def test_undo_a_moved_due_date_and_a_done_task(acme):
    acme.say("move the logo to Friday")
    acme.say("mark the task call Bob done")
    assert "The task “call Bob” is open again." in acme.say("undo")
    assert [t.title for t in acme.runtime.store.work.open_tasks()] == ["call Bob"]
    shown = acme.say("undo")
    assert "Undone: moved the deliverable “logo” (Acme Studio) from 2026-12-01 to 2026-11-27." in shown
    assert "is due 2026-12-01 again" in shown
    [logo] = acme.runtime.store.work.open_deliverables()
    assert str(logo.due_date) == "2026-12-01"


@phrasings("done", ["finished the logo for Acme Studio", "/done {n}"])
def test_undo_a_delivered_deliverable_puts_it_back_to_open(acme, done):
    [logo] = acme.runtime.store.work.open_deliverables()
    acme.say(done.format(n=logo.id))
    assert acme.runtime.store.work.open_deliverables() == []
    shown = acme.say("undo that")
    assert "Undone: “logo” (Acme Studio) marked delivered." in shown
    [back] = acme.runtime.store.work.open_deliverables()
    assert back.id == logo.id and back.done_at is None


def test_undo_a_deleted_task_and_a_deleted_client_restores_them(chat):
    chat.say("new client: Test Co, contact ap@test.example")
    chat.say("remember that Test Co prefers Slack")
    chat.say("remove client Test Co")
    chat.say("yes")
    assert _client(chat, "Test Co") is None
    shown = chat.say("undo")
    assert "Undone: deleted the client Test Co. The client Test Co is back, with its facts." in shown
    client = _client(chat, "Test Co")
    assert client is not None and client.contact_email == "ap@test.example" and client.preferred_channel == "slack"
    chat.say("remind me to call Bob tomorrow")
    chat.say("delete the task call Bob")
    assert chat.runtime.store.work.open_tasks() == []
    assert "The task “call Bob” is back (open)." in chat.say("undo")
    assert [t.title for t in chat.runtime.store.work.open_tasks()] == ["call Bob"]


def test_undo_twice_undoes_the_one_before(acme):
    acme.say("rename Acme Studio to Acme Studio Ltd")
    acme.say("yes")
    acme.say("move the logo to Friday")
    assert "Undone: moved" in acme.say("undo")
    assert _client(acme, "Acme Studio Ltd") is not None  # the rename still stands
    assert "Undone: renamed Acme Studio to Acme Studio Ltd." in acme.say("undo")
    # the ones before that: adding the task, the deliverable (both taken off the list), then the
    # new client — which the (deleted) deliverable still refers to, so it stays, and coo says why
    assert "Undone: created the task “call Bob”." in acme.say("undo")
    assert "Undone: created the deliverable “logo” (Acme Studio)." in acme.say("undo")
    shown = acme.say("undo")
    assert "I can't undo added the client Acme Studio: Acme Studio has 1 deliverable since" in shown
    assert _client(acme) is not None


def test_undo_a_new_client_removes_it_when_nothing_refers_to_it(chat):
    chat.say("new client: Northwind, contact ops@northwind.example")
    shown = chat.say("undo")
    assert "Undone: added the client Northwind. Northwind is no longer a client." in shown
    assert _client(chat, "Northwind") is None
    assert "There is nothing to undo" in chat.say("undo")


def test_nothing_to_undo(chat):
    assert "There is nothing to undo" in chat.say("undo")


def test_undo_a_retainer_change_and_an_end(chat):
    chat.say(
        "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example"
    )
    chat.say("/approve 1")
    chat.say("change Acme Studio's retainer to $5k a month")
    chat.say("yes")
    chat.say("cancel Acme Studio's retainer")
    chat.say("yes")
    assert chat.runtime.store.work.active_retainers() == []
    shown = chat.say("undo")
    assert "Undone: the ending of Acme Studio's retainer. Acme Studio's retainer is back as it was. It is active." in (
        shown
    )
    shown = chat.say("undo")
    assert "Acme Studio's retainer is back to $5,000.00/month" not in shown
    assert "Undone: the change to Acme Studio's retainer ($5,000.00/month (was $4,000.00))." in shown
    [retainer] = chat.runtime.store.work.active_retainers()
    assert retainer.monthly_amount == 4000


def test_undo_a_payment_restores_the_invoice_and_the_books_stay_consistent(chat, smtp):
    chat.say("new client: Bob Lee, contact bob@lee.example")
    chat.say("invoice Bob Lee for 12 hours of logo work at $95/h, due in 14 days")
    chat.say("/approve 1")
    smtp.wait_for(1)
    shown = chat.say("got $1,140 from Bob Lee for INV-0001")
    assert "now paid in full" in shown
    shown = chat.say("undo")
    assert "Undone: the payment of $1,140.00 from Bob Lee against INV-0001." in shown
    assert "INV-0001 is back to $1,140.00 open (sent)." in shown
    invoice = chat.runtime.store.billing.get("INV-0001")
    assert invoice.status == "sent" and invoice.paid_cents == 0
    assert chat.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM payments") == 0
    assert check_books(chat.runtime.store.db) == []
    assert "INV-0001" in chat.say("who owes me money?")
    # the one before: the invoice that was e-mailed — it left the machine, so undo offers a void
    # with a credit note, for approval; rejecting it changes nothing
    shown = chat.say("undo")
    assert "INV-0001 was sent to bob@lee.example: it has left the machine" in shown
    assert "credit note" in shown and "/approve 2" in shown
    chat.say("/reject 2")
    assert chat.runtime.store.billing.get("INV-0001").status == "sent"
    assert len(smtp.messages) == 1  # nothing sent to undo a sent e-mail
    # and the one before that: the new client, which the invoice now refers to
    assert "I can't undo added the client Bob Lee" in chat.say("undo")


def test_undo_is_in_help(chat):
    assert "/undo" in chat.say("/help")
