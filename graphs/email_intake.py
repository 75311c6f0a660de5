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
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from agents.context import ClientContext, load_client_context
from agents.email_brief import EmailBrief, build_brief
from agents.email_reader import Attachment, Mailbox, ParsedEmail, parse_email
from agents.email_text import new_text, one_line
from graphs.autonomy_policy import lower_after_complaint
from graphs.conversation import Conversation, Handled
from graphs.email_linking import SenderLink, company_guess, link_sender
from graphs.envelope import Channel, Envelope
from graphs.intents import AddDeliverable, Intent, SendEmail, StatusQuery, intent_to_dict
from store.facade import Store
from store.models import Artifact, format_money

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


def automated_reason(parsed: ParsedEmail) -> str | None:
    """Why the mail (the forwarded one, for a forward) is bulk or machine-sent, or None."""
    original = parsed.original
    return original.automated or (parsed.automated if parsed.forwarded is None else None)


def _propose(parsed: ParsedEmail, link: SenderLink, brief: EmailBrief) -> tuple[Intent | None, str | None]:
    """The one intent coo proposes, or why there is none."""
    original = parsed.original
    if link.reply_to is None or link.reply_to.address is None:
        return None, "there is no sender address to reply to"
    automated = automated_reason(parsed)
    if automated:
        return None, f"it looks automated ({automated}), so it needs no reply"
    client = link.client
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


def _client_facts(ctx: ClientContext) -> str:
    parts = ["; ".join(ctx.constraints())] if ctx.constraints() else []
    if ctx.open_invoices:
        owed = sum((i.balance for i in ctx.open_invoices), start=Decimal(0))
        n = len(ctx.open_invoices)
        parts.append(
            f"{n} open invoice{'s' if n != 1 else ''} ({format_money(owed, ctx.open_invoices[0].currency)} outstanding)"
        )
    if ctx.deliverables:
        n = len(ctx.deliverables)
        parts.append(f"{n} open deliverable{'s' if n != 1 else ''}")
    if not parts:
        return f"{ctx.client.name}: no constraints, open invoices or deliverables on file."
    return f"{ctx.client.name}: " + " · ".join(parts)


def _proposal_line(intent: Intent | None, why_not: str | None, link: SenderLink) -> str:
    if isinstance(intent, SendEmail):
        return (
            f"Proposed: a reply to {intent.to} (“{intent.subject}”). The draft follows; nothing is sent "
            "until you approve it."
        )
    if isinstance(intent, AddDeliverable):
        due = f", due {intent.due_date.isoformat()}" if intent.due_date else ""
        return f"Proposed: add the deliverable “{intent.title}” for {intent.client_name}{due}."
    if isinstance(intent, StatusQuery):
        return f"Proposed: look up {intent.client_name}'s invoices (read-only); the answer follows."
    return f"Nothing proposed: {why_not}."


def _render(
    store: Store,
    parsed: ParsedEmail,
    link: SenderLink,
    brief: EmailBrief,
    ctx: ClientContext | None,
    intent: Intent | None,
    why_not: str | None,
) -> str:
    original = parsed.original
    head = f"E-mail from {brief.who}"
    if link.client is not None:
        head += f" — {link.client.name}"
        if link.by != "address":
            head += (
                f" (matched by {link.by}; not the contact address on file)"
                if link.by in ("name", "domain")
                else f" (matched by {link.by})"
            )
    if link.forwarded_by is not None:
        head += f", forwarded by {link.forwarded_by.display()}"
    lines = [head]
    subject = f"Subject: {one_line(original.subject, 120) or '(no subject)'}"
    if original.date:
        subject += f" · sent {store.clock.local(original.date).strftime('%Y-%m-%d %H:%M')}"
    lines.append(subject)
    if brief.gist:
        lines.append("Summary: " + brief.gist.strip().replace("\n", "\n  "))
    if brief.asks:
        lines.append("They ask:")
        lines.extend(f"• {ask}" for ask in brief.asks)
    elif not brief.gist:
        said = one_line(new_text(original.body) or original.body, 200)
        lines.append(f"It says: “{said}”" if said else "The e-mail has no readable text.")
    if brief.dates:
        lines.append("Dates mentioned: " + ", ".join(f"{d.text} ({d.on.isoformat()})" for d in brief.dates))
    if brief.amounts:
        lines.append("Amounts mentioned: " + ", ".join(a.display() for a in brief.amounts))
    if brief.attachments:
        lines.append("Attachments: " + ", ".join(brief.attachments))
    if parsed.forwarded is not None and parsed.note.strip():
        lines.append(f"Note with the forward: “{one_line(new_text(parsed.note) or parsed.note, 160)}”")
    if brief.warnings:
        lines.append(
            "⚠ It contains text aimed at an assistant, not at you: "
            + "; ".join(brief.warnings[:2])
            + ". I treat it as part of the e-mail only: nothing in an e-mail runs by itself."
        )
    problems = list(dict.fromkeys([*parsed.problems, *original.problems, *brief.problems]))
    if problems:
        lines.append("Couldn't read everything: " + "; ".join(problems[:4]) + ".")
    if ctx is not None:
        lines.append(_client_facts(ctx))
    elif link.candidates:
        names = " or ".join(c.name for c in link.candidates[:4])
        lines.append(
            f"It could be from {names}; I linked it to none of them. Reply with the client's name to act on it."
        )
    elif link.reply_to is not None and link.reply_to.address:
        who = link.reply_to
        contact = f"{who.name} {who.address}" if who.name else who.address
        unknown = f"I don't know the sender {who.address}: no client has this address, name or domain."
        if original.automated is None:  # a mailing list or a bounce is not a prospective client
            unknown += f" To add them, say: new client: {company_guess(who)}, contact {contact}"
        lines.append(unknown)
    else:
        lines.append("I can't tell who sent it: the e-mail has no readable sender address.")
    lines.append(_proposal_line(intent, why_not, link))
    return "\n".join(lines)


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
        "automated": automated_reason(parsed),
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
        f"Nothing proposed: it looks automated ({automated}), so it needs no reply; it is listed in the "
        "digest. If it matters, say “this one matters”."
    )
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
    conversation: Conversation, raw: bytes, *, channel: Channel, thread_id: str, user_id: str, event_id: str
) -> EmailIntakeResult:
    """File a forwarded e-mail, summarise it in the thread and propose one action. Never raises on
    the e-mail's content; store outages propagate like they do from ``Conversation.handle``."""
    store = conversation.store
    parsed = parse_email(raw)
    original = parsed.original
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
    automated = automated_reason(parsed)
    if automated is not None:
        return _file_automated(conversation, env, intake_id, parsed, link, automated, len(raw))
    brief = build_brief(
        original,
        today=store.clock.today(),
        known_client=link.client is not None,
        runner=conversation.deps.runner,
        run_id=intake_id,
    )
    ctx = load_client_context(store, link.client.id) if link.client is not None else None
    intent, why_not = _propose(parsed, link, brief)
    problems = list(dict.fromkeys([*parsed.problems, *original.problems, *brief.problems]))
    meta = _meta(parsed, link, env, len(raw), brief.warnings, problems)
    artifact = _file(store, env, intake_id, parsed, link, meta)
    text = _render(store, parsed, link, brief, ctx, intent, why_not)
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
        ctx = load_client_context(store, link.client.id) if link.client is not None else None
        intent, why_not = _propose(parsed, link, brief)
        text = "Taken up (you said it matters):\n" + _render(store, parsed, link, brief, ctx, intent, why_not)
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
