"""Chat commands: one registry dispatches them and writes /help; typed text, buttons and forms
become the same typed command."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from graphs.command_registry import COMMANDS, REGISTRY, help_text
from graphs.commands import EditError, EditFields, parse_edit
from tests.conftest import phrasings


def test_help_lists_exactly_the_registered_commands(chat):
    shown = chat.say("/help")
    listed = re.findall(r"^\s+(/\w+)", shown.split("Commands:", 1)[1], flags=re.M)
    assert listed == [f"/{c.name}" for c in COMMANDS]
    for command in COMMANDS:
        assert f"{command.usage} — {command.help}" in shown
    assert chat.say("/start") == shown  # an alias answers the same


def test_an_unknown_command_names_every_registered_one(chat):
    shown = chat.say("/frobnicate")
    assert "I don't know the command /frobnicate" in shown
    for command in COMMANDS:
        assert command.usage in shown


def test_every_command_has_its_help_line_and_one_name() -> None:
    assert all(c.help and c.who == "operator" for c in COMMANDS)
    assert len(REGISTRY) == len(COMMANDS) + sum(len(c.aliases) for c in COMMANDS)
    assert help_text().count("\n  /") == len(COMMANDS)


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("to=jane@acme.example", EditFields(to="jane@acme.example")),
        ("subject=New subject to follow", EditFields(subject="New subject to follow")),
        ("due=2026-12-20 rate=$1,100", EditFields(due=date(2026, 12, 20), rate=Decimal("1100"))),
        ("hours=10", EditFields(qty=Decimal(10))),
        ("Hi Jane, see you at 10 to=morrow", EditFields(body="Hi Jane, see you at 10 to=morrow")),
    ],
)
def test_typed_edit_text_becomes_typed_fields(text: str, fields: EditFields) -> None:
    assert parse_edit(text) == fields


@pytest.mark.parametrize("text", ["", "due=someday", "rate=-5", "qty=lots"])
def test_unreadable_edits_say_how_to_write_them(text: str) -> None:
    with pytest.raises(EditError):
        parse_edit(text)


PYTHON_ERROR_TEXT = ("isoformat", "Traceback", "Error", "decimal.", "InvalidOperation", "ConversionSyntax")


@phrasings(
    ("text", "named"),
    [
        ("vat=20", "vat="),
        ("VAT = 20%", "VAT="),
        ("discount=10%", "discount="),
        ("total=500", "total="),
        ("cc=boss@acme.example", "cc="),
        ("body=Hello there", "body="),
        ("amount=1200", "amount="),
        ("to=ops@northwind.example vat=20", "vat="),
        ("subject=Files are up tax_rate=7", "tax_rate="),
        ("currency=EUR", "currency="),
    ],
)
def test_an_unknown_edit_field_is_refused_in_one_line_naming_the_allowed_ones(chat, text: str, named: str) -> None:
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("email Northwind that the files are uploaded")
    before = chat.runtime.store.runs.approval(1).draft
    shown = chat.say(f"/edit 1 {text}")
    assert named in shown and "no such field" in shown
    assert "to, subject, due, rate" in shown and "qty" in shown and "whole new text" in shown
    assert len(shown.strip().splitlines()) == 1
    assert chat.runtime.store.runs.approval(1).draft == before  # the draft is untouched


@phrasings(
    ("text", "says"),
    [
        ("due=tomorrow", 'can\'t read "tomorrow" as a date'),
        ("due=2026-13-45", "as a date"),
        ("due=20/12/2026", "e.g. due=2026-12-20"),
        ("due=next friday", "year-month-day"),
        ("rate=abc", 'can\'t read "abc" as an amount'),
        ("rate=NaN", "as an amount"),
        ("price=a lot", "as an amount"),
        ("rate=-5", "more than zero"),
        ("hours=0", "more than zero"),
        ("qty=lots", "write a number"),
        ("quantity=ten", "write a number"),
        ("due=", "has no value"),
    ],
)
def test_a_bad_edit_value_is_told_in_plain_words(chat, text: str, says: str) -> None:
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("invoice Northwind $2,000 for october design work")
    before = chat.runtime.store.runs.approval(1).draft
    shown = chat.say(f"/edit 1 {text}")
    assert says in shown
    assert not any(word in shown for word in PYTHON_ERROR_TEXT), shown
    assert len(shown.strip().splitlines()) == 1
    assert chat.runtime.store.runs.approval(1).draft == before


@pytest.mark.parametrize(
    "text",
    [
        "Hi team, the files are up. Best, Ana",
        "Quick note: rate=100 stays as agreed.",
        "Hello Jane, VAT=20% is included.",
        "files are uploaded, see link",
    ],
)
def test_prose_that_does_not_start_with_a_field_is_the_new_text(chat, text: str) -> None:
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("email Northwind that the files are uploaded")
    shown = chat.say(f"/edit 1 {text}")
    assert "Edited #1 (draft text replaced)" in shown
    assert chat.runtime.store.runs.approval(1).draft["body"] == text


def test_known_fields_with_aliases_edit_an_invoice(chat) -> None:
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("invoice Northwind $2,000 for october design work")
    shown = chat.say("/edit 1 price=$150 hours=4 due=2030-01-31")
    assert "Edited #1" in shown and "rate → 150" in shown and "qty → 4" in shown
    assert "due → 2030-01-31" in shown


def test_typed_edit_and_decision_in_chat(chat, smtp):
    chat.say("new client: Northwind, contact ops@northwind.example")
    chat.say("email Northwind that the files are uploaded")
    shown = chat.say("/edit 1 subject=Files are up")
    assert "Edited #1 (subject changed)" in shown
    assert chat.runtime.store.runs.approval(1).draft["subject"] == "Files are up"
    assert "is not an e-mail address" in chat.say("/edit 1 to=nobody")
    chat.say("/approve 1")
    [mail] = smtp.wait_for(1)
    assert mail["To"] == "ops@northwind.example" and mail["Subject"] == "Files are up"
    assert "was already approved" in chat.say("/edit 1 subject=late")
