"""What was said: accepted messages (the intent inbox), replies, and pending questions."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from store.clock import Clock
from store.db import Database, Tx
from store.errors import NotFound
from store.models import JsonDict, JsonStrList, Message, UtcDateTime


class AcceptedIntent(BaseModel):
    id: int
    idempotency_key: str
    channel: str
    thread_id: str
    user_id: str
    text: str
    intent: JsonDict
    run_id: str | None = None
    created_at: UtcDateTime


class PendingQuestion(BaseModel):
    thread_key: str
    intent: JsonDict
    fields: JsonStrList
    question: str
    source_text: str
    created_at: UtcDateTime


class ConversationStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # -- the inbox: one row per accepted channel event ----------------------------------

    def accept(
        self,
        tx: Tx,
        key: str,
        channel: str,
        thread_id: str,
        user_id: str,
        text: str,
        intent: dict[str, Any],
        *,
        run_id: str | None = None,
    ) -> tuple[AcceptedIntent, bool]:
        """Persist an incoming intent under the channel's event id, for the run ``run_id`` (which
        the caller creates in ``tx``); (row, is_new): an intent accepted before keeps its run."""
        row = tx.fetchone(
            "INSERT INTO intents (idempotency_key, channel, thread_id, user_id, text, intent, run_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING *",
            (key, channel, thread_id, user_id, text, intent, run_id, self.clock.now()),
        )
        if row is not None:
            return AcceptedIntent.model_validate(row), True
        row = tx.fetchone("SELECT * FROM intents WHERE idempotency_key = ?", (key,))  # accepted before
        assert row is not None
        return AcceptedIntent.model_validate(row), False

    def seen(self, key: str) -> bool:
        return self.db.scalar("SELECT 1 AS x FROM intents WHERE idempotency_key = ?", (key,)) is not None

    def intent_for_run(self, run_id: str) -> AcceptedIntent:
        row = self.db.fetchone("SELECT * FROM intents WHERE run_id = ?", (run_id,))
        if row is None:
            raise NotFound(f"no intent recorded for run {run_id}")
        return AcceptedIntent.model_validate(row)

    # -- messages: every reply coo posts, and the operator's lines ----------------------

    def post(
        self,
        channel: str,
        thread_id: str,
        text: str,
        *,
        run_id: str | None = None,
        payload: dict[str, Any] | None = None,
        dedupe: str | None = None,
        direction: str = "out",
        tx: Tx | None = None,
    ) -> Message | None:
        """Record a message; with ``dedupe`` a replayed step does not post twice (returns None)."""
        params = (run_id, channel, thread_id, direction, text, payload or {}, dedupe, self.clock.now())
        sql = (
            "INSERT INTO messages (run_id, channel, thread_id, direction, text, payload, dedupe_key, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING *"
        )
        # One statement (the row comes back with it): on its own, it is its own transaction.
        row = tx.fetchone(sql, params) if tx is not None else self.db.fetchone(sql, params)
        return None if row is None else Message.model_validate(row)

    def messages_after(self, channel: str, thread_id: str, after_id: int, direction: str = "out") -> list[Message]:
        rows = self.db.fetchall(
            "SELECT * FROM messages WHERE channel = ? AND thread_id = ? AND id > ? AND direction = ? ORDER BY id",
            (channel, thread_id, after_id, direction),
        )
        return [Message.model_validate(r) for r in rows]

    def last_message_id(self) -> int:
        return int(self.db.scalar("SELECT COALESCE(MAX(id), 0) AS n FROM messages") or 0)

    def undelivered(self, channel: str, limit: int = 100) -> list[Message]:
        rows = self.db.fetchall(
            "SELECT * FROM messages WHERE channel = ? AND direction = 'out' AND delivered_at IS NULL ORDER BY id LIMIT ?",
            (channel, limit),
        )
        return [Message.model_validate(r) for r in rows]

    def mark_delivered(self, message_id: int) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE messages SET delivered_at = ? WHERE id = ?", (self.clock.now(), message_id))

    # -- clarifying questions waiting for an answer, one per thread ----------------------

    def ask(self, tx: Tx, thread_key: str, intent: dict[str, Any], fields: list[str], question: str, text: str) -> None:
        tx.execute("DELETE FROM clarifications WHERE thread_key = ?", (thread_key,))
        tx.execute(
            "INSERT INTO clarifications (thread_key, intent, fields, question, source_text, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (thread_key, intent, fields, question, text, self.clock.now()),
        )

    def pending_question(self, thread_key: str) -> PendingQuestion | None:
        row = self.db.fetchone("SELECT * FROM clarifications WHERE thread_key = ?", (thread_key,))
        return None if row is None else PendingQuestion.model_validate(row)

    def answered(self, tx: Tx, thread_key: str) -> None:
        tx.execute("DELETE FROM clarifications WHERE thread_key = ?", (thread_key,))
