"""The quarterly policy review the digest carries: autonomy levels, caps, SLAs and what changed in
the quarter, with one-tap actions (``policy_offer`` ledger events that a tap, or
`/policy accept N`, applies: graphs.policy_offers). It is written once per quarter — the first digest of the
quarter (within its first week) — and recorded in the ledger (``policy_review``), so a second digest that day, or a
restart, does not repeat it.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any

from pydantic import BaseModel

from agents.budget import CAP_KEYS, FALLBACK_KEY
from agents.slas import DEFAULT_SLAS, LABELS, breaches, slas
from store.facade import Store

REVIEW_DAYS = 7  # the first digest within this many days of a quarter's start carries the review


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def _previous_quarter_start(day: date) -> date:
    year, quarter = quarter_of(day)
    if quarter == 1:
        return date(year - 1, 10, 1)
    return date(year, 3 * (quarter - 2) + 1, 1)


def _payload(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value or "{}")


class ReviewOffer(BaseModel):
    """A one-tap action of the review: the ``policy_offer`` ledger event the tap applies."""

    id: int
    label: str


def _offer(store: Store, key: str, agent: str, kind: str, client_id: int | None, level: str) -> ReviewOffer:
    dedupe = f"{agent}-{kind}-{client_id or 0}-{level}"
    payload = {"agent": agent, "kind": kind, "client_id": client_id, "level": level}
    store.ledger.append(key, "review", "policy_offer", payload, actor="digest", dedupe=dedupe)
    found = store.db.scalar("SELECT id FROM ledger WHERE dedupe_key = ?", (f"{key}:review:policy_offer:{dedupe}",))
    return ReviewOffer(id=int(found or 0), label=f"#{found} {agent} {kind} → {level}")


def quarterly_review(store: Store, day: date) -> str | None:
    """The review text on the first digest of a quarter; None on every other day."""
    found = quarterly_review_with_offers(store, day)
    return found[0] if found else None


def quarterly_review_with_offers(store: Store, day: date) -> tuple[str, list[ReviewOffer]] | None:
    """The review and its one-tap actions (buttons under the digest in Slack and Telegram)."""
    year, quarter = quarter_of(day)
    key = f"policy-review-{year}-Q{quarter}"
    since = datetime.combine(_previous_quarter_start(day), time(0), tzinfo=store.clock.tz).astimezone(UTC)
    if day.month % 3 != 1 or day.day > REVIEW_DAYS:
        return None  # only in the first week of a quarter
    if not store.ledger.append(key, "review", "policy_review", {"year": year, "quarter": quarter}, actor="digest"):
        return None
    lines = [f"Quarterly policy review (Q{quarter} {year}) — what coo may do on its own, and how it went:"]
    rules = store.autonomy_rules.all()
    offers: list[ReviewOffer] = []
    if rules:
        for rule in rules:
            who = f" for {store.clients.get(rule.client_id).name}" if rule.client_id else ""
            lines.append(f"• autonomy: {rule.agent} {rule.kind}{who} = {rule.level}")
            if rule.level != "ask":
                offer = _offer(store, key, rule.agent, rule.kind, rule.client_id or None, "ask")
                offers.append(offer)
                client = f' client="{store.clients.get(rule.client_id).name}"' if rule.client_id else ""
                lines.append(
                    f"  keep it, or tap {offer.label} (/policy accept {offer.id}; or /policy {rule.agent} "
                    f"{rule.kind} ask{client}) to have it ask again"
                )
    else:
        lines.append("• autonomy: everything asks (the default)")
    suggested = store.db.fetchall(
        "SELECT payload FROM ledger WHERE kind = 'autonomy_suggested' AND created_at >= ?", (since,)
    )
    for row in suggested[-3:]:
        p = _payload(row["payload"])
        lines.append(
            f"• suggested last quarter: {p.get('agent')} {p.get('kind')} → auto (approvals {p.get('approvals')})"
        )
    changes = store.db.fetchall(
        "SELECT actor, payload FROM ledger WHERE kind = 'policy_changed' AND created_at >= ? ORDER BY id", (since,)
    )
    if changes:
        lines.append(f"• {len(changes)} policy change(s) last quarter:")
        for row in changes[-5:]:
            p = _payload(row["payload"])
            what = p.get("key") or f"{p.get('agent')} {p.get('kind', '')}".strip()
            lines.append(f"  – {what}: {p.get('before')} → {p.get('after')} (by {row['actor']})")
    else:
        lines.append("• no policy changes last quarter")
    caps = [f"{period} {store.autonomy_rules.setting(k) or 'as configured'}" for period, k in CAP_KEYS.items()]
    fallback = store.autonomy_rules.setting(FALLBACK_KEY) or "on"
    lines.append(f"• spend caps: {', '.join(caps)}; fallback to a cheaper tier: {fallback} — /policy cap daily AMOUNT")
    chosen = slas(store)
    late = breaches(store, since)
    by_category = {c: sum(1 for b in late if b.category == c) for c in DEFAULT_SLAS}
    lines.append(
        "• SLAs: "
        + "; ".join(f"{LABELS[c]} {chosen[c]} ({by_category[c]} breach(es))" for c in DEFAULT_SLAS)
        + " — /policy sla CATEGORY DURATION"
    )
    return "\n".join(lines), offers
