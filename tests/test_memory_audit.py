"""Recall audits: stale, contradicted, duplicate, orphaned and oversized memories are found,
pruned after confirmation with each removal in the ledger, and summarised in Monday's digest."""

from __future__ import annotations

from datetime import date

import pytest

from agents.digest_writer import write_digest
from graphs.steps_memory import memory_embedder
from store.memory_audit import audit, prune
from store.memory_sync import sync

pytestmark = pytest.mark.clock  # scripts/test runs these again with the process time shifted


def _messy_memory(chat) -> None:
    chat.say("new client: Acme, contact jane@acme.example")
    chat.say("remember that Acme allows 3 revision rounds")
    chat.say("remember that Acme allows only 2 revision rounds")  # supersedes the limit of 3
    chat.say("remember that Acme prefers Slack")
    chat.say("remember that Acme prefers email")  # contradicts the Slack preference
    store = chat.runtime.store
    client = store.clients.find("Acme")[0]
    body = "Hi Ana, could you move the launch to December 8? The extra round is fine. Jane"
    with store.db.transaction() as tx:
        for n in range(2):  # the same e-mail forwarded twice
            store.artifacts.create(tx, "email_in", "Launch date", body, f"r-fwd-{n}", client.id, {"from": "jane"})
        gone = store.artifacts.create(tx, "note", "Old note", "A note that will be deleted.", "r-note", client.id)
    sync(store, memory_embedder(chat.runtime.deps))
    with store.db.transaction() as tx:
        tx.execute("DELETE FROM artifacts WHERE id = ?", (gone.id,))  # its memory is now an orphan
        tx.execute(
            "UPDATE memory_items SET text = ? WHERE source_kind = 'fact' AND id = "
            "(SELECT MIN(id) FROM memory_items WHERE source_kind = 'fact')",
            ("long " * 400,),
        )


def test_audit_finds_each_kind_of_problem(chat, smtp):
    _messy_memory(chat)
    report = audit(chat.runtime.store)
    counts = report.counts()
    assert counts["stale"] >= 1 and counts["contradicted"] == 1 and counts["duplicate"] == 1
    assert counts["orphan"] == 1 and counts["oversized"] == 1
    text = report.render()
    assert "“Acme prefers Slack” contradicts the newer fact" in text
    assert "repeats artifact #" in text and "points at a deleted artifact (“Old note”)" in text
    assert "was superseded by a newer fact" in text


def test_prune_removes_findings_records_them_and_they_stay_gone(chat, smtp):
    _messy_memory(chat)
    store = chat.runtime.store
    report = audit(store)
    before = store.memory.count()
    run_id, removed = prune(store, report, actor="test")
    assert removed == len(report.findings)
    events = [e.kind for e in store.ledger.events(run_id)]
    assert events[0] == "memory_audit" and events.count("memory_pruned") == removed
    sync(store, memory_embedder(chat.runtime.deps))  # the sweep re-indexes compactly, but not the duplicate
    after = audit(store)
    assert after.findings == [], after.render()
    assert store.memory.count() < before
    facts = [f.fact for f in store.clients.facts(store.clients.find("Acme")[0].id)]
    assert "Acme prefers Slack" not in " ".join(facts) and any("prefers email" in f for f in facts)


@pytest.mark.slow  # starts `coo` as a process
def test_memory_commands_confirm_before_pruning(coo_env):
    from tests.test_cli import run

    run(
        ["chat"],
        coo_env,
        stdin="new client: Acme, contact jane@acme.example\n"
        "remember that Acme prefers Slack\nremember that Acme prefers email\n",
    )
    out = run(["memory", "audit"], coo_env)
    # the channel constraint was superseded (stale), and the free-text facts contradict each other
    assert out.returncode == 0 and "Memory audit: 1 stale, 1 contradicted" in out.stdout
    refused = run(["memory", "prune"], coo_env, stdin="")
    assert refused.returncode == 2 and "add --yes" in refused.stderr
    done = run(["memory", "prune", "--yes"], coo_env)
    assert "Removed 2 item(s); each removal is in the ledger: coo ledger audit-" in done.stdout
    ledger_id = done.stdout.rsplit("coo ledger ", 1)[1].strip()
    shown = run(["ledger", ledger_id], coo_env).stdout
    assert f"Ledger {ledger_id} (no chat run)" in shown and "memory_pruned" in shown
    assert "all" in run(["memory", "audit"], coo_env).stdout


def test_mondays_digest_carries_the_weekly_audit(chat, smtp):
    chat.say("new client: Acme, contact jane@acme.example")
    chat.say("remember that Acme prefers Slack")
    chat.say("remember that Acme prefers email")
    monday = write_digest(chat.runtime.store, date(2026, 11, 30))
    assert "Memory audit: 1 stale, 1 contradicted (of" in monday.text
    tuesday = write_digest(chat.runtime.store, date(2026, 12, 1))
    assert "Memory audit" not in tuesday.text
    weeks = chat.runtime.store.ledger.events("audit-week-2026-49")
    assert [e.kind for e in weeks] == ["memory_audit"]


def test_an_audit_after_a_small_change_sketches_only_what_changed(chat, smtp):
    _messy_memory(chat)
    store = chat.runtime.store
    first = audit(store)
    assert first.sketched == first.memories == store.memory.count()
    again = audit(store)  # nothing changed: nothing is shingled again, the same findings
    assert again.sketched == 0 and again.findings == first.findings
    client = store.clients.find("Acme")[0]
    body = "Hi Ana, could you move the launch to December 8? The extra round is fine. Jane"
    with store.db.transaction() as tx:  # the same e-mail forwarded a third time
        store.artifacts.create(tx, "email_in", "Launch date", body, "r-fwd-2", client.id, {"from": "jane"})
    sync(store, memory_embedder(chat.runtime.deps))
    after = audit(store)
    assert after.sketched == 1 and after.memories == first.memories + 1
    newest = max(
        int(r["source_id"]) for r in store.db.fetchall("SELECT source_id FROM memory_items WHERE kind = 'email_in'")
    )
    duplicates = [f for f in after.findings if f.kind == "duplicate"]
    assert len(duplicates) == 2 and all(f.detail.endswith(f"repeats artifact #{newest}") for f in duplicates)
    with store.db.transaction() as tx:  # an edited memory is sketched again, and is no longer a duplicate
        tx.execute(
            "UPDATE memory_items SET text = ? WHERE id = ?",
            ("Jane asked for a different launch date entirely, in January", duplicates[0].item_id),
        )
    edited = audit(store)
    assert edited.sketched == 1 and edited.counts()["duplicate"] == 1
    monday = write_digest(store, date(2026, 11, 30))
    assert "Memory audit: " in monday.text and "1 duplicate" in monday.text
    record = store.ledger.events("audit-week-2026-49")[0]
    assert record.payload["duplicate"] == 1 and record.payload["sketched"] == 0
