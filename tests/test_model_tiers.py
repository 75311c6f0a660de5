"""Model tiers behind langchain-core's interface, tested with a scripted chat model:
structured intents from the small tier, drafts from the mid tier, tokens in the ledger,
identical prompts served from the cache, and a failing model falling back to offline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agents.llm import register_provider, unregister_provider
from tests.conftest import ChatDriver
from tests.fakes.scripted_model import ScriptedChatModel
from tests.fakes.smtp import text_body

RETAINER_INTENT = [
    {"kind": "retainer_signup"},
    {
        "client_name": "Acme Studio",
        "contact_email": "jane@acme.example",
        "monthly_amount": 4000,
        "revision_rounds": 3,
        "billing_day": 1,
    },
]
DRAFT = "Hi Jane,\n\nThanks for signing on: $4,000.00 a month, up to 3 revision rounds, billed on the 1st.\n\nAna"


@pytest.fixture
def scripted() -> Iterator[dict[str, ScriptedChatModel]]:
    models: dict[str, ScriptedChatModel] = {}

    def factory(name: str) -> ScriptedChatModel:
        models.setdefault(name, ScriptedChatModel(script=[], calls=[]))
        return models[name]

    register_provider("scripted", factory)
    models["parser"] = ScriptedChatModel(script=[], calls=[])
    models["writer"] = ScriptedChatModel(script=[], calls=[])
    yield models
    unregister_provider("scripted")


@pytest.fixture
def model_chat(make_runtime, sqlite_url, smtp, scripted) -> ChatDriver:
    runtime = make_runtime(
        database_url=sqlite_url,
        smtp_url=smtp.url,
        from_email="Ana <ana@studio.example>",
        model_small="scripted:parser",
        model_mid="scripted:writer",
    )
    return ChatDriver(runtime)


def test_small_tier_parses_and_mid_tier_drafts_with_tokens_in_the_ledger(model_chat, scripted, smtp):
    scripted["parser"].script.extend(RETAINER_INTENT)
    scripted["writer"].script.append(DRAFT)
    shown = model_chat.say("Acme Studio is in! 4k monthly, three rounds, invoice on the first. jane@acme.example")
    assert "New retainer for Acme Studio (jane@acme.example): $4,000.00/month, 3 revision rounds" in shown
    assert "│ Thanks for signing on: $4,000.00 a month" in shown

    # Frugal prompts: the parser sees the rules and this message only (kind first, then only that
    # kind's fields); the drafter sees the facts only.
    classify, extract = scripted["parser"].calls
    for call in (classify, extract):
        assert len(call) == 2 and call[1].content.startswith("Acme Studio is in!")
        assert len(str(call[0].content).split()) < 80
    [draft_call] = scripted["writer"].calls
    assert "Acme Studio is in!" not in draft_call[1].content  # facts, not the chat history
    assert "Client: Acme Studio" in draft_call[1].content

    run = model_chat.runtime.store.runs.recent(1)[0]
    calls = [e for e in model_chat.runtime.store.ledger.events(run.id) if e.kind == "model_call"]
    assert [(c.payload["tier"], c.payload["purpose"]) for c in calls] == [
        ("small", "classify_intent"),
        ("small", "extract_intent"),
        ("mid", "draft_proposal"),
    ]
    assert all(c.payload["prompt_tokens"] > 0 and c.payload["completion_tokens"] > 0 for c in calls)
    model_chat.say("/approve 1")
    assert "Thanks for signing on" in text_body(smtp.wait_for(1)[0])


def test_identical_prompts_hit_the_output_cache(model_chat, scripted):
    scripted["parser"].script.extend([{"kind": "status_query"}, {"topic": "overdue"}])
    model_chat.say("what's overdue?")
    model_chat.say("what's overdue?")  # no more scripted replies: both calls come from the cache
    assert len(scripted["parser"].calls) == 2
    usage = model_chat.runtime.store.ledger.model_usage()
    assert usage["calls"] == 4 and usage["cached"] == 2


def test_a_failing_model_falls_back_to_the_offline_parser(model_chat, scripted):
    # an empty script makes the scripted model raise, like a provider outage would
    shown = model_chat.say("invoice Bob Lee for 3 hours of consulting at $120/h")
    assert "Invoice #INV-0001 for Bob Lee: $360.00" in shown


def test_untrusted_model_output_is_validated(model_chat, scripted):
    scripted["parser"].script.extend([{"kind": "create_invoice"}, {"client_name": "Bob", "due_in_days": -5}])
    shown = model_chat.say("bill bob")
    # an invalid intent from the model is not acted on: the offline parser answers instead
    assert "Invoice #" not in shown
