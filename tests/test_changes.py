"""Changing by chatting (issue #12): rename a client, change its contact, move a due date, finish
a task, change a retainer by naming the client, delete a mistaken record. Changes to clients and
money show old → new and ask first; small changes to work items just happen and say so."""

from __future__ import annotations

import pytest

from tests.conftest import phrasings

pytestmark = pytest.mark.clock  # the clock is 2026-11-25 (a Wednesday)


@pytest.fixture
def acme(chat):  # type: ignore[no-untyped-def]
    chat.say("new client: Acme Studio, contact jane@acme.example")
    chat.say("Acme Studio needs the logo by Dec 1")
    chat.say("remind me to call Bob tomorrow")
    return chat


def _client(chat, name: str = "Acme Studio"):  # type: ignore[no-untyped-def]
    found = chat.runtime.store.clients.find(name)
    return found[0] if len(found) == 1 else None


def _changes(chat) -> int:  # type: ignore[no-untyped-def]
    return int(chat.runtime.store.db.scalar("SELECT COUNT(*) AS n FROM ledger WHERE kind = 'change'") or 0)


# -- rename ----------------------------------------------------------------------------------

RENAMES = [
    "rename Acme Studio to Acme Studio Ltd",
    "rename acme studio to Acme Studio Ltd",
    "Rename the client Acme Studio to Acme Studio Ltd.",
    "Acme Studio is now called Acme Studio Ltd",
    "acme studio is now called Acme Studio Ltd",
    "change Acme Studio's name to Acme Studio Ltd",
    "Acme Studio changed its name to Acme Studio Ltd",
    "Acme Studio's new name is Acme Studio Ltd",
    "please rename Acme Studio as Acme Studio Ltd",
]


@phrasings("said", RENAMES)
def test_rename_shows_old_and_new_and_asks_first(acme, said):
    shown = acme.say(said)
    assert "Rename the client Acme Studio?" in shown
    assert "Name: Acme Studio → Acme Studio Ltd" in shown
    assert "Reply yes to go ahead" in shown
    assert _client(acme).name == "Acme Studio"  # nothing yet
    shown = acme.say("yes")
    assert "Renamed Acme Studio to Acme Studio Ltd." in shown
    assert _client(acme, "Acme Studio Ltd").name == "Acme Studio Ltd"
    assert "Acme Studio Ltd" in acme.say("list my clients")


@phrasings("answer", ["no", "nope", "don't"])
def test_no_keeps_the_name(acme, answer):
    acme.say("rename Acme Studio to Acme Studio Ltd")
    assert "OK, nothing changed: Acme Studio stays as it is." in acme.say(answer)
    assert _client(acme).name == "Acme Studio"


def test_rename_to_a_name_another_client_has_is_refused(acme):
    acme.say("new client: Globex, contact ap@globex.example")
    shown = acme.say("rename Acme Studio to Globex")
    assert "There is already a client called Globex; Acme Studio keeps its name." in shown


def test_rename_an_unknown_client_says_so(acme):
    assert "I don't know a client called 'Initech'" in acme.say("rename Initech to Initrode")


# -- contact ---------------------------------------------------------------------------------

CONTACTS = [
    "Acme Studio's email is now billing@acme.example",
    "acme studio's e-mail is now billing@acme.example",
    "use billing@acme.example for Acme Studio",
    "Use billing@acme.example for Acme Studio from now on.",
    "change Acme Studio's email to billing@acme.example",
    "update acme studio's contact email to billing@acme.example",
    "Acme Studio's new email address is billing@acme.example",
    "new email for Acme Studio: billing@acme.example",
]


@phrasings("said", CONTACTS)
def test_contact_change_shows_old_and_new_and_asks_first(acme, said):
    shown = acme.say(said)
    assert "Change Acme Studio's contact e-mail?" in shown
    assert "E-mail: jane@acme.example → billing@acme.example" in shown
    assert _client(acme).contact_email == "jane@acme.example"
    shown = acme.say("yes")
    assert "Acme Studio's contact e-mail is now billing@acme.example (was jane@acme.example)." in shown
    assert _client(acme).contact_email == "billing@acme.example"


def test_a_contact_is_added_where_there_was_none(chat):
    chat.say("new client: Globex")
    shown = chat.say("add ap@globex.example as the contact for Globex")
    assert "E-mail: none → ap@globex.example" in shown
    chat.say("yes")
    assert _client(chat, "Globex").contact_email == "ap@globex.example"


# -- due dates: just moved, and said ----------------------------------------------------------

MOVES = [
    "move the logo for Acme Studio to Friday",
    "Move the logo for acme studio to friday.",
    "push the logo deadline to Friday",
    "move the logo to Nov 27",
    "reschedule the logo for Acme Studio for 2026-11-27",
    "the logo for Acme Studio is now due Friday",
    "bring forward the logo to friday",
    "move the deadline for the logo to 27 November",
]


@phrasings("said", MOVES)
def test_moving_a_deliverable_just_happens_and_says_old_and_new(acme, said):
    shown = acme.say(said)
    assert "Moved the deliverable “logo” (Acme Studio) to 2026-11-27 (was 2026-12-01)." in shown, shown
    assert "Reply yes" not in shown
    [logo] = acme.runtime.store.work.open_deliverables()
    assert str(logo.due_date) == "2026-11-27"


@phrasings(
    "said", ["move the task call Bob to Dec 12", "push call Bob to December 12", "postpone task call bob until Dec 12"]
)
def test_moving_a_task(acme, said):
    shown = acme.say(said)
    assert "Moved the task “call Bob” to 2026-12-12 (was 2026-11-26)." in shown, shown


