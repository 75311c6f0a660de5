"""Voids, resends and payment reminders read by the small model tier (the scripted chat model):
the same cards as from the offline parser; the model is never offered the reminder's stage, and a
stage it claims is not believed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agents.llm import register_provider, unregister_provider
from graphs.intents import INTENT_CLASSES
from tests.conftest import ChatDriver
from tests.fakes.scripted_model import ScriptedChatModel
from tests.fakes.smtp import text_body

pytestmark = pytest.mark.clock


@pytest.fixture
def model_chat(make_runtime, sqlite_url, smtp) -> Iterator[tuple[ChatDriver, ScriptedChatModel]]:
    parser = ScriptedChatModel(script=[], calls=[])
    register_provider("scripted", lambda name: parser)
    runtime = make_runtime(
        database_url=sqlite_url, smtp_url=smtp.url, from_email="Ana <ana@studio.example>", model_small="scripted:p"
    )
    chat = ChatDriver(runtime)
    parser.script.extend(
        [
            {"kind": "new_client"},
            {"client_name": "Globex", "contact_email": "jane@globex.example"},
            {"kind": "create_invoice"},
            {"client_name": "Globex", "items": [{"description": "Website", "quantity": 1, "unit_price": 4000}]},
        ]
    )
    chat.say("got a new client, Globex, jane@globex.example")
    chat.say("bill Globex 4k for the website")
    chat.say("/approve 1")
    yield chat, parser
    unregister_provider("scripted")


def test_the_model_reads_a_void(model_chat, smtp):
    chat, parser = model_chat
    parser.script.extend([{"kind": "void_invoice"}, {"invoice_number": "INV-0001"}])
    shown = chat.say("scrap the globex invoice, we billed them by mistake (INV-0001)")
    assert "Void INV-0001 and send credit note CN-0001 to jane@globex.example?" in shown, shown
    chat.say("/approve 2")
    assert chat.runtime.store.billing.get("INV-0001").status == "void"
    assert smtp.messages[-1]["Subject"].startswith("Credit note CN-0001")


def test_the_model_reads_a_resend(model_chat, smtp):
    chat, parser = model_chat
    parser.script.extend([{"kind": "resend_invoice"}, {"invoice_number": "INV-0001", "to": "ap@globex.example"}])
    shown = chat.say("their AP team never got it — pls send the website invoice to ap@globex.example")
    assert "Send it again to ap@globex.example?" in shown, shown
    chat.say("/approve 2")
    assert smtp.messages[-1]["To"] == "ap@globex.example"


def test_the_model_reads_a_reminder_and_is_never_trusted_with_its_stage(model_chat, smtp):
    chat, parser = model_chat
    assert "stage" not in INTENT_CLASSES["payment_reminder"].model_json_schema()["properties"]
    parser.script.extend([{"kind": "payment_reminder"}, {"client_name": "Globex", "stage": 3}])
    shown = chat.say("globex still hasn't paid, can you give them a gentle poke")
    assert "Send the reminder to jane@globex.example?" in shown, shown
    assert "reminder 3" not in shown
    chat.say("/approve 2")
    body = text_body(smtp.messages[-1])
    assert "A quick, friendly reminder" in body and "final reminder" not in body


def test_a_void_without_an_invoice_number_asks_which(model_chat, smtp):
    chat, parser = model_chat
    parser.script.extend([{"kind": "void_invoice"}, {}])
    assert "Which invoice (e.g. INV-0007)?" in chat.say("void that invoice, it was wrong")
    shown = chat.say("INV-0001")
    assert "Void INV-0001 and send credit note CN-0001 to jane@globex.example?" in shown, shown
