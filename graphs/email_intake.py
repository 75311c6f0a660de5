"""A client e-mail forwarded to coo: parsed, linked to its client, filed, summarised in the
thread, and turned into ONE proposed intent that follows the normal approval rules.

Adapters (Slack e-mail file shares, Telegram .eml documents and forwards, ``POST /inbound/email``)
verify the operator and call ``ingest_email`` with the raw RFC 822 bytes. The e-mail is data:
what it says is summarised and may shape a proposal, but the proposal is one of three fixed
kinds chosen by rules (a reply draft, a deliverable, an invoice look-up), and a reply only
leaves after the operator approves its card. Text in the e-mail that tries to instruct an
assistant is pointed out to the operator and otherwise ignored.

Every write is keyed by the channel's event id, so a redelivered e-mail (a webhook retry, a
double-forward) files one artifact, posts one summary and starts at most one run.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from agents.context import ClientContext, load_client_context
from agents.email_brief import EmailBrief, build_brief
from agents.email_reader import Attachment, Mailbox, ParsedEmail, parse_email
from agents.email_text import new_text, one_line
from graphs.autonomy_policy import lower_after_complaint
from graphs.chat_forward import ChatForward, address_question, ask_for_address
from graphs.chat_note import file_note, note_reply
from graphs.conversation import Conversation, Handled
from graphs.email_linking import SenderLink, link_sender
from graphs.email_summary import proposal_line, render
from graphs.envelope import Channel, Envelope
from graphs.intents import AddDeliverable, Intent, SendEmail, StatusQuery, intent_to_dict
from graphs.repeats import on_the_list, same_open_work
from store.facade import Store
from store.models import Artifact

STEP = "email_intake"


class EmailIntakeResult(BaseModel):
    """What became of one forwarded e-mail (the adapter shows ``reply``/``ack``; tests inspect the rest)."""

    duplicate: bool = False
    intake_id: str
    artifact_id: int | None = None
    client_id: int | None = None
    client_name: str | None = None
    linked_by: str | None = None
    sender: str | None = None  # the client's address: the original sender of a forward
    forwarded_by: str | None = None
    unknown_sender: bool = False
    proposed: str | None = None  # the kind of the proposed intent, if any
    intent: dict[str, Any] | None = None
    run_ids: list[str] = Field(default_factory=list)
    reply: str = ""  # the summary posted into the thread
    problems: list[str] = Field(default_factory=list)
    ack: str | None = None


def intake_id_for(env: Envelope) -> str:
    """A stable id for one delivered e-mail: the artifact and ledger events hang off it."""
    return "mail-" + hashlib.sha256(env.idempotency_key.encode()).hexdigest()[:10]


def _finished(store: Store, intake_id: str) -> EmailIntakeResult | None:
    for event in store.ledger.events(intake_id):
        if event.kind == "email_intake_done":
            return EmailIntakeResult.model_validate({**event.payload, "duplicate": True})
    return None


def automated_reason(parsed: ParsedEmail, link: SenderLink) -> str | None:
    """Why the mail (the forwarded one, for a forward) is bulk, machine-sent or spam, or None.
    Spam signs count only for mail not linked for sure (by a contact's address or the thread)."""
    original = parsed.original
    marked = original.automated or (parsed.automated if parsed.forwarded is None else None)
    if marked or link.by in ("address", "thread"):
        return marked
    return original.spam_reason


def _sure_context(store: Store, link: SenderLink) -> ClientContext | None:
    """The client's facts for the summary, only when the link is sure (their contact's address or a
    thread coo knows): a domain match is a guess, and a guess shows no client's private context."""
    if link.client is None or link.by not in ("address", "thread"):
        return None
    return load_client_context(store, link.client.id)


def _needs_no_reply(automated: str) -> str:
    if automated.startswith("it looks like spam"):
        return f"{automated}, so it gets no reply"
    return f"it looks automated ({automated}), so it needs no reply"


def _propose(parsed: ParsedEmail, link: SenderLink, brief: EmailBrief) -> tuple[Intent | None, str | None]:
    """The one intent coo proposes, or why there is none."""
    original = parsed.original
    if link.reply_to is None or link.reply_to.address is None:
        return None, "there is no sender address to reply to"
    automated = automated_reason(parsed, link)
    if automated:
        return None, _needs_no_reply(automated)
    client = link.client
    if client is None and not brief.asks:
        return None, "the sender is unknown and asks nothing of you; to answer anyway, say what to e-mail them"
    if client is not None and brief.category == "deliverable" and brief.deliverable:
        return AddDeliverable(client_name=client.name, title=brief.deliverable, due_date=brief.due), None
    if client is not None and brief.category == "billing":
        return StatusQuery(topic="invoices", client_name=client.name), None
    references = None
    if original.message_id:
        references = " ".join([*original.references, original.message_id])
    return SendEmail(
        client_name=client.name if client else None,
        to=link.reply_to.address,
        subject=brief.reply_subject,
        body=brief.reply_body,
        in_reply_to=original.message_id,
        references=references,
    ), None


def _proposal(store: Store, link: SenderLink, intent: Intent | None, why_not: str | None) -> str:
    """The summary's last line; a request already on the list says so (the run will move it)."""
    if isinstance(intent, AddDeliverable) and intent.title and link.client is not None:
        existing = same_open_work(store, link.client, intent.title, run_id="")
        if existing is not None:
            return on_the_list(existing, intent.due_date)
    return proposal_line(intent, why_not)


def _meta(
    parsed: ParsedEmail, link: SenderLink, env: Envelope, raw_size: int, warnings: list[str], problems: list[str]
) -> dict[str, Any]:
    original = parsed.original
    return {
        "from": original.sender.model_dump() if original.sender else None,
        "to": [m.model_dump() for m in original.to],
        "cc": [m.model_dump() for m in original.cc],
        "date": original.date.isoformat() if original.date else None,
        "message_id": original.message_id,
        "in_reply_to": original.in_reply_to,
        "references": original.references,
        "attachments": [a.model_dump() for a in original.attachments],
        "forwarded_by": link.forwarded_by.model_dump() if link.forwarded_by else None,
        "forward_kind": parsed.forward_kind,
        "forward_note": parsed.note if parsed.forwarded is not None else None,
        "client_id": link.client.id if link.client else None,
        "linked_by": link.by,
        "body_source": original.body_source,
        "warnings": warnings,
        "problems": problems,
        "channel": env.channel,
        "thread_id": env.thread_id,
        "event_id": env.event_id,
        "raw_size": raw_size,
        "automated": automated_reason(parsed, link),
    }


def _file(
    store: Store, env: Envelope, intake_id: str, parsed: ParsedEmail, link: SenderLink, meta: dict[str, Any]
) -> Artifact:
    """The e-mail as an artifact, and its arrival in the ledger."""
    original = parsed.original
    with store.db.transaction() as tx:
        artifact = store.artifacts.create(
            tx,
            "email_in",
            one_line(original.subject, 200) or "(no subject)",
            original.body,
            intake_id,
            link.client.id if link.client else None,
            meta,
            dedupe="email_in",
        )
        store.ledger.append(
            intake_id,
            STEP,
            "email_received",
            {
                "artifact_id": artifact.id,
                "client_id": meta["client_id"],
                "linked_by": link.by,
                "from": original.sender.display() if original.sender else None,
                "subject": original.subject,
                "message_id": original.message_id,
                "warnings": meta["warnings"],
                "problems": meta["problems"],
                "automated": meta["automated"],
            },
            actor=f"{env.channel}:{env.user_id}",
            tx=tx,
        )
    return artifact


def _file_automated(
    conversation: Conversation,
    env: Envelope,
    intake_id: str,
    parsed: ParsedEmail,
    link: SenderLink,
    automated: str,
    raw_size: int,
) -> EmailIntakeResult:
    """Bulk or machine-sent mail: filed, one line in the thread and the digest, no reply draft,
    and no client context pulled into it. "this one matters" promotes it (``promote_filed``)."""
    store = conversation.store
    original = parsed.original
    problems = list(dict.fromkeys([*parsed.problems, *original.problems]))
    meta = _meta(parsed, link, env, raw_size, [], problems)
    artifact = _file(store, env, intake_id, parsed, link, meta)
    who = original.sender.display() if original.sender else "(no sender)"
    text = (
        f"Filed without a reply: {who} — “{one_line(original.subject, 100) or '(no subject)'}”. "
        f"Nothing proposed: {_needs_no_reply(automated)}; it is listed in the digest. "
        "If it matters, say “this one matters”."
    )
    if problems:
        text += " Couldn't read everything: " + "; ".join(problems[:3]) + "."
    conversation.reply(env, text, {"email_artifact_id": artifact.id, "client_id": None, "proposed": None})
    result = EmailIntakeResult(
        intake_id=intake_id,
        artifact_id=artifact.id,
        linked_by=link.by,
        sender=link.reply_to.address if link.reply_to else None,
        forwarded_by=link.forwarded_by.address if link.forwarded_by else None,
        unknown_sender=link.client is None,
        reply=text,
        problems=problems,
    )
    store.ledger.append(
        intake_id, STEP, "email_intake_done", result.model_dump(mode="json"), actor=f"{env.channel}:{env.user_id}"
    )
    return result


def _headline(parsed: ParsedEmail) -> str:
    original = parsed.original
    who = original.sender.display() if original.sender else "(no sender)"
    return f"[e-mail] {who}: {one_line(original.subject, 100) or '(no subject)'}"


def ingest_email(
    conversation: Conversation,
    raw: bytes,
    *,
    channel: Channel,
    thread_id: str,
    user_id: str,
    event_id: str,
    chat_forward: ChatForward | None = None,
) -> EmailIntakeResult:
    """File a forwarded e-mail, summarise it in the thread and propose one action. Never raises on
    the e-mail's content; store outages propagate like they do from ``Conversation.handle``.

    ``chat_forward``: the e-mail was rebuilt from a forwarded chat message whose author has a
    name but no address (graphs.chat_forward): coo asks for the address instead of drafting. When
    the author hides their account there is nobody to reply to: it is filed as a note (graphs.chat_note)."""
    store = conversation.store
    parsed = parse_email(raw)
    original = parsed.original
    if chat_forward is not None and chat_forward.kind == "hidden_user":
        headline = f"[note] {chat_forward.describe()}: {one_line(original.body, 100)}"
        env = Envelope(channel=channel, event_id=event_id, thread_id=thread_id, user_id=user_id, text=headline)
        return _file_chat_note(conversation, env, parsed, chat_forward)
    if chat_forward is not None:  # a name without an address is all a chat gives: not a defect
        original.problems = [p for p in original.problems if not p.startswith("the sender's address")]
    env = Envelope(channel=channel, event_id=event_id, thread_id=thread_id, user_id=user_id, text=_headline(parsed))
    intake_id = intake_id_for(env)
    done = _finished(store, intake_id)
    if done is not None:
        return done
    store.conversations.post(
        channel,
        thread_id,
        env.text,
        direction="in",
        dedupe=f"in:{env.idempotency_key}",
        payload={"user": user_id, "email": intake_id},
    )
    link = link_sender(store, parsed)
    automated = automated_reason(parsed, link)
    if automated is not None:
        return _file_automated(conversation, env, intake_id, parsed, link, automated, len(raw))
    brief = build_brief(
        original,
        today=store.clock.today(),
        known_client=link.client is not None,
        runner=conversation.deps.runner,
        run_id=intake_id,
    )
    ctx = _sure_context(store, link)
    intent, why_not = _propose(parsed, link, brief) if chat_forward is None else (None, None)
    problems = list(dict.fromkeys([*parsed.problems, *original.problems, *brief.problems]))
    meta = _meta(parsed, link, env, len(raw), brief.warnings, problems)
    if chat_forward is not None:
        meta.update(forward_kind=chat_forward.platform, chat_forward=chat_forward.model_dump())
    artifact = _file(store, env, intake_id, parsed, link, meta)
    last = address_question(chat_forward) if chat_forward is not None else _proposal(store, link, intent, why_not)
    text = render(store, parsed, link, brief, ctx, last, chat_forward)
    if link.client is not None and link.by == "address":
        # A complaint from the client's own address can only lower autonomy, for that client.
        lowered = lower_after_complaint(store, link.client.id, new_text(original.body) or original.body, intake_id)
        if lowered:
            text += "\n" + lowered
    conversation.reply(
        env,
        text,
        {"email_artifact_id": artifact.id, "client_id": meta["client_id"], "proposed": intent.kind if intent else None},
    )
    handled = Handled()
    if chat_forward is not None:
        source = f"{chat_forward.platform_name} message from {chat_forward.person}: {one_line(original.body, 80)}"
        ask_for_address(store, env.thread_key, chat_forward, "Following up on your message", brief.reply_body, source)
    if intent is not None:
        source = f"e-mail from {link.reply_to.address if link.reply_to else '?'}: {one_line(original.subject, 100)}"
        handled = conversation.submit(env, intent_to_dict(intent), source)
    result = EmailIntakeResult(
        intake_id=intake_id,
        artifact_id=artifact.id,
        client_id=link.client.id if link.client else None,
        client_name=link.client.name if link.client else None,
        linked_by=link.by,
        sender=link.reply_to.address if link.reply_to else None,
        forwarded_by=link.forwarded_by.address if link.forwarded_by else None,
        unknown_sender=link.client is None,
        proposed=intent.kind if intent else None,
        intent=intent_to_dict(intent) if intent else None,
        run_ids=handled.run_ids,
        reply=text,
        problems=problems,
        ack=handled.ack,
    )
    store.ledger.append(
        intake_id, STEP, "email_intake_done", result.model_dump(mode="json"), actor=f"{channel}:{user_id}"
    )
    return result


def _file_chat_note(
    conversation: Conversation, env: Envelope, parsed: ParsedEmail, forward: ChatForward
) -> EmailIntakeResult:
    """A forward from a hidden account: one note, one short reply; no draft, question or card."""
    store = conversation.store
    original = parsed.original
    intake_id = intake_id_for(env)
    done = _finished(store, intake_id)
    if done is not None:
        return done
    store.conversations.post(
        env.channel,
        env.thread_id,
        env.text,
        direction="in",
        dedupe=f"in:{env.idempotency_key}",
        payload={"user": env.user_id, "email": intake_id},
    )
    artifact, client = file_note(store, env, intake_id, original.body, original.date, forward)
    text = note_reply(forward, original.body, client)
    conversation.reply(env, text, {"note_artifact_id": artifact.id, "client_id": client.id if client else None})
    result = EmailIntakeResult(
        intake_id=intake_id,
        artifact_id=artifact.id,
        client_id=client.id if client else None,
        client_name=client.name if client else None,
        linked_by="named_in_text" if client else None,
        unknown_sender=client is None,
        reply=text,
    )
    store.ledger.append(
        intake_id, STEP, "email_intake_done", result.model_dump(mode="json"), actor=f"{env.channel}:{env.user_id}"
    )
    return result


_PROMOTE = re.compile(
    r"^\s*(?:this|that|the last)(?: one| e-?mail| mail)? (?:matters|is important|is not spam|isn'?t spam)"
    r"|^\s*(?:it|this) (?:does )?matters?\b|^\s*not spam\b",
    re.I,
)


def is_promotion(text: str) -> bool:
    """ "this one matters", "that email is important", "not spam"."""
    return bool(_PROMOTE.match(text))


def promote_filed(conversation: Conversation, env: Envelope) -> Handled | None:
    """The operator says the last bulk mail filed in this thread matters: summarise it and propose
    as for any client mail (the reply still waits for approval). None when there is none."""
    store = conversation.store
    for artifact in store.artifacts.latest_in_thread("email_in", env.channel, env.thread_id):
        meta = artifact.meta
        if not meta.get("automated") or artifact.run_id is None:
            continue
        intake_id = artifact.run_id
        if not store.ledger.append(
            intake_id, STEP, "email_promoted", {"artifact_id": artifact.id}, actor=f"{env.channel}:{env.user_id}"
        ):
            conversation.reply(env, f"“{artifact.title}” was already taken up; see above.")
            return Handled()
        parsed = _from_filed(artifact)
        link = link_sender(store, parsed)
        brief = build_brief(
            parsed,
            today=store.clock.today(),
            known_client=link.client is not None,
            runner=conversation.deps.runner,
            run_id=intake_id,
        )
        ctx = _sure_context(store, link)
        intent, why_not = _propose(parsed, link, brief)
        text = "Taken up (you said it matters): " + render(
            store, parsed, link, brief, ctx, _proposal(store, link, intent, why_not)
        )
        conversation.reply(env, text, {"email_artifact_id": artifact.id, "proposed": intent.kind if intent else None})
        if intent is None:
            return Handled()
        source = f"e-mail from {link.reply_to.address if link.reply_to else '?'}: {one_line(parsed.subject, 100)}"
        return conversation.submit(env, intent_to_dict(intent), source)
    return None


def _from_filed(artifact: Artifact) -> ParsedEmail:
    """The filed e-mail as it was read (without its automated mark): what a proposal needs."""
    meta = artifact.meta
    return ParsedEmail(
        sender=Mailbox.model_validate(meta["from"]) if meta.get("from") else None,
        to=[Mailbox.model_validate(m) for m in meta.get("to") or []],
        cc=[Mailbox.model_validate(m) for m in meta.get("cc") or []],
        date=datetime.fromisoformat(meta["date"]) if meta.get("date") else None,
        subject=artifact.title,
        message_id=meta.get("message_id"),
        in_reply_to=meta.get("in_reply_to"),
        references=list(meta.get("references") or []),
        body=artifact.body,
        body_source=meta.get("body_source") or "plain",
        attachments=[Attachment.model_validate(a) for a in meta.get("attachments") or []],
    )