def test_moving_to_a_past_day_or_an_unknown_item_changes_nothing(acme):
    assert "No deliverable or task matches “brochure”; nothing changed." in acme.say("move the brochure to Friday")
    [logo] = acme.runtime.store.work.open_deliverables()
    assert str(logo.due_date) == "2026-12-01"


# -- tasks done ------------------------------------------------------------------------------

TASK_DONES = [
    "mark the task call Bob done",
    "mark task call Bob as done",
    "task call bob is done",
    "done with the task call Bob",
    "finished the task call Bob",
    "tick off call Bob",
    "mark call Bob as done",
]


@phrasings("said", TASK_DONES)
def test_a_task_is_marked_done(acme, said):
    shown = acme.say(said)
    assert "Marked the task “call Bob” done." in shown, shown
    assert acme.runtime.store.work.open_tasks() == []


def test_a_task_by_number(acme):
    [task] = acme.runtime.store.work.open_tasks()
    assert "Marked the task “call Bob” done." in acme.say(f"mark task {task.id} done")


# -- a retainer changed by naming the client: money, so asked first --------------------------

SIGNED = "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example"


@pytest.mark.parametrize(
    ("said", "row"),
    [
        ("change Acme Studio's retainer to $5k a month", "$5,000.00/month (was $4,000.00)"),
        ("raise acme studio's fee to $5,000 a month", "$5,000.00/month (was $4,000.00)"),
        ("Acme Studio's retainer is now $5,000 a month", "$5,000.00/month (was $4,000.00)"),
        ("change Acme Studio's billing day to the 15th", "billed on day 15 (was day 1)"),
        ("change Acme Studio's rounds to 2", "2 revision rounds (was 3 rounds)"),
        ("set acme studio's revision rounds to two", "2 revision rounds (was 3 rounds)"),
    ],
)
def test_retainer_terms_by_naming_the_client_ask_first(chat, said, row):
    chat.say(SIGNED)
    chat.say("/approve 1")
    shown = chat.say(said)
    assert "Change Acme Studio's retainer ($4,000.00/month, 3 revision rounds, billed on day 1)?" in shown, shown
    assert row in shown
    [before] = chat.runtime.store.work.active_retainers()
    assert before.monthly_amount == 4000 and before.billing_day == 1 and before.revision_rounds == 3
    assert f"Updated Acme Studio's retainer: {row}." in chat.say("yes")


# -- deleting a mistaken record --------------------------------------------------------------


@phrasings(
    "said",
    ["delete the task call Bob", "remove task call bob", "Delete the to-do call Bob.", "scrap the task call Bob"],
)
def test_deleting_a_task(acme, said):
    shown = acme.say(said)
    assert "Deleted the task “call Bob”." in shown, shown
    assert acme.runtime.store.work.open_tasks() == []


@phrasings(
    "said",
    [
        "delete deliverable {n}",
        "remove deliverable #{n}",
        "delete the deliverable logo",
        "delete the logo for Acme Studio",
        "remove the logo for acme studio",
    ],
)
def test_deleting_a_deliverable(acme, said):
    [logo] = acme.runtime.store.work.open_deliverables()
    shown = acme.say(said.format(n=logo.id))
    assert "Deleted the deliverable “logo” (Acme Studio)." in shown, shown
    assert acme.runtime.store.work.open_deliverables() == []
    assert "logo" not in acme.say("what do we know about Acme Studio?").split("Deliverables")[-1]


@phrasings("said", ["remove client Test Co", "delete the client test co", "remove Test Co as a client"])
def test_deleting_a_client_nothing_refers_to_asks_first(chat, said):
    chat.say("new client: Test Co")
    shown = chat.say(said)
    assert "Delete the client Test Co?" in shown and "Reply yes" in shown
    assert _client(chat, "Test Co") is not None
    assert "Deleted the client Test Co." in chat.say("yes")
    assert _client(chat, "Test Co") is None
    # the run that deleted its own client finished (it once waited forever to remember the client)
    every_run = [r["id"] for r in chat.runtime.store.db.fetchall("SELECT id FROM runs", ())]
    assert chat.runtime.store.runs.unsettled(every_run) == []


def test_a_client_with_invoices_is_not_deleted_and_coo_says_why(chat):
    chat.say("new client: Test Co, contact ap@test.example")
    chat.say("invoice Test Co for 2 hours at $100")
    shown = chat.say("remove client Test Co")
    assert "I can't delete Test Co: it has 1 invoice" in shown
    assert "invoices and payments stay in the books for good" in shown
    assert _client(chat, "Test Co") is not None


def test_changes_are_ledger_events(acme):
    before = _changes(acme)
    acme.say("move the logo to Friday")
    acme.say("mark the task call Bob done")
    assert _changes(acme) == before + 2


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("mark the logo for Acme Studio as done", "deliverable_done"),
        ("tick off the logo for Acme Studio", "deliverable_done"),
        ("mark call Bob as done", "task_done"),
        ("remind me to move the logo to Friday", "add_task"),
        ("is the logo for Acme Studio due Friday?", "status_query"),
        ("cancel Acme Studio's retainer", "retainer_end"),
    ],
)
def test_changes_do_not_take_other_requests(said, kind):
    from datetime import date

    from graphs.offline_parsing.classify import classify

    parsed = classify(said, date(2026, 11, 25), ["Acme Studio"])
    assert parsed.intent.kind == kind
