"""Recall audits: find what makes the semantic memory worse — stale facts (superseded or
contradicted), near-duplicate memories, orphans (pointing at something deleted) and oversized
items — and prune them, each removal written to the ledger.

Pruning never deletes the operator's records (artifacts, invoices, facts): it removes index
entries, supersedes a contradicted fact, and remembers what it pruned so the indexing sweep
does not bring a duplicate back.
"""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, Field

from store.memory import MAX_TEXT_CHARS
from store.memory_sketch import PERMUTATIONS, band_buckets, digest, jaccard, shingle_hashes, sketch

if TYPE_CHECKING:
    from store.facade import Store

FindingKind = Literal["stale", "contradicted", "duplicate", "orphan", "oversized"]
DUPLICATE_SIMILARITY = 0.9  # word-shingle Jaccard: near-identical, e.g. the same e-mail forwarded twice
ESTIMATE_FLOOR = 0.7  # pairs whose sketches agree on fewer hashes than this are not compared exactly
_PREFERENCE_RE = re.compile(r"\bprefer(?:s|red)?\s+(?:to\s+use\s+|using\s+)?(?P<what>[\w-]+)", re.I)
_ORDER = ("stale", "contradicted", "duplicate", "orphan", "oversized")


class Finding(BaseModel):
    kind: FindingKind
    item_id: int | None = None  # the memory item, when there is one
    fact_id: int | None = None  # the fact to supersede (contradicted facts)
    source: str  # "artifact #12", "fact #3", "invoice #4"
    client: str | None = None
    detail: str


class AuditReport(BaseModel):
    findings: list[Finding] = Field(default_factory=list)
    memories: int = 0
    sketched: int = 0  # items new or changed since the last audit (sketched for the duplicate search)

    def counts(self) -> dict[str, int]:
        counts = {kind: 0 for kind in _ORDER}
        for finding in self.findings:
            counts[finding.kind] += 1
        return counts

    def summary(self) -> str:
        c = self.counts()
        if not self.findings:
            return f"Memory audit: all {self.memories} memories are current; nothing to prune."
        parts = [f"{n} {kind}" for kind, n in c.items() if n]
        return f"Memory audit: {', '.join(parts)} (of {self.memories} memories) — `coo memory prune` removes them."

    def render(self) -> str:
        lines = [self.summary()]
        for kind in _ORDER:
            found = [f for f in self.findings if f.kind == kind]
            if found:
                lines.append(f"{kind.capitalize()} ({len(found)}):")
                lines.extend(f"  • {f.source}{' (' + f.client + ')' if f.client else ''}: {f.detail}" for f in found)
        return "\n".join(lines)


def _client(names: dict[int, str], client_id: int | None) -> str | None:
    return names.get(client_id) if client_id else None


def _finding(kind: FindingKind, row: dict[str, Any], source: str, names: dict[int, str], detail: str) -> Finding:
    """A finding about the memory item ``row`` (its ``id`` and ``client_id``)."""
    return Finding(
        kind=kind, item_id=int(row["id"]), source=source, client=_client(names, row["client_id"]), detail=detail
    )


def _source_findings(store: Store, names: dict[int, str]) -> list[Finding]:
    """Stale, orphaned and oversized items: set-based reads that return only the items at fault."""
    findings: list[Finding] = []
    for r in store.db.fetchall(
        "SELECT m.id, m.source_id, m.client_id, f.id AS fact_id, f.fact FROM memory_items m"
        " LEFT JOIN client_facts f ON f.id = m.source_id WHERE m.source_kind = 'fact'"
        " AND (f.id IS NULL OR f.superseded_at IS NOT NULL) ORDER BY m.id"
    ):
        orphan = r["fact_id"] is None
        detail = "points at a fact that no longer exists" if orphan else f"“{r['fact']}” was superseded by a newer fact"
        findings.append(_finding("orphan" if orphan else "stale", r, f"fact #{r['source_id']}", names, detail))
    for kind, table in (("artifact", "artifacts"), ("invoice", "invoices")):
        for r in store.db.fetchall(
            f"SELECT m.id, m.source_id, m.client_id, m.title FROM memory_items m WHERE m.source_kind = ?"
            f" AND NOT EXISTS (SELECT 1 FROM {table} s WHERE s.id = m.source_id) ORDER BY m.id",
            (kind,),
        ):
            detail = f"points at a deleted {kind} (“{r['title']}”)"
            findings.append(_finding("orphan", r, f"{kind} #{r['source_id']}", names, detail))
    for r in store.db.fetchall(
        "SELECT id, source_kind, source_id, client_id, length(text) AS chars FROM memory_items"
        " WHERE length(text) > ? ORDER BY id",
        (MAX_TEXT_CHARS,),
    ):
        detail = f"{r['chars']} characters (limit {MAX_TEXT_CHARS}); re-indexed compact"
        findings.append(_finding("oversized", r, f"{r['source_kind']} #{r['source_id']}", names, detail))
    return findings


