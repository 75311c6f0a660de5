"""Steps over what coo remembers: recall (semantic memory), the client profile, and
follow-ups that change a retainer's terms."""

from __future__ import annotations

import logging
import re
from typing import Any

from agents.client_profile import client_profile as render_profile
from agents.context import load_client_context
from agents.embedders import Embedder, choose, get_embedder
from graphs.confirm import ask_to_confirm, confirmed
from graphs.deps import Deps
from graphs.intents import ClientProfile, Recall, RevisionRequest, UpdateTerms, intent_from_dict
from graphs.memory_search import relevant, search_memory, topic_of
from graphs.step_kit import StepFn, StepResult, plural, resolve_client, today_for, unknown_client
from graphs.steps_retainer import terms_text
from store.memory import EmbedderMismatch, Hit, keyword_terms
from store.memory_sync import backlog as memory_backlog
from store.memory_sync import stale_among
from store.memory_sync import sync as sync_memory
from store.models import format_money

log = logging.getLogger(__name__)


def memory_embedder(deps: Deps) -> Embedder:
    """The run's embedder: ``deps.embedder`` when fixed; else COO_EMBEDDER, or the one the memory
    was built with, or the default (agents.embedders.choose). Chosen at each use, so processes
    follow a `coo memory reembed` without a restart."""
    if deps.embedder:
        return deps.embedder
    # The stored vectors' embedder is looked up only when none is configured (choose() would
    # not use it): one query less at the end of every run.
    return get_embedder(deps.embedder_name or choose("", deps.store.memory.embedded_with()))


# Items a run or a recall indexes before it answers: a run creates a few; a backlog (a snapshot
# just imported, a memory being moved) is `coo memory sync`'s, which shows progress, not a chat
# reply's, which would go quiet for minutes (the transformer embeds ~150 items a second).
SYNC_BUDGET = 256
RECALL_K = 5  # memories a recall shows
RECALL_SPARE = 10  # candidates beyond those, in case some are stale


def index_memory(deps: Deps) -> None:
    """Index what the run created (idempotent sweep); a failure here never fails the run."""
    try:
        sync_memory(deps.store, memory_embedder(deps), limit=SYNC_BUDGET)
    except Exception:  # noqa: BLE001 - memory is derived data; the next sweep catches up
        log.warning("memory indexing failed; the next run or recall retries it", exc_info=True)


def _snippet(text: str, query: str, embedder: Embedder, limit: int = 160) -> str:
    """The sentence of ``text`` that shares most words (by 5-letter prefix) with the query; when
    none shares one (the item was found by meaning), the sentence closest to it in meaning."""
    body = text.split("\n", 1)[1] if "\n" in text else text
    sentences = [x.strip() for x in re.split(r"(?<=[.!?])\s+|\n+", body) if x.strip()] or [body.strip()]
    # Greetings and sign-offs ("Hi Ana,", "Jane") say nothing about the topic.
    sentences = [x for x in sentences if len(x.split()) > 3] or sentences
    terms = {t[:5] for t in keyword_terms(query)}
    overlap: list[float] = [len(terms & {t[:5] for t in keyword_terms(x)}) for x in sentences]
    if max(overlap) == 0 and len(sentences) > 1:
        q, *vectors = embedder.embed([query, *sentences])
        overlap = [sum(a * b for a, b in zip(q, v, strict=True)) for v in vectors]
    best = max(range(len(sentences)), key=lambda i: (overlap[i], len(sentences[i]) > 30, -i))
    found = sentences[best]
    return found if len(found) <= limit else found[: limit - 1].rsplit(" ", 1)[0] + "…"


