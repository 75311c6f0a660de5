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
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from store.memory import MAX_TEXT_CHARS, MemoryItem

if TYPE_CHECKING:
    from store.facade import Store

FindingKind = Literal["stale", "contradicted", "duplicate", "orphan", "oversized"]
DUPLICATE_SIMILARITY = 0.9  # word-shingle Jaccard: near-identical, e.g. the same e-mail forwarded twice
LSH_THRESHOLD = 0.6  # MinHash LSH proposes pairs this alike; exact Jaccard then applies the bar above
LSH_PERMUTATIONS = 64
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


def _shingles(text: str) -> set[str]:
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i : i + 3]) for i in range(max(len(words) - 2, 1))}


def _jaccard(sa: set[str], sb: set[str]) -> float:
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def _hash32(value: str) -> int:
    return hash(value) & 0xFFFFFFFF


_TEMPLATE: list[Any] = []


_BANDS: list[tuple[int, int]] = []


def _bands() -> tuple[int, int]:
    """LSH bands and rows for the threshold, worked out once (datasketch integrates the error
    curves to find them, ~0.2 s: per client group that would be most of the audit)."""
    if not _BANDS:
        from datasketch import MinHashLSH

        lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=LSH_PERMUTATIONS)
        _BANDS.append((lsh.b, lsh.r))
    return _BANDS[0]


def _template() -> Any:
    """One MinHash whose permutations (and their scheme) every sketch of an audit reuses."""
    if not _TEMPLATE:
        from datasketch import MinHash

        _TEMPLATE.append(MinHash(num_perm=LSH_PERMUTATIONS))
    return _TEMPLATE[0]


def _duplicates(group: list[MemoryItem]) -> list[tuple[MemoryItem, MemoryItem]]:
    """(duplicate, the newer item it repeats) within one group, newest kept: the same answer as
    comparing every pair, with candidates from MinHash LSH (a lower threshold than the
    duplicate bar, so pairs at the bar are not missed) checked by exact shingle Jaccard."""
    if len(group) < 2:
        return []
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(num_perm=LSH_PERMUTATIONS, params=_bands())
    kept: dict[int, tuple[MemoryItem, set[str]]] = {}
    out: list[tuple[MemoryItem, MemoryItem]] = []
    for item in reversed(group):  # newest first
        shingles = _shingles(item.text)
        # The permutations are drawn once; the sketches live for this audit only, so Python's
        # own (per-process) string hash serves, many times faster than SHA-1.
        template = _template()
        sketch = MinHash(
            num_perm=LSH_PERMUTATIONS, hashfunc=_hash32, permutations=template.permutations, scheme=template.scheme
        )
        sketch.update_batch(list(shingles))
        candidates = sorted((kept[int(key)] for key in lsh.query(sketch)), key=lambda k: -k[0].id)
        twin = next((k for k, ks in candidates if _jaccard(ks, shingles) >= DUPLICATE_SIMILARITY), None)
        if twin is None:
            kept[item.id] = (item, shingles)
            lsh.insert(str(item.id), sketch)
        else:
            out.append((item, twin))
    return out


def _items(store: Store) -> list[MemoryItem]:
    rows = store.db.fetchall(
        "SELECT id, source_kind, source_id, kind, client_id, title, text, meta, fingerprint,"
        " created_at FROM memory_items ORDER BY id"
    )
    return [MemoryItem.model_validate(r) for r in rows]


def audit(store: Store) -> AuditReport:
    """What the memory holds that is stale, contradicted, duplicated, orphaned or oversized."""
    names = {c.id: c.name for c in store.clients.all()}
    items = _items(store)
    findings: list[Finding] = []
    by_source = {(i.source_kind, i.source_id): i for i in items}
    existing = {
        "artifact": {int(r["id"]) for r in store.db.fetchall("SELECT id FROM artifacts")},
        "invoice": {int(r["id"]) for r in store.db.fetchall("SELECT id FROM invoices")},
    }
    facts = {int(r["id"]): r for r in store.db.fetchall("SELECT * FROM client_facts ORDER BY id")}

    for item in items:
        client = names.get(item.client_id) if item.client_id else None
        source = f"{item.source_kind} #{item.source_id}"
        if item.source_kind == "fact":
            fact = facts.get(item.source_id)
            if fact is None:
                findings.append(
                    Finding(
                        kind="orphan",
                        item_id=item.id,
                        source=source,
                        client=client,
                        detail="points at a fact that no longer exists",
                    )
                )
            elif fact["superseded_at"] is not None:
                findings.append(
                    Finding(
                        kind="stale",
                        item_id=item.id,
                        source=source,
                        client=client,
                        detail=f"“{fact['fact']}” was superseded by a newer fact",
                    )
                )
        elif item.source_kind in existing and item.source_id not in existing[item.source_kind]:
            findings.append(
                Finding(
                    kind="orphan",
                    item_id=item.id,
                    source=source,
                    client=client,
                    detail=f"points at a deleted {item.source_kind} (“{item.title}”)",
                )
            )
        if len(item.text) > MAX_TEXT_CHARS:
            findings.append(
                Finding(
                    kind="oversized",
                    item_id=item.id,
                    source=source,
                    client=client,
                    detail=f"{len(item.text)} characters (limit {MAX_TEXT_CHARS}); re-indexed compact",
                )
            )

    # Contradictions among current free-text facts: "prefers Slack" then "prefers e-mail".
    preferences: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for fact_id, fact in facts.items():
        if fact["superseded_at"] is None and fact["field"] is None:
            m = _PREFERENCE_RE.search(fact["fact"])
            if m:
                preferences[int(fact["client_id"])].append((fact_id, m.group("what").lower()))
    for client_id, prefs in preferences.items():
        if len({what for _, what in prefs}) > 1:
            newest_id, newest = prefs[-1]
            for fact_id, what in prefs[:-1]:
                if what != newest:
                    stale = by_source.get(("fact", fact_id))
                    findings.append(
                        Finding(
                            kind="contradicted",
                            item_id=stale.id if stale else None,
                            fact_id=fact_id,
                            source=f"fact #{fact_id}",
                            client=names.get(client_id),
                            detail=f"“{facts[fact_id]['fact']}” contradicts the newer fact #{newest_id} ({newest})",
                        )
                    )

    # Near-duplicates within one client and kind: the newest stays. Each item's shingles are
    # computed once; MinHash LSH proposes the items that may be alike and only those pairs are
    # compared exactly, so the audit grows with the memory, not with its square.
    flagged = {f.item_id for f in findings}
    groups: dict[tuple[int | None, str], list[MemoryItem]] = defaultdict(list)
    for item in items:
        if item.id not in flagged:
            groups[(item.client_id, item.kind)].append(item)
    for group in groups.values():
        for item, twin in _duplicates(group):
            findings.append(
                Finding(
                    kind="duplicate",
                    item_id=item.id,
                    source=f"{item.source_kind} #{item.source_id}",
                    client=names.get(item.client_id) if item.client_id else None,
                    detail=f"“{item.title}” repeats {twin.source_kind} #{twin.source_id}",
                )
            )
    findings.sort(key=lambda f: (_ORDER.index(f.kind), f.source))
    return AuditReport(findings=findings, memories=len(items))


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
