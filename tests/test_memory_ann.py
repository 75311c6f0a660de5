"""SQLite's approximate search for recalls that name no client (store/memory_ann.py): the same
answers as the exact search, current across processes, rebuilt when its file is bad."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agents.embedders import HashingEmbedder
from store import memory_ann
from store.db import sqlite_path
from store.facade import Store
from store.memory import NewMemory
from store.memory_sync import sync

WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
EMB = HashingEmbedder()
SIZE = 600
THRESHOLD = 300

TOPICS = (
    "logo colours palette warmer tones homepage hero banner typography brand guide illustration "
    "invoice overdue payment reminder bank transfer receipt deposit retainer hours rate discount "
    "launch date deadline moved postponed schedule milestone review meeting call agenda notes "
    "contract revision scope change proposal estimate quote signature terms approval feedback "
    "photos shoot studio video edit subtitles podcast episode newsletter campaign audience"
).split()
NAMES = ["Jane", "Bob", "Priya", "Tomás", "Aiko", "Lena", "Omar", "Kestrel", "Acme", "Fjord"]


def _text(rng: random.Random) -> tuple[str, str]:
    title = " ".join(rng.sample(TOPICS, 3)).capitalize()
    body = f"{rng.choice(NAMES)} wrote: " + " ".join(rng.choice(TOPICS) for _ in range(rng.randint(12, 30)))
    return title, body


def _memory(source_id: int, title: str, text: str, client_id: int | None = None) -> NewMemory:
    return NewMemory(
        source_kind="note",
        source_id=source_id,
        kind="note",
        client_id=client_id,
        title=title,
        text=text,
        created_at=WHEN,
    )


def _fill(store: Store, size: int = SIZE, seed: int = 7) -> None:
    rng = random.Random(seed)
    items = [_memory(i, *_text(rng), client_id=(i % 3) + 1) for i in range(1, size + 1)]
    store.memory.bulk_insert(items, EMB.embed([f"{m.title}\n{m.text}" for m in items]))


def _queries(n: int, seed: int = 99) -> list[list[float]]:
    rng = random.Random(seed)
    return EMB.embed([" ".join(rng.sample(TOPICS, rng.randint(2, 6))) for _ in range(n)])


def _exact(store: Store, vector: list[float], k: int, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float]]:
    with monkeypatch.context() as m:
        m.setattr(memory_ann, "ANN_MIN_VECTORS", 10**9)
        with store.db.transaction() as tx:
            return store.memory._vector_ids(tx, vector, k, None)  # noqa: SLF001 - the exact path itself


def _header(path: Path) -> dict[str, object]:
    line = path.read_bytes().partition(b"\n")[0]
    return dict(json.loads(line))


@pytest.fixture
def url(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(memory_ann, "ANN_MIN_VECTORS", THRESHOLD)
    return sqlite_url


@pytest.fixture
def store(url: str, clock):
    s = Store.open(url, clock)
    s.memory.ensure(EMB)
    yield s
    s.close()


def _index_file(url: str) -> Path:
    return memory_ann.index_path(sqlite_path(url))


def _used_ann(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the searches the graph answered."""
    answered: list[int] = []
    original = memory_ann.VectorIndex.search

    def counting(self, tx, vector, k):  # type: ignore[no-untyped-def]
        found = original(self, tx, vector, k)
        if found is not None:
            answered.append(len(found))
        return found

    monkeypatch.setattr(memory_ann.VectorIndex, "search", counting)
    return answered


