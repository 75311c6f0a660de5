"""From a verified chat event to the core, through the queue, so adapters can ack at once.

Adapters call :class:`Intake` (no database, no model call: one enqueue); the job functions
below run on a worker (or the in-process queue) and hand the Envelope to the Conversation,
then post the short "On it." ack as a reply of its own. Module-level functions, so RQ can
import them by dotted path.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from pydantic import BaseModel

from bot.runtime import get_runtime
from graphs.email_intake import ingest_email
from graphs.envelope import Envelope
from graphs.payments_intake import import_payments
from store.deliveries import Deliveries
from store.facade import Store
from store.jobqueue import JobQueue, JobSpec

log = logging.getLogger(__name__)

# Intake is short work; "coo-intake" is one of the queues `coo worker` listens on.
SPEC = JobSpec(queue="coo-intake", timeout=60, retries=1, retry_intervals=[2])


class ReplyRef(BaseModel):
    """Where the operator's message sits on its platform, so replies can quote it."""

    platform: str
    chat_id: str
    ref: str


def _job_id(kind: str, key: str) -> str:
    # RQ job ids allow [A-Za-z0-9_-] only; channel event ids carry dots and colons.
    return f"{kind}-{hashlib.sha1(key.encode()).hexdigest()[:24]}"


class Intake:
    """What adapters call: queue an operator message, or a polite refusal to a stranger."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue

    def submit(
        self, env: Envelope, *, addressed: bool = True, post_ack: bool = True, reply_ref: ReplyRef | None = None
    ) -> bool:
        """Queue the message once (a retried event with the same id is dropped here or in the core)."""
        return self.queue.enqueue(
            "bot.intake.handle_envelope",
            _job_id("in", env.idempotency_key),
            SPEC,
            envelope=env.model_dump(),
            addressed=addressed,
            post_ack=post_ack,
            reply_ref=reply_ref.model_dump() if reply_ref else None,
        )

    def email(self, raw: bytes, env: Envelope, *, reply_ref: ReplyRef | None = None) -> bool:
        """Queue a forwarded e-mail (raw RFC 822) for the e-mail ingester; ``env.text`` is unused."""
        return self.queue.enqueue(
            "bot.intake.ingest_forwarded_email",
            _job_id("mail", env.idempotency_key),
            SPEC,
            raw=raw,
            envelope=env.model_dump(),
            reply_ref=reply_ref.model_dump() if reply_ref else None,
        )

    def payments(self, data: bytes, filename: str, env: Envelope, *, reply_ref: ReplyRef | None = None) -> bool:
        """Queue a bank/provider CSV export for the reconciler (graphs.payments_intake)."""
        return self.queue.enqueue(
            "bot.intake.import_payments_file",
            _job_id("pay", env.idempotency_key),
            SPEC,
            data=data,
            filename=filename,
            envelope=env.model_dump(),
            reply_ref=reply_ref.model_dump() if reply_ref else None,
        )

    def shared_payments(self, file: dict[str, Any], env: Envelope, *, addressed: bool = True) -> bool:
        """Queue a CSV export shared in Slack (its ``files`` entry): the job downloads it with the
        bot token and reconciles it; the HTTP handler that calls this makes no network call."""
        return self.queue.enqueue(
            "bot.slack.files.import_shared_payments",
            _job_id("pay", env.idempotency_key),
            SPEC,
            file=file,
            envelope=env.model_dump(),
            addressed=addressed,
        )

    def refuse(self, env: Envelope, *, ephemeral: bool = False, reply_ref: ReplyRef | None = None) -> bool:
        return self.queue.enqueue(
            "bot.intake.refuse",
            _job_id("refuse", env.idempotency_key),
            SPEC,
            envelope=env.model_dump(),
            ephemeral=ephemeral,
            reply_ref=reply_ref.model_dump() if reply_ref else None,
        )


def refusal_text(env: Envelope) -> str:
    variable = {"slack": "COO_SLACK_OPERATORS", "telegram": "COO_TELEGRAM_OPERATORS"}.get(env.channel, "the settings")
    return (
        f"Sorry — I only take instructions and approvals from this business's operator, so I did nothing. "
        f"(If that should be you: your user id is {env.user_id}; add it to {variable}.)"
    )


def _remember(reply_ref: dict[str, str] | None, env: Envelope) -> None:
    if reply_ref:
        ref = ReplyRef.model_validate(reply_ref)
        runtime = get_runtime()
        Deliveries(runtime.store.db, runtime.store.clock).remember_inbound(
            env.idempotency_key, ref.platform, ref.chat_id, ref.ref
        )


def handle_envelope(
    envelope: dict[str, str], addressed: bool = True, post_ack: bool = True, reply_ref: dict[str, str] | None = None
) -> None:
    """Hand one operator message to the core; post "On it." when work was queued."""
    runtime = get_runtime()
    env = Envelope.model_validate(envelope)
    store = runtime.store
    if not addressed and not in_conversation(store, env):
        return  # channel chatter in a thread coo is not part of
    _remember(reply_ref, env)
    handled = runtime.conversation.handle(env)
    if handled.ack and post_ack and not handled.duplicate:
        store.conversations.post(env.channel, env.thread_id, handled.ack, dedupe=f"ack:{env.idempotency_key}")


def ingest_forwarded_email(raw: bytes, envelope: dict[str, str], reply_ref: dict[str, str] | None = None) -> None:
    """File a forwarded e-mail, summarise it in the thread, propose one action (graphs.email_intake)."""
    runtime = get_runtime()
    env = Envelope.model_validate(envelope)
    _remember(reply_ref, env)
    result = ingest_email(
        runtime.conversation,
        raw,
        channel=env.channel,
        thread_id=env.thread_id,
        user_id=env.user_id,
        event_id=env.event_id,
    )
    if result.ack and not result.duplicate:
        runtime.store.conversations.post(env.channel, env.thread_id, result.ack, dedupe=f"ack:{env.idempotency_key}")


def import_payments_file(
    data: bytes, filename: str, envelope: dict[str, str], reply_ref: dict[str, str] | None = None
) -> None:
    """Reconcile a dropped CSV export and post the report in its thread (graphs.payments_intake)."""
    runtime = get_runtime()
    env = Envelope.model_validate(envelope)
    _remember(reply_ref, env)
    import_payments(
        runtime.conversation,
        data,
        filename,
        channel=env.channel,
        thread_id=env.thread_id,
        user_id=env.user_id,
        event_id=env.event_id,
    )


def refuse(envelope: dict[str, str], ephemeral: bool = False, reply_ref: dict[str, str] | None = None) -> None:
    """Tell a non-operator, politely, that nothing was done."""
    runtime = get_runtime()
    env = Envelope.model_validate(envelope)
    _remember(reply_ref, env)
    log.info("refused %s user %s", env.channel, env.user_id)
    runtime.store.conversations.post(
        env.channel,
        env.thread_id,
        refusal_text(env),
        payload={"ephemeral_to": env.user_id} if ephemeral else None,
        dedupe=f"reply:{env.idempotency_key}",
    )


def in_conversation(store: Store, env: Envelope) -> bool:
    """A thread coo already speaks in (it asked a question or posted there)."""
    if store.conversations.pending_question(env.thread_key) is not None:
        return True
    return bool(store.conversations.messages_after(env.channel, env.thread_id, 0))
