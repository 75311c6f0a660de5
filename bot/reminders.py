"""Waiting approvals are reminded, never silently expired: one reminder per period, in the run's thread."""

from __future__ import annotations

from datetime import timedelta

from bot.cards import duration
from graphs.approvals import Card
from store.deliveries import Deliveries
from store.facade import Store


def remind_waiting(store: Store, deliveries: Deliveries, after_hours: float) -> list[int]:
    """Post a reminder for each approval waiting longer than ``after_hours`` since it was asked
    or last reminded; returns the approval ids reminded. Safe to call from several processes."""
    if after_hours <= 0:
        return []
    period = timedelta(hours=after_hours)
    now = store.clock.now()
    reminded = []
    for approval in store.runs.pending_approvals():
        if now - (approval.reminded_at or approval.asked_at) < period:
            continue
        if not deliveries.claim_reminder(approval.id, approval.reminded_at):
            continue  # another process reminded it just now
        run = store.runs.get(approval.run_id)
        card = Card.model_validate(approval.card)
        waited = duration((now - approval.asked_at).total_seconds())
        store.conversations.post(
            run.channel,
            run.thread_id,
            f"Reminder: approval #{approval.id} has been waiting {waited} — {card.question} ({card.title}). "
            f"Use the buttons on the card, or /approve {approval.id} · /reject {approval.id}.",
            run_id=run.id,
            payload={"reminder_for": approval.id},
            dedupe=f"remind:{approval.id}:{now.isoformat()}",
        )
        reminded.append(approval.id)
    return reminded