def _contradictions(store: Store, names: dict[int, str]) -> list[Finding]:
    """Contradictions among current free-text facts: "prefers Slack" then "prefers e-mail"."""
    preferences: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for r in store.db.fetchall(
        "SELECT id, client_id, fact FROM client_facts WHERE superseded_at IS NULL AND field IS NULL ORDER BY id"
    ):
        m = _PREFERENCE_RE.search(r["fact"])
        if m:
            preferences[int(r["client_id"])].append((int(r["id"]), m.group("what").lower(), r["fact"]))
    contradicted = [
        (client_id, prefs[-1], pref)
        for client_id, prefs in preferences.items()
        if len({what for _, what, _ in prefs}) > 1
        for pref in prefs[:-1]
        if pref[1] != prefs[-1][1]
    ]
    if not contradicted:
        return []
    ids = sorted({pref[0] for _, _, pref in contradicted})
    marks = ", ".join("?" for _ in ids)
    items = {
        int(r["source_id"]): int(r["id"])
        for r in store.db.fetchall(
            f"SELECT id, source_id FROM memory_items WHERE source_kind = 'fact' AND source_id IN ({marks})", tuple(ids)
        )
    }
    return [
        Finding(
            kind="contradicted",
            item_id=items.get(fact_id),
            fact_id=fact_id,
            source=f"fact #{fact_id}",
            client=names.get(client_id),
            detail=f"“{fact}” contradicts the newer fact #{newest_id} ({newest})",
        )
        for client_id, (newest_id, newest, _), (fact_id, _, fact) in contradicted
    ]


class _Sketched(NamedTuple):
    """Every memory item's audit row, with its stored (or new) shingle hashes and sketch."""

    rows: list[dict[str, Any]]
    hashes: list[bytes]
    sketches: list[bytes]
    made: int  # items sketched by this audit: new or changed since the last one


def _sketched(store: Store) -> _Sketched:
    """Read each item with its stored shingles and sketch; make them for the items that are new
    or whose text changed (and store those), so an audit shingles only what changed since the
    last audit."""
    rows: list[dict[str, Any]] = []
    hashes: list[bytes] = []
    sketches: list[bytes] = []
    fresh: list[tuple[int, str, bytes, bytes]] = []
    with store.db.read() as tx:
        for r in tx.stream(
            "SELECT m.id, m.source_kind, m.source_id, m.kind, m.client_id, m.title, m.text, s.digest, s.sketch,"
            " s.shingles FROM memory_items m LEFT JOIN memory_sketches s ON s.item_id = m.id ORDER BY m.id"
        ):
            text_digest = digest(r["text"])
            if r["digest"] != text_digest or r["sketch"] is None:
                made = shingle_hashes(r["text"])
                fresh.append((int(r["id"]), text_digest, sketch(made), made))
                hashes.append(made)
                sketches.append(fresh[-1][2])
            else:
                hashes.append(bytes(r["shingles"]))
                sketches.append(bytes(r["sketch"]))
            rows.append({k: r[k] for k in ("id", "source_kind", "source_id", "kind", "client_id", "title")})
    if fresh:
        with store.db.transaction() as tx:
            tx.executemany(
                "INSERT INTO memory_sketches (item_id, digest, sketch, shingles) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (item_id) DO UPDATE SET digest = excluded.digest, sketch = excluded.sketch,"
                " shingles = excluded.shingles",
                fresh,
            )
    return _Sketched(rows=rows, hashes=hashes, sketches=sketches, made=len(fresh))


