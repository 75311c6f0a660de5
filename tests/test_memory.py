"""Semantic memory: one store interface on SQLite (sqlite-vec, FTS5) and PostgreSQL (pgvector,
full text), hybrid retrieval, the client filter, re-embedding, the recall intent as the operator
sees it, and a smoke run of the recall benchmark."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agents.embedders import HashingEmbedder
from store.facade import Store
from store.memory import EmbedderMismatch, NewMemory, exact_tokens, rrf
from store.memory_sync import stale_ids, sync
from tests.test_email_intake import ACME, client_mail, forward_as_attachment, ingest

WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
EMB = HashingEmbedder()


def _item(source_id: int, title: str, text: str, client_id: int | None = None, kind: str = "email_in") -> NewMemory:
    return NewMemory(
        source_kind="artifact",
        source_id=source_id,
        kind=kind,
        client_id=client_id,
        title=title,
        text=text,
        created_at=WHEN,
    )


class BlindEmbedder:
    """An embedder that understands nothing (a random direction per text): only keywords can help."""

    name = "blind"
    dim = 16

    def embed(self, texts):
        import hashlib
        import random

        out = []
        for text in texts:
            rng = random.Random(hashlib.sha256(text.encode()).digest())
            out.append([rng.gauss(0, 1) for _ in range(self.dim)])
        return out


def _put(store: Store, embedder, items: list[NewMemory]) -> list[int]:
    return store.memory.upsert_many(items, embedder.embed([f"{i.title}\n{i.text}" for i in items]))


@pytest.fixture
def store(db_url: str, clock):
    s = Store.open(db_url, clock)
    yield s
    s.close()


def test_add_upsert_search_and_delete_by_source_pointer(store: Store) -> None:
    store.memory.ensure(EMB)
    _put(
        store,
        EMB,
        [
            _item(1, "Homepage feedback", "Jane: the logo colours feel cold, could we try warmer tones?", 1),
            _item(2, "Invoice question", "Bob asked whether INV-0007 includes the photo shoot.", 2),
            _item(3, "Launch date", "Jane confirmed the launch moves to March 3rd.", 1),
        ],
    )
    hits = store.memory.search(EMB.embed(["logo colour"])[0], k=2)
    assert hits[0].item.source_id == 1 and hits[0].score > hits[1].score
    # Upsert by source pointer replaces, never duplicates.
    _put(store, EMB, [_item(1, "Homepage feedback", "Jane wants the palette changed to terracotta.", 1)])
    assert store.memory.count() == 3
    assert "terracotta" in store.memory.get("artifact", 1).text  # type: ignore[union-attr]  # a None here fails the test anyway
    assert store.memory.search(EMB.embed(["terracotta palette"])[0], k=1)[0].item.source_id == 1
    assert store.memory.delete("artifact", 1) and not store.memory.delete("artifact", 1)
    assert store.memory.count() == 2
    assert all(h.item.source_id != 1 for h in store.memory.hybrid("terracotta", EMB.embed(["terracotta"])[0], k=5))


def test_hybrid_finds_exact_names_invoice_numbers_and_emails_the_vector_misses(store: Store) -> None:
    blind = BlindEmbedder()
    store.memory.ensure(blind)
    _put(
        store,
        blind,
        [_item(i, f"Note {i}", f"Weekly status update number {i} about the website build.", 1) for i in range(1, 40)],
    )
    _put(
        store,
        blind,
        [
            _item(100, "Invoice INV-0042", "Invoice INV-0042 to Acme Studio, total $4,000.", 1, "invoice"),
            _item(101, "Contract", "Contract renewal question from priya@kestrel.example about the retainer.", 2),
            _item(102, "Feedback", "Okonkwo said the typography looks dated.", 3),
        ],
    )
    for query, expected in (
        ("find INV-0042", 100),
        ("anything from priya@kestrel.example?", 101),
        ("what did Okonkwo say?", 102),
        ("inv0042", 100),
    ):
        vector_only = [h.item.source_id for h in store.memory.search(blind.embed([query])[0], k=3)]
        assert expected not in vector_only, query  # the embedding is no help here …
        combined = [h.item.source_id for h in store.memory.hybrid(query, blind.embed([query])[0], k=5)]
        assert combined[0] == expected, (query, combined)  # … the keyword side finds it first
        assert store.memory.keyword(query, k=5)[0].item.source_id == expected


def test_client_filter_applies_to_every_method(store: Store) -> None:
    store.memory.ensure(EMB)
    _put(
        store,
        EMB,
        [
            _item(1, "Logo feedback", "The logo colours should be warmer.", 1),
            _item(2, "Logo feedback", "The logo colours should be cooler.", 2),
            _item(3, "Logo notes", "Logo colours: teal and sand.", None),
        ],
    )
    vec = EMB.embed(["logo colours"])[0]
    for hits in (
        store.memory.search(vec, 5, client_id=2),
        store.memory.keyword("logo colours", 5, client_id=2),
        store.memory.hybrid("logo colours", vec, 5, client_id=2),
    ):
        assert [h.item.source_id for h in hits] == [2]
    assert {h.item.source_id for h in store.memory.hybrid("logo colours", vec, 5)} == {1, 2, 3}


def test_sync_indexes_artifacts_facts_and_invoices_once_and_reembed_switches_models(store: Store) -> None:
    from decimal import Decimal

    from store.billing import NewLine

    with store.db.transaction() as tx:
        client, _ = store.clients.upsert(tx, "Acme Studio", "Jane Doe", "jane@acme.example")
        store.artifacts.create(
            tx,
            "email_in",
            "Homepage feedback",
            "Hi, the logo colours feel cold.\n\n> old quote",
            "mail-1",
            client.id,
            {"from": {"name": "Jane Doe", "address": "jane@acme.example"}},
        )
        store.clients.add_fact(tx, client.id, "prefers Slack over e-mail", "run r1")
        store.billing.create_invoice(
            tx,
            client.id,
            [NewLine(description="Brand audit", quantity=Decimal(1), unit_price=Decimal(1200))],
            "USD",
            WHEN.date(),
            WHEN.date(),
            "run-i",
        )
    assert sync(store, EMB) == 3
    assert sync(store, EMB) == 0  # idempotent
    item = store.memory.get("artifact", 1)
    assert item is not None and "old quote" not in item.text and "Jane Doe" in item.text
    assert store.memory.keyword("INV-0001", 1)[0].item.source_kind == "invoice"
    # A superseded fact is not re-indexed; its item is stale (the audit's to prune), not deleted by sync.
    with store.db.transaction() as tx:
        tx.execute("UPDATE client_facts SET superseded_at = ? WHERE fact = ?", (WHEN, "prefers Slack over e-mail"))
    assert sync(store, EMB) == 0
    fact_item = store.memory.get("fact", 1)
    assert fact_item is not None and stale_ids(store) == [fact_item.id]
    # Another embedder: refused until re-embedded, then searchable with the new dimension.
    small = HashingEmbedder(dim=64)
    with pytest.raises(EmbedderMismatch, match="coo memory reembed"):
        sync(store, small)
    assert store.memory.reembed(small) == store.memory.count()
    assert store.memory.config() == {"embedder": small.name, "dim": "64"}
    hits = store.memory.hybrid("logo colours", small.embed(["logo colours"])[0], 1)
    assert hits[0].item.title == "Homepage feedback"


def test_recall_skips_stale_candidates_by_reading_only_them(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deleted artifact or invoice and a superseded fact are stale (recall skips them), a live
    one is not; the check probes each candidate by key, never every item of a kind."""
    from decimal import Decimal

    from store.billing import NewLine
    from store.memory_sync import stale_among

    with store.db.transaction() as tx:
        client, _ = store.clients.upsert(tx, "Acme Studio", "Jane Doe", "jane@acme.example")
        for n in (1, 2):
            store.artifacts.create(tx, "email_in", f"Note {n}", f"Body {n} about the logo.", f"mail-{n}", client.id, {})
        store.clients.add_fact(tx, client.id, "prefers Slack over e-mail", "run r1")
        store.clients.add_fact(tx, client.id, "pays on the 1st", "run r1")
        for n in (1, 2):
            line = NewLine(description=f"Audit {n}", quantity=Decimal(1), unit_price=Decimal(100))
            store.billing.create_invoice(tx, client.id, [line], "USD", WHEN.date(), WHEN.date(), f"run-{n}")
    assert sync(store, EMB) == 6
    items = {(kind, n): store.memory.get(kind, n) for kind in ("artifact", "fact", "invoice") for n in (1, 2)}
    ids = {key: item.id for key, item in items.items() if item is not None}
    with store.db.transaction() as tx:
        tx.execute("UPDATE client_facts SET superseded_at = ? WHERE id = 1", (WHEN,))
        tx.execute("DELETE FROM artifacts WHERE id = 1")
        tx.execute("DELETE FROM invoice_lines WHERE invoice_id = 1")
        tx.execute("DELETE FROM invoices WHERE id = 1")
    stale = {ids[("fact", 1)], ids[("artifact", 1)], ids[("invoice", 1)]}
    assert set(stale_ids(store)) == stale
    assert stale_among(store, list(ids.values())) == stale
    assert stale_among(store, [ids[("artifact", 2)], ids[("invoice", 1)]]) == {ids[("invoice", 1)]}
    assert stale_among(store, []) == set()
    if store.db.dialect == "sqlite":
        seen: list[str] = []
        fetchall = store.db.fetchall
        monkeypatch.setattr(store.db, "fetchall", lambda sql, params=(): seen.append(sql) or fetchall(sql, params))
        stale_among(store, list(ids.values()))
        monkeypatch.undo()
        plan = " ".join(str(r["detail"]) for r in fetchall("EXPLAIN QUERY PLAN " + seen[0], sorted(ids.values())))
        assert "SCAN" not in plan and "sqlite_autoindex" not in plan, plan


