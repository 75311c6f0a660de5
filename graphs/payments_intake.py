"""A bank or payment-provider CSV export dropped into the chat: reconciled, reported in the thread.

Adapters (a Telegram document, a Slack file share) verify the operator, fetch the file's bytes
and call ``import_payments``. Exact matches are recorded at once (they are the operator's own
bank data, and every payment lands in the ledger with the row it came from); partial payments,
overpayments and unknown payers are listed as numbered questions, each with the ordinary chat
message that would record it, so the operator answers with the commands coo already has. Dates
whose day/month order nothing settles are a question too: the operator sends the file again
with "--date-format DMY" (or MDY) as the message, the chat's form of the CLI option.

A redelivered file share (same channel event id) posts nothing twice, and a different upload
of the same rows records nothing twice (rows are claimed by fingerprint in the reconciler).
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, Field

from agents.bank_csv import UnreadableExport
from agents.bank_dates import DateFormatError, date_format_in, parse_date_format
from agents.reconciler import import_payments as reconcile
from agents.reconciler import render_report
from graphs.conversation import Conversation
from graphs.envelope import Channel, Envelope

MAX_CSV_BYTES = 10 * 1024 * 1024  # a year of a busy account is well under 1 MB


class PaymentsIntakeResult(BaseModel):
    duplicate: bool = False
    run_id: str
    reply: str = ""
    counts: dict[str, int] = Field(default_factory=dict)


def import_run_id(env: Envelope) -> str:
    """One run per delivered file, stable across redeliveries of the same event."""
    return "imp-" + hashlib.sha256(env.idempotency_key.encode()).hexdigest()[:10]


def looks_like_csv(filename: str | None, mime_type: str | None) -> bool:
    """What adapters route here: ``.csv``/``.tsv`` files, or a CSV MIME type."""
    name = (filename or "").lower()
    return name.endswith((".csv", ".tsv")) or (mime_type or "").lower() in (
        "text/csv",
        "text/comma-separated-values",
        "text/tab-separated-values",
        "application/csv",
    )


def import_payments(
    conversation: Conversation,
    csv_bytes: bytes,
    filename: str,
    *,
    channel: Channel,
    thread_id: str,
    user_id: str,
    event_id: str,
    default_currency: str | None = None,
    message: str = "",
) -> PaymentsIntakeResult:
    """Reconcile one dropped export and post the report into its thread. ``message``: the text
    sent with the file (a caption), which may name the date order ("--date-format DMY")."""
    store = conversation.store
    env = Envelope(
        channel=channel, event_id=event_id, thread_id=thread_id, user_id=user_id, text=f"(payments file {filename})"
    )
    run_id = import_run_id(env)
    done = store.runs.find(run_id)
    if done is not None and done.id == run_id and done.status == "done":
        return PaymentsIntakeResult(duplicate=True, run_id=run_id, reply=done.summary or "")
    store.conversations.post(
        channel,
        thread_id,
        env.text,
        direction="in",
        dedupe=f"in:{env.idempotency_key}",
        payload={"user": user_id, "file": filename},
    )
    if len(csv_bytes) > MAX_CSV_BYTES:
        text = f"{filename} is {len(csv_bytes) // 1024 // 1024} MB; I read payment exports up to 10 MB. Export a shorter period?"
        conversation.reply(env, text)
        return PaymentsIntakeResult(run_id=run_id, reply=text)
    named = date_format_in(message)
    try:
        date_format = parse_date_format(named) if named else None
    except DateFormatError as exc:
        text = f"{exc}. Nothing from {filename} was recorded; send it again with one of those."
        conversation.reply(env, text)
        return PaymentsIntakeResult(run_id=run_id, reply=text)
    try:
        report = reconcile(
            store,
            csv_bytes,
            filename,
            run_id=run_id,
            channel=channel,
            thread_id=thread_id,
            user_id=user_id,
            default_currency=default_currency,
            date_format=date_format,
        )
    except UnreadableExport as exc:
        text = f"I couldn't read {filename} as a bank or payment-provider export: {exc} Nothing was recorded."
        conversation.reply(env, text)
        return PaymentsIntakeResult(run_id=run_id, reply=text)
    text = render_report(report, chat=True)
    conversation.reply(env, text, {"payments_import": run_id, "counts": report.counts})
    return PaymentsIntakeResult(run_id=run_id, reply=text, counts=report.counts)
