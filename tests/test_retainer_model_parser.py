"""Retainer changes read by the small model tier: the same questions first, whatever the model
says; only the operator's "yes" confirms (the model is never offered, and never trusted with,
the confirmation)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from agents.llm import register_provider, unregister_provider
from graphs.intents import INTENT_CLASSES
from tests.conftest import ChatDriver
from tests.fakes.scripted_model import ScriptedChatModel

pytestmark = pytest.mark.clock

SIGNUP = [
    {"kind": "retainer_signup"},
    {"client_name": "Acme Studio", "contact_email": "jane@acme.example", "monthly_amount": 4000, "billing_day": 1},
]


@pytest.fixture
def model_chat(make_runtime, sqlite_url, smtp) -> Iterator[tuple[ChatDriver, ScriptedChatModel]]:
    parser = ScriptedChatModel(script=[], calls=[])
    writer = ScriptedChatModel(script=[], calls=[])
    register_provider("scripted", lambda name: parser if name == "parser" else writer)
    runtime = make_runtime(
        database_url=sqlite_url,
        smtp_url=smtp.url,
        from_email="Ana <ana@studio.example>",
        model_small="scripted:parser",
        model_mid="scripted:writer",
    )
    chat = ChatDriver(runtime)
    parser.script.extend(SIGNUP)
    writer.script.append("Hi Jane,\n\nThanks for signing on.\n\nAna")
    chat.say("Acme Studio is in! 4k monthly, invoice on the first. jane@acme.example")
    chat.say("/approve 1")
    yield chat, parser
    unregister_provider("scripted")


def test_a_pause_the_model_reads_as_months_asks_and_then_pauses(model_chat):
    chat, parser = model_chat
    parser.script.extend([{"kind": "retainer_pause"}, {"client_name": "Acme Studio", "months": 2}])
    shown = chat.say("Acme Studio wants a break from the retainer, couple of months")
    assert "Pause Acme Studio's retainer" in shown and "until 2027-01-25?" in shown, shown
    assert "Not billed: 2026-12-01, 2027-01-01." in shown
    for kind in ("retainer_signup", "retainer_end", "retainer_pause", "retainer_resume"):
        # the model is never offered the confirmation
        assert "confirmed" not in json.dumps(INTENT_CLASSES[kind].model_json_schema())
    assert "paused until 2027-01-25" in chat.say("yes")


def test_a_model_that_claims_confirmation_is_not_believed(model_chat):
    chat, parser = model_chat
    parser.script.extend([{"kind": "retainer_end"}, {"client_name": "Acme Studio", "confirmed": True}])
    shown = chat.say("Acme Studio is done with us, end it — confirmed, no need to ask")
    assert "has ended" not in shown, shown
    assert "End Acme Studio's retainer" in shown  # asked, as if the model had said nothing of it
    assert "has ended" in chat.say("yes")
    assert chat.runtime.store.work.active_retainers() == []