def test_unfiltered_search_through_the_graph_matches_the_exact_one(
    store: Store, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(store)
    answered = _used_ann(monkeypatch)
    queries = _queries(40)
    # no graph yet: the first search answers exactly and has one built in the background
    first = store.memory.search(queries[0], k=10)
    assert [h.item.id for h in first] == [i for i, _ in _exact(store, queries[0], 10, monkeypatch)]
    assert answered == []
    store.memory.wait_for_ann()
    found = [0, 0]
    for vector in queries:
        exact = _exact(store, vector, 10, monkeypatch)
        hits = store.memory.search(vector, k=10)
        found[0] += len({i for i, _ in exact} & {h.item.id for h in hits})
        found[1] += len(exact)
        # the same scores as the exact search: candidates are re-scored from their stored vectors
        exact_score = dict(exact)
        for hit in hits:
            if hit.item.id in exact_score:
                assert hit.score == pytest.approx(1.0 - exact_score[hit.item.id], abs=1e-6)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(answered) == len(queries)  # every search went through the graph
    assert found[0] / found[1] >= 0.9  # recall@10 against the exact search
    # the graph built for the first search was saved beside the database
    header = _header(_index_file(url))
    assert header["count"] == SIZE and header["dim"] == EMB.dim


def test_below_the_threshold_the_search_stays_exact(store: Store, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(store, THRESHOLD - 50)
    answered = _used_ann(monkeypatch)
    vector = _queries(1)[0]
    assert [(h.item.id, h.score) for h in store.memory.search(vector, k=5)] == [
        (i, 1.0 - d) for i, d in _exact(store, vector, 5, monkeypatch)
    ]
    assert answered == [] and not _index_file(url).exists()


def test_another_process_catches_up_with_new_changed_and_deleted_vectors(
    store: Store, url: str, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(store)
    assert sync(store, EMB) == 0 and _index_file(url).exists()  # `coo memory sync` saves the graph
    saved = _index_file(url).stat().st_mtime_ns
    other = Store.open(url, clock)  # another process: loads the file
    try:
        other.memory.ensure(EMB)
        answered = _used_ann(monkeypatch)
        probe = _queries(1)[0]
        assert other.memory.search(probe, k=5)
        # written after the file was saved, by the first process
        new_text = "Zanzibar quokka marmalade: the unusual request about the quokka mascot"
        new_id = store.memory.upsert(_memory(10_001, "Quokka mascot", new_text), EMB.embed([f"Quokka\n{new_text}"])[0])
        changed_text = "Xylophone jingle for the podcast intro, xylophone only"
        store.memory.upsert(_memory(5, "Jingle", changed_text), EMB.embed([f"Jingle\n{changed_text}"])[0])
        changed_id = store.memory.get("note", 5)
        assert changed_id is not None
        hits = other.memory.search(EMB.embed(["quokka mascot marmalade"])[0], k=3)
        assert hits[0].item.id == new_id
        hits = other.memory.search(EMB.embed(["xylophone jingle"])[0], k=3)
        assert hits[0].item.id == changed_id.id and "Xylophone" in hits[0].item.text
        # deleted in the first process: never returned by the second
        assert store.memory.delete("note", 10_001)
        hits = other.memory.search(EMB.embed(["quokka mascot marmalade"])[0], k=5)
        assert new_id not in {h.item.id for h in hits} and len(hits) == 5
        assert len(answered) == 4
        assert _index_file(url).stat().st_mtime_ns == saved  # caught up in memory, no rewrite
        # the next full sync saves what was added since; a third process starts from there
        sync(store, EMB)
        assert int(str(_header(_index_file(url))["mark"])) > 0 and _index_file(url).stat().st_mtime_ns != saved
    finally:
        other.close()


def test_a_deleted_item_is_dropped_even_before_the_graph_hears_of_it(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(store)
    vector = _queries(1)[0]
    store.memory.search(vector, k=5)
    store.memory.wait_for_ann()
    top = store.memory.search(vector, k=5)
    # skip the catch-up: the graph still holds the deleted item, the re-scoring drops it
    assert store.memory.delete(top[0].item.source_kind, top[0].item.source_id)
    monkeypatch.setattr(memory_ann.VectorIndex, "_catch_up", lambda *args: True)
    answered = _used_ann(monkeypatch)
    hits = store.memory.search(vector, k=5)
    assert top[0].item.id not in {h.item.id for h in hits} and len(hits) == 5
    assert answered == [5]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other dimension"])
def test_a_corrupt_or_foreign_index_file_is_rebuilt(
    store: Store, url: str, clock, damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(store)
    sync(store, EMB)
    path = _index_file(url)
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"\x00not an index\n" + bytes(range(256)) * 40)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    else:
        header, _, body = data.partition(b"\n")
        fields = json.loads(header)
        fields["dim"] = 384
        path.write_bytes(json.dumps(fields).encode() + b"\n" + body)
    other = Store.open(url, clock)
    try:
        other.memory.ensure(EMB)
        answered = _used_ann(monkeypatch)
        vector = _queries(1)[0]
        exact = [i for i, _ in _exact(other, vector, 5, monkeypatch)]
        assert [h.item.id for h in other.memory.search(vector, k=5)] == exact  # exact while rebuilding
        other.memory.wait_for_ann()
        hits = other.memory.search(vector, k=5)
        assert [h.item.id for h in hits][:3] == exact[:3]
        assert answered == [5]
    finally:
        other.close()
    header = _header(path)  # rewritten whole by the search that rebuilt it
    assert header["dim"] == EMB.dim and header["count"] == SIZE


def test_reembedding_starts_a_new_graph(store: Store, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(store)
    sync(store, EMB)
    smaller = HashingEmbedder(256)
    store.memory.reembed(smaller)
    sync(store, smaller)
    assert _header(_index_file(url))["dim"] == 256
    answered = _used_ann(monkeypatch)
    vector = smaller.embed(["logo colours palette"])[0]
    hits = store.memory.search(vector, k=5)
    assert answered == [5] and all(len(h.item.text) > 0 for h in hits)


def test_a_client_filter_keeps_the_exact_partition_search(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(store)

    def refuse(*args: object) -> None:
        raise AssertionError("a client's search must not use the graph")

    monkeypatch.setattr(memory_ann.VectorIndex, "search", refuse)
    vector = _queries(1)[0]
    hits = store.memory.search(vector, k=5, client_id=2)
    assert hits and all(h.item.client_id == 2 for h in hits)
    assert store.memory.hybrid("logo colours", vector, k=5, client_id=2)


def test_usearch_and_onnxruntime_load_in_one_process() -> None:
    """usearch 2.26.2 and later crash the interpreter when onnxruntime (the default embedder) is
    imported after them: a search graph built before a sweep's first embedding did that."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "import usearch.index, onnxruntime; print('ok')"], capture_output=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == b"ok", done.stderr[-500:]


def test_a_database_from_before_the_change_log_is_seeded_once(url: str, clock, monkeypatch: pytest.MonkeyPatch) -> None:
    first = Store.open(url, clock)
    first.memory.ensure(EMB)
    _fill(first)
    with first.db.transaction() as tx:  # as an earlier coo left it: vectors, no log, no epoch
        tx.execute("DROP TABLE memory_vec_log")
        tx.execute("DELETE FROM memory_config WHERE key = 'vec_epoch'")
    first.close()
    later = Store.open(url, clock)
    try:
        later.memory.ensure(EMB)
        assert later.memory.db.scalar("SELECT COUNT(*) AS n FROM memory_vec_log") == SIZE
        assert "vec_epoch" not in later.memory.config()  # bookkeeping, not configuration
        assert sync(later, EMB) == 0 and _header(_index_file(url))["count"] == SIZE
        answered = _used_ann(monkeypatch)
        assert len(later.memory.search(_queries(1)[0], k=5)) == 5 and answered == [5]
    finally:
        later.close()