def _recall_line(deps: Deps, hit: Hit, query: str, embedder: Embedder) -> str:
    item, meta = hit.item, hit.item.meta
    date_text = str(meta.get("date") or item.created_at.isoformat())[:10]
    client = meta.get("client")
    if item.source_kind == "invoice":
        invoice = deps.store.billing.by_id(item.source_id)
        return (
            f"• invoice {invoice.number} for {client or '?'}, issued {invoice.issue_date.isoformat()}: "
            f"{format_money(invoice.total, invoice.currency)}, {invoice.status.replace('_', ' ')} "
            f"(invoice #{invoice.id}): {_snippet(item.text, query, embedder)}"
        )
    if item.source_kind == "fact":
        return (
            f"• note about {client or '?'}, {date_text} (fact #{item.source_id}): "
            f"{_snippet(item.text, query, embedder)}"
        )
    if item.kind == "email_in":
        what = f"e-mail from {meta.get('from_name') or meta.get('from_address') or '?'}"
    elif item.kind == "email":
        what = f"e-mail to {meta.get('to_address') or client or '?'}"
    elif item.kind == "proposal":
        what = f"proposal {meta.get('number') or ''} for {client or '?'}".replace("  ", " ")
    else:
        what = item.kind.replace("_", " ")
    snippet = _snippet(item.text, query, embedder)
    return f"• {what}, {date_text} “{item.title}” (artifact #{item.source_id}): {snippet}"


def recall(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, Recall) and intent.query
    query = intent.query  # narrowed to str here; the closure below would not see the narrowing
    embedder = memory_embedder(deps)
    try:
        indexed = sync_memory(deps.store, embedder, limit=SYNC_BUDGET)
    except EmbedderMismatch as exc:
        return StepResult(notes=[f"I can't search the memory yet: {exc}."], stop=True)
    left = memory_backlog(deps.store) if indexed >= SYNC_BUDGET else 0
    client = None
    if intent.client_name:
        client, _ = resolve_client(deps, intent.client_name, None)  # no client: the name may be a contact's

    def search(client_id: int | None) -> list[Hit]:
        # Deleted sources and superseded facts (the audit prunes them) are skipped: only the
        # candidates are checked, so a recall's cost does not grow with the memory.
        found = search_memory(
            deps.store, embedder, query, name=intent.client_name, client_id=client_id, k=RECALL_K + RECALL_SPARE
        )
        stale = stale_among(deps.store, [h.item.id for h in found])
        return [h for h in found if h.item.id not in stale][:RECALL_K]

    topic = topic_of(query, intent.client_name)
    hits = relevant(search(client.id if client else None), topic, embedder)
    if not hits and client is not None:
        hits = relevant(search(None), topic, embedder)
    partial = (
        [f"({left:,} memories are not indexed yet, so this may miss some: `coo memory sync` indexes them now.)"]
        if left
        else []
    )
    if not hits:
        about = query.strip(" ?.!") or "that"
        return StepResult(
            notes=[
                f"I don't have anything about “{about}” in the e-mails, notes, proposals or invoices.",
                *partial,
            ],
            client_id=client.id if client else None,
        )
    scope = f" for {client.name}" if client else ""
    lines = [_recall_line(deps, hit, topic, embedder) for hit in hits]
    return StepResult(
        notes=[f"Here's what I found{scope} (best match first):", *lines, *partial],
        client_id=client.id if client else None,
        facts={"recall_hits": len(hits)},
    )


def client_profile(deps: Deps, state: dict[str, Any]) -> StepResult:
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, ClientProfile) and intent.client_name
    client, candidates = resolve_client(deps, intent.client_name, None)
    if client is None:
        return unknown_client(intent.client_name, candidates)
    return StepResult(notes=[render_profile(deps.store, client.id, today_for(deps))], client_id=client.id)


