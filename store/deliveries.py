"""Where coo's messages were shown on chat platforms, and where operator messages came from.

A delivery row is claimed *before* the platform call (UNIQUE per message, platform and chat),
so two delivery loops never post the same message twice; the platform's reference (Slack
``ts``, Telegram ``message_id``) is stored once sent, so approval cards can be updated in
place when they are decided.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from store.clock import Clock
from store.db import Database
from store.models import DeliveryStatus, Message, UtcDateTime


class Delivery(BaseModel):
    id: int
    message_id: int
    platform: str
    chat_id: str
    ref: str | None = None
    approval_id: int | None = None
    status: DeliveryStatus
    error: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class InboundRef(BaseModel):
    event_key: str
    platform: str
    chat_id: str
    ref: str


class Deliveries:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # -- outgoing ---------------------------------------------------------------------------

    def claim(self, message_id: int, platform: str, chat_id: str, approval_id: int | None = None) -> int | None:
        """Reserve one message for one chat; None when it was already claimed (by anyone)."""
        now = self.clock.now()
        with self.db.transaction() as tx:
            inserted = tx.execute(
                "INSERT INTO deliveries (message_id, platform, chat_id, approval_id, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'sending', ?, ?) ON CONFLICT (message_id, platform, chat_id) DO NOTHING",
                (message_id, platform, chat_id, approval_id, now, now),
            )
            if inserted != 1:
                return None
            return int(
                tx.scalar(
                    "SELECT id FROM deliveries WHERE message_id = ? AND platform = ? AND chat_id = ?",
                    (message_id, platform, chat_id),
                )
            )

    def _set(
        self, delivery_id: int, status: DeliveryStatus, *, ref: str | None = None, error: str | None = None
    ) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE deliveries SET status = ?, ref = COALESCE(?, ref), error = ?, updated_at = ? WHERE id = ?",
                (status, ref, error, self.clock.now(), delivery_id),
            )

    def sent(self, delivery_id: int, ref: str) -> None:
        self._set(delivery_id, "sent", ref=ref)

    def failed(self, delivery_id: int, error: str) -> None:
        self._set(delivery_id, "failed", error=error[:500])

    def settle(self, delivery_id: int) -> None:
        """The card copy now shows the decision; it is never touched again."""
        self._set(delivery_id, "settled")

    def cards(self, approval_id: int) -> list[Delivery]:
        """Every shown, still-live copy of an approval's card."""
        rows = self.db.fetchall(
            "SELECT * FROM deliveries WHERE approval_id = ? AND status = 'sent' ORDER BY id", (approval_id,)
        )
        return [Delivery.model_validate(r) for r in rows]

    def decided_cards(self, limit: int = 100) -> list[Delivery]:
        """Live card copies whose approval has been decided: they still show buttons."""
        rows = self.db.fetchall(
            "SELECT d.* FROM deliveries d JOIN approvals a ON a.id = d.approval_id"
            " WHERE d.status = 'sent' AND a.status <> 'pending' ORDER BY d.id LIMIT ?",
            (limit,),
        )
        return [Delivery.model_validate(r) for r in rows]

    def message(self, message_id: int) -> Message:
        row = self.db.fetchone("SELECT * FROM messages WHERE id = ?", (message_id,))
        if row is None:
            from store.errors import NotFound

            raise NotFound(f"there is no message {message_id}")
        return Message.model_validate(row)

    # -- incoming ---------------------------------------------------------------------------

    def remember_inbound(self, event_key: str, platform: str, chat_id: str, ref: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO inbound_refs (event_key, platform, chat_id, ref, created_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (event_key) DO NOTHING",
                (event_key, platform, chat_id, ref, self.clock.now()),
            )

    def inbound(self, event_key: str) -> InboundRef | None:
        row = self.db.fetchone("SELECT * FROM inbound_refs WHERE event_key = ?", (event_key,))
        return None if row is None else InboundRef.model_validate(row)

    # -- reminders --------------------------------------------------------------------------

    def claim_reminder(self, approval_id: int, previous: datetime | None) -> bool:
        """Mark a pending approval reminded now, only if nobody reminded it since ``previous``."""
        now = self.clock.now()
        with self.db.transaction() as tx:
            if previous is None:
                changed = tx.execute(
                    "UPDATE approvals SET reminded_at = ? WHERE id = ? AND status = 'pending' AND reminded_at IS NULL",
                    (now, approval_id),
                )
            else:
                changed = tx.execute(
                    "UPDATE approvals SET reminded_at = ? WHERE id = ? AND status = 'pending' AND reminded_at = ?",
                    (now, approval_id, previous),
                )
            return changed == 1