def test_memory_reembed_command(coo_env, tmp_path, monkeypatch, capsys) -> None:
    from bot.cli import main

    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    monkeypatch.setenv("COO_DATABASE_URL", url)
    s = Store.open(url)
    s.memory.ensure(BlindEmbedder())
    with s.db.transaction() as tx:
        client, _ = s.clients.upsert(tx, "Acme Studio")
        s.artifacts.create(tx, "email_in", "Homepage feedback", "the logo colours feel cold", "mail-1", client.id)
    sync(s, BlindEmbedder())
    s.close()
    assert main(["memory", "sync"]) == 1
    assert "coo memory reembed" in capsys.readouterr().err
    monkeypatch.setenv("COO_EMBEDDER", "hashing")
    assert main(["memory", "reembed"]) == 0
    assert "Re-embedded 1 memories with hashing-v1-512" in capsys.readouterr().out
    # COO_EMBEDDER unset again (as after an upgrade that changed the default): the memory keeps
    # the embedder it was built with until the operator moves it.
    monkeypatch.delenv("COO_EMBEDDER")
    assert main(["memory"]) == 0
    assert (
        "1 memories · embedder hashing-v1-512 (512 dimensions) · in use: hashing = hashing-v1-512 "
        "(kept from the memory; `coo memory reembed` moves it to the default, minilm-onnx)"
    ) in capsys.readouterr().out
    assert main(["memory", "sync"]) == 0
    assert main(["memory", "reembed"]) == 0
    assert (
        "Re-embedded 1 memories with all-MiniLM-L6-v2-onnx-int8 (384 dimensions; was hashing-v1-512)"
        in capsys.readouterr().out
    )
    assert main(["memory"]) == 0
    assert "in use: minilm-onnx = all-MiniLM-L6-v2-onnx-int8 (the default)" in capsys.readouterr().out


