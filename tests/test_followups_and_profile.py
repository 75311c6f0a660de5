"""Working memory of a thread ("bill them on the 15th instead") and the client profile
("what do we know about Acme?"), as the operator uses them."""

from __future__ import annotations

RETAINER = (
    "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example"
)


def test_follow_up_in_the_thread_changes_that_retainer(chat, smtp):
    chat.say(RETAINER)
    shown = chat.say("bill them on the 15th instead")
    # the billing day is money: shown old → new and asked first
    assert "Change Acme Studio's retainer ($4,000.00/month, 3 revision rounds, billed on day 1)?" in shown
    assert "billed on day 15 (was day 1)" in shown and "Reply yes" in shown
    assert "Updated Acme Studio's retainer: billed on day 15 (was day 1)." in chat.say("yes")
    shown = chat.say("make it $4,500 a month instead")
    assert "$4,500.00/month (was $4,000.00)" in shown
    chat.say("yes")
    store = chat.runtime.store
    client = store.clients.find("Acme Studio")[0]
    retainer = store.work.active_retainer(client.id)
    assert retainer.billing_day == 15 and str(retainer.monthly_amount) == "4500.00"
    assert client.billing_day == 15
    assert [f.fact for f in store.clients.facts(client.id) if f.field == "billing_day"] == ["billing_day = 15"]


def test_them_without_a_thread_context_is_asked_about(chat):
    shown = chat.say("bill them on the 15th instead")
    assert "Which client is this for?" in shown
    chat.say("new client: Northwind, contact ops@northwind.example")
    shown = chat.say("/cancel")
    assert "nothing to cancel" in shown or "dropped" in shown


def test_follow_up_for_a_client_without_retainer_is_explained(chat):
    chat.say("new client: Northwind, contact ops@northwind.example")
    shown = chat.say("bill them on the 20th from now on")
    assert "Northwind has no active retainer to change." in shown


def test_thread_memory_lives_in_redis_with_a_ttl(make_runtime, pg_url, redis_url, smtp):
    from redis import Redis

    from store.working_memory import RedisWorkingMemory, ThreadContext

    runtime = make_runtime(database_url=pg_url, redis_url=redis_url)
    assert isinstance(runtime.deps.working_memory, RedisWorkingMemory)
    runtime.deps.working_memory.remember("slack:T1", ThreadContext(client_id=3, client_name="Acme"))
    redis = Redis.from_url(redis_url)
    assert 0 < redis.ttl("coo:thread:slack:T1") <= 6 * 3600
    assert runtime.deps.working_memory.recall("slack:T1").client_name == "Acme"
    assert runtime.deps.working_memory.recall("slack:T2") is None


def test_profile_answers_with_sources(chat, smtp):
    chat.say(RETAINER)
    chat.say("/approve 1")
    chat.say("remember that Acme Studio allows only 2 revision rounds and prefers Slack")
    chat.say("invoice Acme Studio $4,000 for the december retainer")
    chat.say("/approve 2")
    chat.say("Acme Studio needs the homepage mockups by 2026-12-03")
    shown = chat.say("What do we know about Acme Studio?")
    assert "Acme Studio — jane@acme.example (client since 2026-11-25)" in shown
    assert "Retainer: $4,000.00/month, 3 revision rounds, billed on day 1 (since 2026-11-25, run r-" in shown
    assert "Constraints: 2 revision rounds included; prefers slack; billed on day 1" in shown
    assert "revision rounds: 2 — run r-" in shown  # the canonical fact, and where it came from
    assert "Open invoices ($4,000.00 outstanding):" in shown and "INV-0001 $4,000.00 due 2026-12-09" in shown
    assert "homepage mockups due 2026-12-03" in shown
    assert "Last e-mails:" in shown and "to jane@acme.example: “Invoice INV-0001" in shown
    assert "Decisions:" in shown and "#2 Send invoice #INV-0001 to jane@acme.example — approved by" in shown
    # "them" works for the profile too, from the thread
    assert "Acme Studio — jane@acme.example" in chat.say("what do we know about them?")


def test_profile_of_an_unknown_client(chat):
    assert "I don't know a client called 'Globex' yet." in chat.say("what do we know about Globex?")


def test_a_revision_beyond_the_limit_is_flagged_out_of_scope(chat, smtp):
    chat.say("new client: Acme, contact jane@acme.example")
    chat.say("remember that Acme allows only 2 revision rounds and prefers Slack")
    assert "Revision round 1 of 2 for the logo for Acme." in chat.say("Acme asked for another revision of the logo")
    assert "Revision round 2 of 2 for the logo for Acme (darker blue)." in chat.say(
        "Acme wants another round on the logo: darker blue"
    )
    assert "Revision round 1 of 2 for the homepage" in chat.say("Acme requested changes to the homepage")
    shown = chat.say("Acme asked for one more revision of the Logo")
    assert (
        "⚠ Out of scope: this is revision round 3 for the logo, but Acme's terms include 2 rounds. "
        "Quote the extra round or decline it before doing the work."
    ) in shown
    run = chat.runtime.store.runs.recent(1)[0]
    assert "revision_out_of_scope" in [e.kind for e in chat.runtime.store.ledger.events(run.id)]
    rounds = chat.runtime.store.revisions.for_client(chat.runtime.store.clients.find("Acme")[0].id)
    assert [(r.deliverable, r.round, r.out_of_scope) for r in rounds] == [
        ("logo", 1, False),
        ("logo", 2, False),
        ("homepage", 1, False),
        ("logo", 3, True),
    ]
