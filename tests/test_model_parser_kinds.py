"""The model tier reads the same kinds as the offline tier (rules and semantic router): every
kind a parser may produce is offered to the model, and each comes back as its typed intent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import get_args

import pytest

from agents.llm import register_provider, unregister_provider
from graphs.intents import INTENT_KINDS, SCHEDULED_KINDS
from graphs.model_parser import IntentKindChoice, ModelParser
from graphs.offline_parsing.router import load_phrasings
from tests.fakes.scripted_model import ScriptedChatModel

TODAY = date(2026, 11, 25)
# One field the model states for each kind that has any (the rest are left out, as a model would).
STATED: dict[str, dict[str, object]] = {
    "retainer_signup": {"client_name": "Acme", "monthly_amount": 4000},
    "retainer_end": {"client_name": "Acme"},
    "retainer_pause": {"client_name": "Acme", "months": 2},
    "retainer_resume": {"client_name": "Acme"},
    "new_client": {"client_name": "Acme"},
    "draft_proposal": {"client_name": "Acme", "amount": 5000},
    "create_invoice": {"client_name": "Acme"},
    "record_payment": {"client_name": "Acme", "amount": 500},
    "add_deliverable": {"client_name": "Acme", "title": "logo"},
    "add_task": {"title": "call the accountant"},
    "status_query": {"topic": "overdue"},
    "remember_fact": {"client_name": "Acme", "fact": "pays net 45"},
    "send_email": {"client_name": "Acme", "body": "files are up"},
    "recall": {"query": "the logo brief"},
    "client_profile": {"client_name": "Acme"},
    "update_terms": {"client_name": "Acme", "billing_day": 15},
    "revision_request": {"client_name": "Acme", "deliverable": "logo"},
    "deliverable_done": {"client_name": "Acme", "title": "logo"},
    "earnings": {"by_client": True},
    "client_balance": {"client_name": "Acme"},
    "invoice_list": {"state": "overdue"},
    "invoice_lookup": {"number": "INV-0007"},
    "void_invoice": {"invoice_number": "INV-0007"},
    "resend_invoice": {"invoice_number": "INV-0007", "to": "ap@acme.example"},
    "payment_reminder": {"client_name": "Acme"},
    "rename_client": {"client_name": "Acme", "new_name": "Acme Studio Ltd"},
    "change_contact": {"client_name": "Acme", "contact_email": "ap@acme.example"},
    "change_currency": {"client_name": "Acme", "currency": "EUR"},
    "move_due": {"title": "logo", "item_id": 3},
    "task_done": {"title": "call the accountant"},
    "delete_record": {"record": "task", "title": "call the accountant"},
}
# Kinds the model names without a second call: no fields, or only the message itself.
NO_FIELDS = ("help", "unknown", "small_talk", "undo")


@pytest.fixture
def scripted(make_runtime, sqlite_url) -> Iterator[tuple[ModelParser, ScriptedChatModel]]:
    model = ScriptedChatModel(script=[], calls=[])
    register_provider("scripted", lambda name: model)
    runtime = make_runtime(database_url=sqlite_url, model_small="scripted:parser")
    assert isinstance(runtime.parser, ModelParser)
    yield runtime.parser, model
    unregister_provider("scripted")


def test_the_model_is_offered_every_kind_the_router_knows() -> None:
    offered = set(get_args(IntentKindChoice.model_fields["kind"].annotation))
    assert offered == set(INTENT_KINDS)
    assert {kind for kind, _ in load_phrasings()} == offered - SCHEDULED_KINDS


@pytest.mark.parametrize("kind", [k for k in INTENT_KINDS if k not in NO_FIELDS])
def test_each_kind_the_model_chooses_becomes_its_intent(scripted, kind: str) -> None:
    parser, model = scripted
    model.script.extend([{"kind": kind}, STATED[kind]])
    intent = parser.parse("whatever the operator typed", TODAY).intent
    assert intent.kind == kind
    for field, value in STATED[kind].items():
        assert getattr(intent, field) == value


@pytest.mark.parametrize("kind", NO_FIELDS)
def test_kinds_without_fields_take_one_call(scripted, kind: str) -> None:
    parser, model = scripted
    model.script.append({"kind": kind})
    assert parser.parse("book me a table for two at eight", TODAY).intent.kind == kind
    assert len(model.calls) == 1
