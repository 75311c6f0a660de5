"""Autonomy earned from the ledger (issue #16): clean approvals in a row make coo suggest a
higher level, citing the approvals; an edit or a rejection resets the streak; only the
operator's tap (`/policy accept N`, a button in Slack/Telegram) or /policy changes the level (a ledger event); `auto` stays within its limits; a failed
send lowers it again; `coo policy` shows and sets the same."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ChatDriver

CLIENT = "new client: Northwind, contact ops@northwind.example"


@pytest.fixture
def lite(make_runtime, sqlite_url, smtp) -> ChatDriver:
    runtime = make_runtime(database_url=sqlite_url, smtp_url=smtp.url, from_email="Ana Ruiz <ana@studio.example>")
    return ChatDriver(runtime)


def _email_approved(chat: ChatDriver, n: int, *, edit: bool = False) -> str:
    shown = chat.say(f"email Northwind that batch {n} of the files is uploaded")
    number = re.search(r"\[/approve (\d+)\]", shown)
    assert number, shown
    if edit:
        assert "Edited" in chat.say(f"/edit {number.group(1)} subject=Batch {n} is up")
    return chat.say(f"/approve {number.group(1)}")


def _levels(chat: ChatDriver) -> list[str]:
    return [r.level for r in chat.runtime.store.autonomy_rules.all()]


def test_ten_clean_approvals_bring_a_suggestion_and_only_the_operator_raises_the_level(lite, smtp):
    chat = lite
    chat.say(CLIENT)
    for n in range(1, 10):
        said = _email_approved(chat, n)
        assert "Sent e-mail" in said and "💡" not in said
    tenth = _email_approved(chat, 10)
    assert "💡 Your last 10 approvals of the email_responder's e-mails for Northwind went out as drafted" in tenth
    assert "(approvals #1–#10;" in tenth
    offer = re.search(r"Tap Raise to auto \(or type /policy accept (\d+)\)", tenth)
    assert offer, tenth
    store = chat.runtime.store
    suggested = [e for e in store.db.fetchall("SELECT id, payload FROM ledger WHERE kind = 'autonomy_suggested'")]
    assert len(suggested) == 1 and suggested[0]["id"] == int(offer.group(1))
    assert _levels(chat) == []  # a suggestion changes nothing
    assert "There is no suggestion #999; nothing changed." in chat.say("/policy accept 999")

    # The 11th still asks; then the operator takes the suggestion (the console's numbered command
    # is what the Slack and Telegram buttons send).
    assert "[/approve 11]" in chat.say("email Northwind that batch 11 is uploaded")
    chat.say("/approve 11")
    said = chat.say(f"/policy accept {offer.group(1)}")
    assert "✅ Raised by you at " in said and "e-mails for Northwind are now auto (known addresses only)" in said
    assert store.autonomy_rules.level("email_responder", "send_email", 1) == "auto"
    changes = store.db.fetchall("SELECT actor, payload FROM ledger WHERE kind = 'policy_changed'")
    assert len(changes) == 1 and changes[0]["actor"].startswith("console:")
    assert "out of date" in chat.say(f"/policy accept {offer.group(1)}")  # a second tap changes nothing
    assert len(store.db.fetchall("SELECT id FROM ledger WHERE kind = 'policy_changed'")) == 1

    sent = len(smtp.messages)
    said = chat.say("email Northwind that batch 12 is uploaded")
    assert "/approve" not in said and "Sent without asking: your /policy lets the email_responder" in said
    assert len(smtp.wait_for(sent + 1)) == sent + 1
    assert "email_responder · e-mails for Northwind: auto" in chat.say("/policy")


def test_an_edit_or_a_rejection_resets_the_streak(chat):
    chat.say(CLIENT)
    assert "after 3 clean approvals" in chat.say("/policy streak 3")
    _email_approved(chat, 1)
    _email_approved(chat, 2)
    assert "💡" not in _email_approved(chat, 3, edit=True)  # the edit resets the count
    assert "💡" not in _email_approved(chat, 4)
    assert "💡" not in _email_approved(chat, 5)
    said = _email_approved(chat, 6)
    assert "💡 Your last 3 approvals" in said and "(approvals #4–#6;" in said
    offer = re.search(r"/policy accept (\d+)", said)
    assert offer
    shown = chat.say("email Northwind that batch 7 is uploaded")
    assert "[/approve 7]" in shown
    chat.say("/reject 7")  # a rejection resets it too
    # ... and makes the suggestion stale: taking it now changes nothing, and says so.
    said = chat.say(f"/policy accept {offer.group(1)}")
    assert "out of date: an edit or a rejection since broke the streak; nothing changed" in said
    assert _levels(chat) == []
    assert "💡" not in _email_approved(chat, 8)
    assert "💡" not in _email_approved(chat, 9)
    assert "💡 Your last 3 approvals" in _email_approved(chat, 10)


def test_auto_stays_within_its_ceiling_and_a_failed_send_lowers_it(lite, smtp):
    chat = lite
    chat.say(CLIENT)
    said = chat.say("/policy invoicer send_invoice auto max=1000")
    assert "OK (ask → auto)" in said and "up to $1,000.00" in said
    small = chat.say("invoice Northwind $500 for hosting")
    assert "/approve" not in small and "Sent invoice #INV-0001" in small
    big = chat.say("invoice Northwind $2,000 for october design work")
    assert "[/approve 2]" in big  # over the ceiling: it asks (#1 went out on its own)
    # A send that autonomy let out and that fails lowers the level, with a message.
    smtp.recorder.data_reply = "550 5.1.1 No such mailbox"
    failed = chat.say("invoice Northwind $300 for fonts")
    assert "NOT SENT" in failed
    assert "I lowered the invoicer's autonomy for invoices back to ask" in failed
    assert chat.runtime.store.autonomy_rules.level("invoicer", "send_invoice", 1) == "ask"


def test_auto_never_sends_to_an_address_not_on_file(lite, smtp):
    chat = lite
    chat.say(CLIENT)
    chat.say("/policy email_responder send_email auto")
    said = chat.say("email Northwind that the files are uploaded")
    assert "/approve" not in said and "Sent without asking" in said
    stranger = chat.say("email lena@elsewhere.example that the files are uploaded")
    assert "[/approve 2]" in stranger, stranger  # an address coo never wrote to: it asks
    assert len(smtp.messages) == 1


def test_policy_bad_input_is_explained(lite):
    chat = lite
    assert "There is no agent called wizard" in chat.say("/policy wizard send_email auto")
    assert "not a kind of work I gate" in chat.say("/policy invoicer dance auto")
    assert "The level is one of ask, ask-external, auto" in chat.say("/policy invoicer send_invoice yolo")
    assert "is not an amount" in chat.say("/policy invoicer send_invoice auto max=lots")
    assert chat.runtime.store.autonomy_rules.all() == []


def test_coo_policy_in_the_terminal(coo, sqlite_url):
    env = {"COO_DATABASE_URL": sqlite_url}
    shown = coo(["policy"], env)
    assert shown.returncode == 0 and "everything: ask" in shown.stdout
    assert "• daily: none (spent $0.0000)" in shown.stdout
    assert "• daily: $3.00" in coo(["policy"], env | {"COO_DAILY_COST_CAP": "3"}).stdout
    changed = coo(["policy", "collector", "send_reminder", "ask-external"], env)
    assert "OK (ask → ask-external)" in changed.stdout
    assert "collector · payment reminders: ask-external" in coo(["policy"], env).stdout


def test_a_complaint_from_the_client_lowers_autonomy_for_that_client_only(lite):
    from email.message import EmailMessage

    from tests.test_email_intake import ingest

    chat = lite
    chat.say(CLIENT)
    chat.say("new client: Globex, contact ap@globex.example")
    chat.say("/policy invoicer send_invoice auto")
    message = EmailMessage()
    message["From"] = "Ops <ops@northwind.example>"
    message["To"] = "Ana Ruiz <ana@studio.example>"
    message["Subject"] = "Invoice"
    message["Message-ID"] = "<complaint-1@northwind.example>"
    message.set_content("Hi Ana,\n\nWe were charged twice for October. Not happy about this.\n\nOps")
    _, shown = ingest(chat, bytes(message))
    assert "This reads like a complaint, so the invoicer's invoices for Northwind ask you again" in shown
    rules = chat.runtime.store.autonomy_rules
    assert rules.level("invoicer", "send_invoice", 1) == "ask"
    assert rules.level("invoicer", "send_invoice", 2) == "auto"  # Globex keeps it
