"""One-tap policy offers: coo's suggestion to raise an agent's autonomy, as a button.

The offer is the ``autonomy_suggested`` ledger event (its id is the offer's number). A tap in
Slack or Telegram, or `/policy accept N` in the console, reaches the core as the operator's own
`/policy` command (adapters only let the operator's taps through), and is applied here: the rule
changes as a ``policy_changed`` event and the reply says who raised it and when. A stale offer
(the level already changed, or an edit or rejection broke the streak since) changes nothing and
says so.
"""

from __future__ import annotations

from typing import Any

from graphs.autonomy_policy import KINDS, clean_streak, is_external
from store.facade import Store
from store.models import LedgerEvent

# coo's suggestion to raise a level, and the quarterly review's "have it ask again" (agents.policy_review)
OFFER_KINDS = ("autonomy_suggested", "policy_offer")


def offer_payload(offer_id: int, level: str) -> dict[str, Any]:
    """The message payload delivery turns into a button (bot.delivery)."""
    return {"offer": {"id": offer_id, "label": f"Raise to {level}", "command": f"/policy accept {offer_id}"}}


def accept_offer(store: Store, words: list[str], *, by: str, via: str) -> str:
    """`/policy accept N`: apply offer N when it still stands."""
    if len(words) != 2 or not words[1].isdigit():
        return "Write /policy accept N, N being the suggestion's number."
    offer_id = int(words[1])
    row = store.db.fetchone("SELECT * FROM ledger WHERE id = ? AND kind IN (?, ?)", (offer_id, *OFFER_KINDS))
    if row is None:
        return f"There is no suggestion #{offer_id}; nothing changed."
    offer = LedgerEvent.model_validate(row)
    agent, kind = str(offer.payload["agent"]), str(offer.payload["kind"])
    client_id = offer.payload.get("client_id")
    level = str(offer.payload.get("level") or "auto")
    what = KINDS.get(kind, kind)
    current = store.autonomy_rules.level(agent, kind, client_id)
    if current == level:
        return f"Suggestion #{offer_id} is out of date: the {agent}'s {what} are already {level}; nothing changed."
    evidence = [int(n) for n in offer.payload.get("approvals") or []]
    streak = {d.approval_id for d in clean_streak(store, agent, kind, client_id)}
    if evidence and evidence[-1] not in streak:
        return (
            f"Suggestion #{offer_id} is out of date: an edit or a rejection since broke the streak; "
            f"nothing changed (the level stays {current})."
        )
    change = store.autonomy_rules.set(agent, kind, client_id, level, by=by, via=f"{via}-tap", known_only=True)
    store.ledger.append(
        "policies",
        "autonomy",
        "policy_changed",
        change.model_dump() | {"via": f"{via}-tap", "offer": offer_id, "approvals": evidence},
        actor=by,
        dedupe=f"offer-{offer_id}",
    )
    at = store.clock.local(store.clock.now())
    client = store.clients.get(client_id).name if client_id else None
    for_client = f" for {client}" if client else ""
    if level == "ask":
        before = "before anything goes out" if is_external(kind) else "before changing the books"
        return f"✅ Lowered by you at {at:%Y-%m-%d %H:%M %Z}: the {agent}'s {what}{for_client} ask you again {before}."
    return (
        f"✅ Raised by you at {at:%Y-%m-%d %H:%M %Z}: the {agent}'s {what}{for_client} are now {level} "
        f"(known addresses only). /policy {agent} {kind} ask lowers it again."
    )