def test_exact_tokens_and_rrf() -> None:
    assert exact_tokens("see INV-0042, inv0043 and Jane <jane@acme.example>.") >= {
        "inv-0042",
        "inv0043",
        "inv-0043",
        "jane@acme.example",
    }
    assert [i for i, _, _ in rrf({"a": [1, 2, 3], "b": [3, 1]})] == [1, 3, 2]


def test_recall_in_chat_points_at_the_artifacts(chat) -> None:
    chat.say(ACME)
    ingest(
        chat,
        forward_as_attachment(
            client_mail(
                "Hi Ana,\n\nThanks for the homepage draft. The layout works for us. On the logo colours: the teal "
                "feels too cold next to the photos, could we try the warmer terracotta we discussed?\n\nBest,\nJane"
            )
        ),
    )
    ingest(
        chat,
        forward_as_attachment(
            client_mail(
                "Hi Ana,\n\nQuick one: can we move the launch call to Thursday?\n\nJane",
                subject="Launch call",
                msgid="<m2@acme.example>",
            )
        ),
        event_id="mail-2",
    )
    chat.say("draft a proposal for Acme Studio for a brand refresh, $6k")
    shown = chat.say("what did Jane say about the logo colours?")
    lines = [line.strip() for line in shown.splitlines() if line.strip().startswith("•")]
    assert lines, shown
    assert lines[0].startswith("• e-mail from Jane Doe, 2026-11-24 “Homepage feedback” (artifact #")
    assert "terracotta" in lines[0] and "Thanks for the homepage draft" not in shown  # a pointer + snippet
    shown = chat.say("find the proposal for Acme Studio")
    assert "Here's what I found for Acme Studio" in shown
    first = [line.strip() for line in shown.splitlines() if line.strip().startswith("•")][0]
    assert first.startswith("• proposal P-0001 for Acme Studio") and "(artifact #" in first
    shown = chat.say("find jane@acme.example")
    assert "e-mail from Jane Doe" in shown
    # Read-only: nothing waits for approval, nothing was sent by recall.
    assert "/approve" not in shown


