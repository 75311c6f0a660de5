"""Model spend caps and the large tier (issue #16): a cap reached mid-day makes coo fall back to a
cheaper tier (the offline one last) with a message, or — when the policy allows no fallback —
pause the run and ask; raising the cap carries on. Prices can be overridden; the large tier
reviews high-risk cards, visibly."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import ChatDriver
from tests.fakes.scripted_model import ScriptedChatModel

CLIENT = "new client: Northwind, contact ops@northwind.example"


@pytest.fixture
def models() -> Iterator[dict[str, ScriptedChatModel]]:
    from agents.llm import register_provider, unregister_provider

    made: dict[str, ScriptedChatModel] = {}

    def factory(name: str) -> ScriptedChatModel:
        return made.setdefault(name, ScriptedChatModel(script=[], calls=[]))

    register_provider("scripted", factory)
    yield made
    unregister_provider("scripted")


def _driver(make_runtime, sqlite_url, smtp, **tiers: str) -> ChatDriver:
    runtime = make_runtime(
        database_url=sqlite_url, smtp_url=smtp.url, from_email="Ana Ruiz <ana@studio.example>", **tiers
    )
    return ChatDriver(runtime)


def _spent(chat: ChatDriver) -> float:
    return chat.runtime.store.ledger.model_usage()["cost_usd"]


def _cap_just_above_spending(chat: ChatDriver) -> None:
    said = chat.say(f"/policy cap daily {_spent(chat) + 0.01:.4f}")
    assert "OK: the daily model spend cap is $" in said


def test_a_cap_reached_mid_day_falls_back_to_the_offline_tier_with_a_message(make_runtime, sqlite_url, smtp, models):
    chat = _driver(make_runtime, sqlite_url, smtp, model_mid="scripted:gpt-4o")
    chat.say(CLIENT)
    assert "OK: gpt-4o costs $1000 per million prompt tokens" in chat.say("/policy price gpt-4o 1000/1000")
    models.setdefault("gpt-4o", ScriptedChatModel(script=[], calls=[])).script.append("Hi,\n\nBatch one is up.\n\nAna")
    first = chat.say("email Northwind that batch 1 is uploaded")
    assert "Batch one is up." in first and "💸" not in first
    assert _spent(chat) > 0.01  # priced by the operator's price, not the built-in one

    _cap_just_above_spending(chat)  # the cap is reached mid-day
    second = chat.say("email Northwind that batch 2 is uploaded")
    assert "💸 The daily model budget ($" in second and "this step used the offline tier (no model)" in second
    assert "/policy cap daily AMOUNT raises the cap" in second
    assert "[/approve 2]" in second and "Best regards" in second  # the offline draft, ready to approve
    assert len(models["gpt-4o"].calls) == 1  # no second paid call
    kinds = [
        r["kind"] for r in chat.runtime.store.db.fetchall("SELECT kind FROM ledger WHERE kind = 'budget_fallback'")
    ]
    assert kinds == ["budget_fallback"]
    assert "daily: $" in chat.say("/policy") and "spent $" in chat.say("/policy")


def test_over_the_cap_a_cheaper_tier_takes_the_large_tiers_review(make_runtime, sqlite_url, smtp, models):
    chat = _driver(make_runtime, sqlite_url, smtp, model_mid="scripted:gpt-4o-mini", model_large="scripted:gpt-4o")
    chat.say(CLIENT)
    chat.say("/policy price gpt-4o 1000/1000")
    large = models.setdefault("gpt-4o", ScriptedChatModel(script=[], calls=[]))
    mid = models.setdefault("gpt-4o-mini", ScriptedChatModel(script=[], calls=[]))
    large.script.extend(["1. Check the amount.\n2. Send it.", "The amount and the address match the client's file."])
    routine = chat.say("invoice Northwind $500 for hosting")
    assert "Large-tier" not in routine  # routine work never reaches the large tier
    big = chat.say("invoice Northwind $6,000 for the rebrand")
    assert (
        "🧭 Large-tier plan (scripted:gpt-4o), as this is an amount of at least 5,000 (COO_LARGE_REVIEW_OVER):" in big
    )
    assert "1. Check the amount." in big
    assert "🔍 Large-tier review (scripted:gpt-4o): The amount and the address match" in big
    store = chat.runtime.store
    calls = store.db.fetchall("SELECT actor FROM ledger WHERE kind = 'model_call'")
    assert [c["actor"] for c in calls] == ["model:large", "model:large"]
    used = store.db.fetchall("SELECT actor, payload FROM ledger WHERE kind = 'large_tier_used' ORDER BY id")
    assert [c["actor"] for c in used] == ["model:large", "model:large"]
    assert '"use": "plan"' in str(used[0]["payload"]) and '"tier": "large"' in str(used[0]["payload"])

    _cap_just_above_spending(chat)
    mid.script.extend(["1. Look twice.", "Nothing looks wrong."])
    bigger = chat.say("invoice Northwind $7,000 for the brand book")
    assert "I used the mid tier (scripted:gpt-4o-mini) instead of large" in bigger
    assert "🧭 Large-tier plan (scripted:gpt-4o-mini)" in bigger  # the model that really wrote it
    assert "Nothing looks wrong." in bigger and len(large.calls) == 2
    last = store.db.fetchall("SELECT payload FROM ledger WHERE kind = 'large_tier_used' ORDER BY id")[-1]
    assert '"tier": "mid"' in str(last["payload"]) and '"fallback_from": "large"' in str(last["payload"])


def test_with_the_large_tier_offline_high_risk_work_is_not_planned_or_reviewed(make_runtime, sqlite_url, smtp):
    offline = _driver(make_runtime, sqlite_url, smtp)
    offline.say(CLIENT)
    shown = offline.say("invoice Northwind $6,000 for the rebrand")
    assert "Large-tier" not in shown and "[/approve" in shown
    assert offline.runtime.store.db.fetchall("SELECT id FROM ledger WHERE kind = 'large_tier_used'") == []


def test_with_fallback_off_the_run_pauses_and_asks_then_carries_on_when_the_cap_is_raised(
    make_runtime, sqlite_url, smtp, models
):
    chat = _driver(make_runtime, sqlite_url, smtp, model_mid="scripted:gpt-4o")
    chat.say(CLIENT)
    chat.say("/policy price gpt-4o 1000/1000")
    writer = models.setdefault("gpt-4o", ScriptedChatModel(script=[], calls=[]))
    writer.script.append("Hi,\n\nBatch one is up.\n\nAna")
    chat.say("email Northwind that batch 1 is uploaded")
    assert "pauses the run and asks you" in chat.say("/policy cap fallback off")
    _cap_just_above_spending(chat)

    paused = chat.say("email Northwind that batch 2 is uploaded")
    assert "⏸ Paused before compose email: the daily model budget ($" in paused
    assert "Raise the cap (/policy cap daily AMOUNT)" in paused and "Nothing was sent." in paused
    store = chat.runtime.store
    [run] = store.runs.paused()
    assert f"/cancel {run.id} drops it" in paused
    assert store.runs.pending_approvals()[-1].id == 1  # no card for the paused run

    writer.script.append("Hi,\n\nBatch two is up.\n\nAna")
    raised = chat.say("/policy cap daily 50")
    assert "Carrying on with 1 paused run(s)." in raised
    chat.runtime.queue.wait_idle()
    thread = raised + chat.say("/help")  # the card may arrive with either line
    assert "Batch two is up." in thread and re.search(r"\[/approve 2\]", thread)
    assert store.runs.get(run.id).status == "waiting_approval"


def test_bad_caps_and_prices_are_explained(make_runtime, sqlite_url, smtp):
    chat = _driver(make_runtime, sqlite_url, smtp)
    assert "is not an amount in USD" in chat.say("/policy cap daily lots")
    assert "A cap is more than $0" in chat.say("/policy cap daily -1")
    assert "not a price pair" in chat.say("/policy price gpt-4o cheap")
    assert "The caps are daily and monthly" in chat.say("/policy cap weekly 5")
    assert chat.runtime.store.autonomy_rules.settings() == {}


def test_a_paused_run_can_be_cancelled_and_is_not_carried_on(make_runtime, sqlite_url, smtp, models):
    chat = _driver(make_runtime, sqlite_url, smtp, model_mid="scripted:gpt-4o")
    chat.say(CLIENT)
    chat.say("/policy price gpt-4o 1000/1000")
    models.setdefault("gpt-4o", ScriptedChatModel(script=[], calls=[])).script.append("Hi,\n\nBatch one.\n\nAna")
    chat.say("email Northwind that batch 1 is uploaded")
    chat.say("/policy cap fallback off")
    _cap_just_above_spending(chat)
    assert "⏸ Paused" in chat.say("email Northwind that batch 2 is uploaded")
    store = chat.runtime.store
    [run] = store.runs.paused()
    assert f"OK: run {run.id} is cancelled; nothing was sent for it." in chat.say(f"/cancel {run.id}")
    assert store.runs.get(run.id).status == "cancelled"
    assert "only a paused run can be cancelled" in chat.say(f"/cancel {run.id}")
    assert "Carrying on" not in chat.say("/policy cap daily 50")
    assert store.runs.get(run.id).status == "cancelled"


def test_an_edit_of_a_waiting_card_is_planned_and_reviewed_again(make_runtime, sqlite_url, smtp, models):
    chat = _driver(make_runtime, sqlite_url, smtp, model_mid="scripted:gpt-4o-mini", model_large="scripted:gpt-4o")
    chat.say(CLIENT)
    large = models.setdefault("gpt-4o", ScriptedChatModel(script=[], calls=[]))
    routine = chat.say("invoice Northwind $500 for hosting")
    assert "Large-tier" not in routine and "[/approve 1]" in routine and not large.calls
    # A new address makes the waiting card high-risk: the edit is planned and reviewed before the card.
    large.script.extend(["1. Confirm the new address with the client.", "The address is new for Northwind."])
    edited = chat.say("/edit 1 to=billing@elsewhere.example")
    assert "Edited #1 (to → billing@elsewhere.example)." in edited
    plan_at = edited.index("🧭 Large-tier plan (scripted:gpt-4o), as this is a new address (billing@elsewhere.example)")
    assert plan_at < edited.index("[/approve 1]")
    assert "1. Confirm the new address with the client." in edited
    assert "🔍 Large-tier review (scripted:gpt-4o): The address is new for Northwind." in edited
    assert "billing@elsewhere.example" in str(large.calls[-1][-1].content)  # it reviewed the edited card
    store = chat.runtime.store
    used = store.db.fetchall("SELECT payload FROM ledger WHERE kind = 'large_tier_used' ORDER BY id")
    assert len(used) == 2 and all('"after_edit": true' in str(u["payload"]).lower() for u in used)
    # A second edit of a high-risk card is reviewed again (its own events); an edit that stays routine is not.
    large.script.extend(["1. Check the subject.", "Fine."])
    again = chat.say("/edit 1 subject=Hosting, November")
    assert "🔍 Large-tier review (scripted:gpt-4o): Fine." in again
    assert len(store.db.fetchall("SELECT id FROM ledger WHERE kind = 'large_tier_used'")) == 4
    back = chat.say("/edit 1 to=ops@northwind.example")
    assert "Large-tier" not in back and len(large.calls) == 4
