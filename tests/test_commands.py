"""Chat commands: one registry dispatches them and writes /help; typed text, buttons and forms
become the same typed command."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from graphs.command_registry import COMMANDS, REGISTRY, help_text
from graphs.commands import EditError, EditFields, parse_edit


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