@pytest.mark.parametrize("embedder, found", [("", True), ("hashing", False)])
def test_recall_finds_what_was_said_in_other_words(make_runtime, db_url, smtp, embedder, found) -> None:
    """The default embedder (a transformer) finds an e-mail that shares no word with the question;
    the lexical hashing embedder, kept as the control, cannot — and says it has nothing, rather
    than listing the least distant e-mails."""
    from tests.conftest import ChatDriver

    chat = ChatDriver(
        make_runtime(
            database_url=db_url, smtp_url=smtp.url, embedder=embedder, from_email="Ana Ruiz <ana@studio.example>"
        )
    )
    chat.say(ACME)
    mails = [
        (
            "Homepage feedback",
            "On the logo: the teal feels too cold next to the photos, could we try the warmer terracotta we discussed?",
        ),
        ("Launch call", "Can we move the launch call to Thursday? Our CEO is travelling."),
        ("Invoice details", "Our finance team needs our VAT number on the next invoice."),
        ("Workshop", "The team enjoyed Tuesday's workshop; the sticky-note exercise was a hit."),
    ]
    for n, (subject, body) in enumerate(mails):
        ingest(
            chat,
            forward_as_attachment(
                client_mail(f"Hi Ana,\n\n{body}\n\nJane", subject=subject, msgid=f"<m{n}@acme.example>")
            ),
            event_id=f"mail-{n}",
        )
    shown = chat.say("what did Jane say about the brand palette?")
    lines = [line.strip() for line in shown.splitlines() if line.strip().startswith("•")]
    if not found:
        assert not lines and "I don't have anything about “what did Jane say about the brand palette”" in shown, shown
        return
    assert lines, shown
    assert "terracotta" in lines[0], shown


def test_upgraded_memory_keeps_its_embedder_until_moved_and_running_coo_follows(
    make_runtime, db_url, smtp, caplog
) -> None:
    """A memory built with hashing (the old default) keeps working after the upgrade; `coo memory
    reembed` moves it to the default and a running coo follows at its next recall."""
    from agents.embedders import get_embedder
    from tests.conftest import ChatDriver

    old = ChatDriver(make_runtime(database_url=db_url, smtp_url=smtp.url, embedder="hashing"))
    old.say(ACME)
    ingest(
        old,
        forward_as_attachment(
            client_mail(
                "Hi Ana,\n\nOn the logo: the teal feels too cold next to the photos, could we try the warmer "
                "terracotta we discussed?\n\nJane"
            )
        ),
    )
    ingest(
        old,
        forward_as_attachment(
            client_mail(
                "Hi Ana,\n\nCan we move the launch call to Thursday?\n\nJane",
                subject="Launch call",
                msgid="<m2@acme.example>",
            )
        ),
        event_id="mail-2",
    )
    assert "terracotta" in old.say("what did Jane say about the logo colours?")
    old.runtime.close()

    with caplog.at_level("WARNING", logger="bot.runtime"):
        chat = ChatDriver(make_runtime(database_url=db_url, smtp_url=smtp.url))  # COO_EMBEDDER unset
    assert (
        "the memory was embedded with hashing: keeping it; `coo memory reembed` moves it to minilm-onnx" in caplog.text
    )
    shown = chat.say("what did Jane say about the logo colours?")
    assert "terracotta" in shown and "can't search" not in shown
    store = chat.runtime.store
    assert store.memory.config()["embedder"] == "hashing-v1-512"
    store.memory.reembed(get_embedder("minilm-onnx"))  # what `coo memory reembed` does, from another process
    lines = [
        x.strip()
        for x in chat.say("what did Jane say about the brand palette?").splitlines()
        if x.strip().startswith("•")
    ]
    assert lines and "terracotta" in lines[0]
    assert store.memory.config()["embedder"] == "all-MiniLM-L6-v2-onnx-int8"


