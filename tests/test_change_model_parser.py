"""Changes and undo read by the small model tier: the same questions as the offline parser, and
only the operator's "yes" confirms a change to a client (the model is never offered it)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from agents.llm import register_provider, unregister_provider
from graphs.intents import INTENT_CLASSES, INTENT_KINDS
from tests.conftest import ChatDriver
from tests.fakes.scripted_model import ScriptedChatModel

pytestmark = pytest.mark.clock

NEW_CLIENT = [{"kind": "new_client"}, {"client_name": "Acme Studio", "contact_email": "jane@acme.example"}]


@pytest.fixture
def model_chat(make_runtime, sqlite_url, smtp) -> Iterator[tuple[ChatDriver, ScriptedChatModel]]:
    parser = ScriptedChatModel(script=[], calls=[])
    register_provider("scripted", lambda name: parser)
    runtime = make_runtime(
        database_url=sqlite_url, smtp_url=smtp.url, from_email="Ana <ana@studio.example>", model_small="scripted:parser"
    )
    chat = ChatDriver(runtime)
    parser.script.extend(NEW_CLIENT)
    chat.say("Acme Studio is a new client, jane@acme.example")
    yield chat, parser
    unregister_provider("scripted")


def test_the_model_is_offered_the_change_kinds_but_never_the_confirmation():
    for kind in ("rename_client", "change_contact", "move_due", "task_done", "delete_record", "undo"):
        assert kind in INTENT_KINDS
        assert "confirmed" not in json.dumps(INTENT_CLASSES[kind].model_json_schema())


def test_a_rename_the_model_reads_asks_first_even_when_the_model_claims_yes(model_chat):
    chat, parser = model_chat
    parser.script.extend(
        [{"kind": "rename_client"}, {"client_name": "Acme Studio", "new_name": "Acme Studio Ltd", "confirmed": True}]
    )
    shown = chat.say("Acme Studio goes by Acme Studio Ltd these days")
    assert "Name: Acme Studio → Acme Studio Ltd" in shown and "Reply yes" in shown
    assert chat.runtime.store.clients.find("Acme Studio")[0].name == "Acme Studio"
    assert "Renamed Acme Studio to Acme Studio Ltd." in chat.say("yes")


def test_a_moved_deadline_and_undo_read_by_the_model(model_chat):
    chat, parser = model_chat
    parser.script.extend(
        [{"kind": "add_deliverable"}, {"client_name": "Acme Studio", "title": "logo", "due_date": "2026-12-01"}]
    )
    chat.say("Acme Studio wants the logo for Dec 1")
    parser.script.extend([{"kind": "move_due"}, {"title": "logo", "due_date": "2026-12-04"}])
    shown = chat.say("the logo can slip to the 4th")
    assert "Moved the deliverable “logo” (Acme Studio) to 2026-12-04 (was 2026-12-01)." in shown
    parser.script.append({"kind": "undo"})  # one call: undo has no fields to extract
    assert "is due 2026-12-01 again" in chat.say("scrap that last change")