def _duplicates(rows: list[dict[str, Any]], hashes: list[bytes], sketches: list[bytes]) -> list[tuple[int, int]]:
    """(duplicate, the newer item it repeats) as indexes into ``rows``, within one client and
    kind, newest kept: the same answer as comparing every pair of a group. LSH over the stored
    sketches (a lower threshold than the duplicate bar, so pairs at the bar are not missed)
    proposes candidates; only items that share a bucket with another are looked at, and only
    pairs whose sketches agree closely enough are compared exactly (stored shingle hashes), so
    the audit grows with the memory, not with its square."""
    if len(rows) < 2:
        return []
    codes: dict[tuple[Any, str], int] = {}
    groups = np.array([codes.setdefault((r["client_id"], r["kind"]), len(codes)) for r in rows], dtype=np.int64)
    matrix = np.frombuffer(b"".join(sketches), dtype="<u4").reshape(len(rows), PERMUTATIONS)
    buckets = band_buckets(groups, matrix)
    shared = np.zeros(len(rows), dtype=bool)
    for band in range(buckets.shape[1]):
        column = buckets[:, band]
        shared |= np.bincount(column)[column] > 1
    kept: dict[tuple[int, int], list[int]] = defaultdict(list)
    out: list[tuple[int, int]] = []
    ids = [int(r["id"]) for r in rows]
    floor = ESTIMATE_FLOOR * PERMUTATIONS
    order = sorted(np.flatnonzero(shared).tolist(), key=lambda i: -ids[i])  # newest first
    for i, row_buckets in zip(order, buckets[order].tolist(), strict=True):
        keys = list(enumerate(row_buckets))
        candidates = sorted({k for key in keys for k in kept.get(key, ())}, key=lambda k: -ids[k])
        twin = None
        if candidates:
            # The sketches' estimate first (one vector compare for all candidates), the exact
            # Jaccard only for pairs it cannot rule out: a pair at the bar estimates below
            # ESTIMATE_FLOOR about once in ten million (64 hashes: standard error 0.04 at 0.9).
            agree = np.count_nonzero(matrix[candidates] == matrix[i], axis=1)
            twin = next(
                (
                    k
                    for k, n in zip(candidates, agree.tolist(), strict=True)
                    if n >= floor and jaccard(hashes[i], hashes[k]) >= DUPLICATE_SIMILARITY
                ),
                None,
            )
        if twin is None:
            for key in keys:
                kept[key].append(i)
        else:
            out.append((i, twin))
    return out


def audit(store: Store) -> AuditReport:
    """What the memory holds that is stale, contradicted, duplicated, orphaned or oversized."""
    names = {c.id: c.name for c in store.clients.all()}
    findings = _source_findings(store, names) + _contradictions(store, names)
    # Near-duplicates within one client and kind, among items not already at fault: the newest stays.
    flagged = {f.item_id for f in findings}
    read = _sketched(store)
    keep = [n for n, r in enumerate(read.rows) if int(r["id"]) not in flagged]
    rows = [read.rows[n] for n in keep]
    for i, twin in _duplicates(rows, [read.hashes[n] for n in keep], [read.sketches[n] for n in keep]):
        item, other = rows[i], rows[twin]
        findings.append(
            Finding(
                kind="duplicate",
                item_id=int(item["id"]),
                source=f"{item['source_kind']} #{item['source_id']}",
                client=_client(names, item["client_id"]),
                detail=f"“{item['title']}” repeats {other['source_kind']} #{other['source_id']}",
            )
        )
    findings.sort(key=lambda f: (_ORDER.index(f.kind), f.source))
    return AuditReport(findings=findings, memories=len(read.rows), sketched=read.made)


def prune(store: Store, report: AuditReport, actor: str) -> tuple[str, int]:
    """Remove what ``report`` found; returns (the audit run id in the ledger, removals)."""
    run_id = f"audit-{secrets.token_hex(5)}"
    removed = 0
    store.ledger.append(run_id, "audit", "memory_audit", {"summary": report.summary(), **report.counts()}, actor=actor)
    for n, finding in enumerate(report.findings):
        with store.db.transaction() as tx:
            item = (
                tx.fetchone("SELECT source_kind, source_id FROM memory_items WHERE id = ?", (finding.item_id,))
                if finding.item_id
                else None
            )
            if item is not None:
                store.memory.delete(item["source_kind"], int(item["source_id"]), tx)
                if finding.kind == "duplicate":
                    # remembered, so the indexing sweep does not bring the duplicate back
                    tx.execute(
                        "INSERT INTO memory_pruned (source_kind, source_id, reason, pruned_at) VALUES"
                        " (?, ?, ?, ?) ON CONFLICT (source_kind, source_id) DO NOTHING",
                        (item["source_kind"], item["source_id"], finding.detail, store.clock.now()),
                    )
            if finding.kind == "contradicted" and finding.fact_id is not None:
                tx.execute(
                    "UPDATE client_facts SET superseded_at = ? WHERE id = ? AND superseded_at IS NULL",
                    (store.clock.now(), finding.fact_id),
                )
            store.ledger.append(
                run_id, "prune", "memory_pruned", finding.model_dump(), actor=actor, dedupe=str(n), tx=tx
            )
        removed += 1
    return run_id, removed