def test_a_backlog_is_indexed_by_the_command_and_recall_says_it_may_miss_some(chat, monkeypatch) -> None:
    """A chat reply never embeds a whole backlog (a fresh import, say): it indexes a bounded share,
    answers, and says that more is waiting for `coo memory sync`."""
    import graphs.steps_memory as steps_memory
    from graphs.steps_memory import memory_embedder
    from store.memory_sync import backlog

    monkeypatch.setattr(steps_memory, "SYNC_BUDGET", 1)
    chat.say(ACME)
    for n, subject in enumerate(("Homepage feedback", "Launch call", "Invoice details", "Workshop", "Fonts")):
        ingest(
            chat,
            forward_as_attachment(
                client_mail(
                    f"Hi Ana,\n\nA note about the {subject.lower()}.\n\nJane",
                    subject=subject,
                    msgid=f"<b{n}@acme.example>",
                )
            ),
            event_id=f"mail-b{n}",
        )
    store = chat.runtime.store
    waiting = backlog(store)
    assert waiting > 0
    shown = chat.say("what did Jane say about the launch call?")
    assert (
        f"({waiting - 1:,} memories are not indexed yet, so this may miss some: `coo memory sync` indexes "
        "them now.)" in shown
    )
    left = backlog(store)  # the recall's own run indexed one more when it ended
    assert left == waiting - 2
    assert sync(store, memory_embedder(chat.runtime.deps)) == left and backlog(store) == 0
    assert "not indexed yet" not in chat.say("what did Jane say about the launch call?")


def test_recall_parsing() -> None:
    from graphs.offline_parser import OfflineParser

    parser = OfflineParser()
    today = WHEN.date()
    cases = {
        "what did Jane say about the logo colours?": ("recall", "Jane"),
        "what did Jane from Acme Studio say about the budget?": ("recall", "Acme Studio"),
        "find the proposal for Acme": ("recall", "Acme"),
        "find INV-0042": ("invoice_lookup", None),  # one invoice by number, never other invoices
        "did Bob mention the deadline?": ("recall", "Bob"),
        "where's the brief from Northwind?": ("recall", "Northwind"),
        "search for jane@acme.example": ("recall", None),
        "what did we agree with Acme about revisions?": ("recall", "Acme"),
        "pull up the last e-mail from Kestrel": ("recall", "Kestrel"),
        "search memory for logo colours": ("recall", None),
    }
    for text, (kind, client) in cases.items():
        intent = parser.parse(text, today).intent
        assert intent.kind == kind, text
        assert getattr(intent, "client_name", None) == client, text
        assert not intent.has_side_effects
    for text, kind in {
        "what's overdue?": "status_query",
        "show me the invoices for Acme": "status_query",
        "find a plumber near me": "unknown",
        "did Acme pay?": "status_query",
        "remind me to find the proposal for Acme": "add_task",
        "invoice Acme $2,500 for the website": "create_invoice",
    }.items():
        assert parser.parse(text, today).intent.kind == kind, text