def update_terms(deps: Deps, state: dict[str, Any]) -> StepResult:
    """Change the active retainer's terms; the old values stay in the facts as superseded."""
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, UpdateTerms) and intent.client_name
    client, candidates = resolve_client(deps, intent.client_name, None)
    if client is None:
        return unknown_client(intent.client_name, candidates)
    retainer = deps.store.work.active_retainer(client.id)
    if retainer is None:
        return StepResult(
            notes=[
                f"{client.name} has no active retainer to change. Record one first, e.g. "
                f'"{client.name} signed the retainer: $4,000 a month".'
            ],
            stop=True,
        )
    changes = []
    if intent.billing_day is not None and intent.billing_day != retainer.billing_day:
        changes.append(
            f"billed on day {intent.billing_day} (was "
            f"{'day ' + str(retainer.billing_day) if retainer.billing_day else 'not set'})"
        )
    if intent.monthly_amount is not None and intent.monthly_amount != retainer.monthly_amount:
        changes.append(
            f"{format_money(intent.monthly_amount, retainer.currency)}/month "
            f"(was {format_money(retainer.monthly_amount, retainer.currency)})"
        )
    if intent.revision_rounds is not None and intent.revision_rounds != retainer.revision_rounds:
        was = plural(retainer.revision_rounds, "round") if retainer.revision_rounds is not None else "not set"
        changes.append(f"{plural(intent.revision_rounds, 'revision round')} (was {was})")
    if not changes:
        return StepResult(
            notes=[f"{client.name}'s retainer already has those terms; nothing changed."], client_id=client.id
        )
    if not confirmed(
        deps, state, "change_retainer", client.id
    ):  # the fee, the billing day and the rounds are money: asked first
        question = "\n".join(
            [f"Change {client.name}'s retainer ({terms_text(retainer)})?"] + [f"  {c}" for c in changes]
        )
        return ask_to_confirm(deps, state, question, {"retainer_id": retainer.id, "changes": changes})
    source = f"run {state['run_id']}"
    with deps.store.db.transaction() as tx:
        deps.store.work.update_retainer(
            tx,
            retainer.id,
            billing_day=intent.billing_day,
            monthly_amount=intent.monthly_amount,
            revision_rounds=intent.revision_rounds,
        )
        deps.store.clients.set_constraints(
            tx, client.id, source, billing_day=intent.billing_day, revision_limit=intent.revision_rounds
        )
        deps.store.changes.record(
            tx,
            state["run_id"],
            "update_terms",
            "terms_updated",
            f"the change to {client.name}'s retainer ({'; '.join(changes)})",
            table="retainers",
            row_id=retainer.id,
            before={
                "monthly_cents": retainer.monthly_cents,
                "billing_day": retainer.billing_day,
                "revision_rounds": retainer.revision_rounds,
            },
            after={},
            extra={
                "also": [
                    {
                        "table": "clients",
                        "row_id": client.id,
                        "before": {"billing_day": client.billing_day, "revision_limit": client.revision_limit},
                    }
                ],
                "undo_note": f"{client.name}'s retainer is back to {terms_text(retainer)}.",
            },
        )
    return StepResult(
        notes=[f"Updated {client.name}'s retainer: {'; '.join(changes)}."],
        client_id=client.id,
        facts={"retainer_id": retainer.id},
    )


def record_revision(deps: Deps, state: dict[str, Any]) -> StepResult:
    """Count a revision round against the client's limit; beyond it, flag it as out of scope."""
    intent = intent_from_dict(state["intent"])
    assert isinstance(intent, RevisionRequest) and intent.client_name
    client, candidates = resolve_client(deps, intent.client_name, None)
    if client is None:
        return unknown_client(intent.client_name, candidates)
    limit = load_client_context(deps.store, client.id).revision_limit
    with deps.store.db.transaction() as tx:
        revision = deps.store.revisions.record(tx, client.id, intent.deliverable, intent.note, limit, state["run_id"])
        if revision.out_of_scope:
            deps.store.ledger.append(
                state["run_id"],
                "record_revision",
                "revision_out_of_scope",
                {"client": client.name, "deliverable": revision.deliverable, "round": revision.round, "limit": limit},
                tx=tx,
            )
    what = "" if intent.deliverable is None else f" for the {revision.deliverable}"
    note = f" ({intent.note})" if intent.note else ""
    if limit is None:
        return StepResult(
            notes=[
                f"Noted revision round {revision.round}{what} for {client.name}{note}. "
                f"{client.name} has no revision limit on file."
            ],
            client_id=client.id,
        )
    if revision.out_of_scope:
        return StepResult(
            notes=[
                f"⚠ Out of scope: this is revision round {revision.round}{what}, but {client.name}'s terms include "
                f"{plural(limit, 'round')}{note}. Quote the extra round or decline it before doing the work."
            ],
            client_id=client.id,
            facts={"out_of_scope": True},
        )
    return StepResult(
        notes=[f"Revision round {revision.round} of {limit}{what} for {client.name}{note}."], client_id=client.id
    )


MEMORY_STEPS: dict[str, StepFn] = {
    "recall": recall,
    "client_profile": client_profile,
    "update_terms": update_terms,
    "record_revision": record_revision,
}