@pytest.mark.slow  # a bench run
@pytest.mark.services  # bench-memory makes its PostgreSQL databases on COO_TEST_DATABASE_URL's server
def test_bench_memory_quick_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["bench-memory", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "recall@5" in out and "combined" in out and "p99" in out
    assert "postgres" in out and "sqlite" in out


@pytest.mark.parametrize("direction", ["sqlite_to_postgres", "postgres_to_sqlite"])
def test_memories_round_trip_through_a_snapshot_and_are_re_embedded_on_import(
    direction, sqlite_url, pg_url, clock, tmp_path
) -> None:
    from decimal import Decimal

    from store.billing import NewLine
    from store.snapshot import export_snapshot, import_snapshot, read_snapshot, write_snapshot

    source_url, target_url = (sqlite_url, pg_url) if direction == "sqlite_to_postgres" else (pg_url, sqlite_url)
    source = Store.open(source_url, clock)
    with source.db.transaction() as tx:
        client, _ = source.clients.upsert(tx, "Acme Studio", "Jane Doe", "jane@acme.example")
        sender = {"from": {"name": "Jane Doe", "address": "jane@acme.example"}}
        source.artifacts.create(
            tx,
            "email_in",
            "Logo feedback",
            "The teal feels too cold; could you try terracotta?",
            "mail-1",
            client.id,
            sender,
        )
        source.artifacts.create(
            tx, "email_in", "Launch date", "The board moved the launch to March 3rd.", "mail-2", client.id, sender
        )
        source.clients.add_fact(tx, client.id, "prefers Slack over e-mail", "run r1")
        source.billing.create_invoice(
            tx,
            client.id,
            [NewLine(description="Brand audit", quantity=Decimal(1), unit_price=Decimal(1200))],
            "USD",
            WHEN.date(),
            WHEN.date(),
            "run-i",
        )
    assert sync(source, EMB) == 4
    queries = ["what did Jane say about the logo colours?", "INV-0001", "jane@acme.example launch", "Slack"]

    def answers(store: Store) -> list[list[tuple[str, int]]]:
        return [
            [(h.item.source_kind, h.item.source_id) for h in store.memory.hybrid(q, EMB.embed([q])[0], 3)]
            for q in queries
        ]

    before = answers(source)
    snapshot = export_snapshot(source.db, clock.now())
    source.close()
    tables = snapshot.tables
    assert len(tables["memory_items"]["rows"]) == 4 and "tsv" not in tables["memory_items"]["columns"]
    assert not [t for t in tables if t.startswith(("memory_vec", "memory_fts", "memory_tokens", "memory_config"))]
    assert any("re-embedded on import" in note and "coo memory sync" in note for note in snapshot.notes)
    path = tmp_path / "snapshot.json"
    write_snapshot(snapshot, path)

    target = Store.open(target_url, clock)
    try:
        assert import_snapshot(target.db, read_snapshot(path))["memory_items"] == 4
        assert export_snapshot(target.db, clock.now()).tables == tables  # every row, every column
        assert len(target.memory.unindexed()) == 4  # no vectors yet …
        assert sync(target, EMB) == 4  # … the sweep embeds and indexes the restored items
        assert sync(target, EMB) == 0
        assert answers(target) == before
        assert target.memory.reembed(EMB) == 4 and answers(target) == before
        assert export_snapshot(target.db, clock.now()).tables["memory_items"] == tables["memory_items"]
    finally:
        target.close()


def test_keyword_search_stays_bounded_when_a_word_is_everywhere(store: Store) -> None:
    """Past TEXT_BUDGET matches, the text list still puts the rows with every word (and with the
    rare words) first, whatever their age, and the client filter still applies."""
    import store.memory as memory

    store.memory.ensure(EMB)
    old = [
        _item(1, "Logo feedback", "Priya: the logo colours feel cold, try terracotta.", 1),
        _item(2, "Logo question", "Which logo colours go on the booth?", 2),
    ]
    filler = [
        _item(10 + i, "Weekly update", f"Status of the website build, week {i}, logo unchanged.", 1 + i % 3)
        for i in range(60)
    ]
    _put(store, EMB, old + filler)
    budget, memory.TEXT_BUDGET = memory.TEXT_BUDGET, 10
    pg_common = memory.PG_COMMON_ROWS
    try:
        if store.db.dialect == "postgres":
            memory.PG_COMMON_ROWS = 10
            with store.db.transaction() as tx:
                tx.execute("ANALYZE memory_items")
        hits = store.memory.keyword("logo colours terracotta", 3)
        assert hits[0].item.source_id == 1
        hits = store.memory.keyword("logo colours", 5, client_id=2)
        assert [h.item.source_id for h in hits][0] == 2 and all(h.item.client_id == 2 for h in hits)
    finally:
        memory.TEXT_BUDGET, memory.PG_COMMON_ROWS = budget, pg_common
