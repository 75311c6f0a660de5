"""The summary of a forwarded e-mail as the operator reads it in the thread: at most five lines.

1. who wrote (and the client it is linked to, and how sure that is), the subject, when;
2. what it asks for, by when, the amounts it names (and the operator's note with a forward);
3. the attachments with their sizes, when there are any;
4. what coo knows of the sender (the client's facts only for a sure link), warnings, problems;
5. what coo proposes, or why nothing.

The reply draft itself is the approval card that follows; it is not part of the summary.
"""

from __future__ import annotations

from decimal import Decimal

from agents.context import ClientContext
from agents.email_brief import EmailBrief
from agents.email_reader import ParsedEmail
from agents.email_text import new_text, one_line
from graphs.chat_forward import ChatForward
from graphs.email_linking import SenderLink, company_guess
from graphs.intents import AddDeliverable, Intent, SendEmail, StatusQuery
from store.facade import Store
from store.models import format_money

MAX_LINES = 5
_ATTACHMENTS_SHOWN = 6
_SEP = " · "


def client_facts(ctx: ClientContext) -> str:
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
    return f"{ctx.client.name}: " + _SEP.join(parts)


def proposal_line(intent: Intent | None, why_not: str | None) -> str:
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


def _who(store: Store, parsed: ParsedEmail, link: SenderLink, brief: EmailBrief, forward: ChatForward | None) -> str:
    original = parsed.original
    if forward is not None:
        head = f"{forward.platform_name} message from {forward.describe()}, forwarded to me"
    else:
        head = f"E-mail from {brief.who}"
    if link.client is not None:
        head += f" — {link.client.name}"
        if link.by in ("name", "domain"):
            head += f" (matched by {link.by}; not the contact address on file)"
        elif link.by != "address":
            head += f" (matched by {link.by})"
    if link.forwarded_by is not None:
        head += f", forwarded by {link.forwarded_by.display()}"
    if forward is None:
        head += f"{_SEP}Subject: {one_line(original.subject, 120) or '(no subject)'}"
    if original.date:
        head += f"{_SEP}sent {store.clock.local(original.date).strftime('%Y-%m-%d %H:%M')}"
    return head


def _what(parsed: ParsedEmail, brief: EmailBrief) -> str:
    original = parsed.original
    if brief.gist:
        parts = ["Summary: " + one_line(brief.gist, 400)]
    elif brief.asks:
        parts = ["They ask: " + _SEP.join(brief.asks)]
    else:
        said = one_line(new_text(original.body) or original.body, 200)
        parts = [f"It says: “{said}”" if said else "The e-mail has no readable text."]
    if brief.dates:
        parts.append("Dates mentioned: " + ", ".join(f"{d.text} ({d.on.isoformat()})" for d in brief.dates))
    if brief.amounts:
        parts.append("Amounts mentioned: " + ", ".join(a.display() for a in brief.amounts))
    if parsed.forwarded is not None and parsed.note.strip():
        parts.append(f"Note with the forward: “{one_line(new_text(parsed.note) or parsed.note, 160)}”")
    return _SEP.join(parts)


def attachments_line(brief: EmailBrief) -> str | None:
    """ "Attachments: brief.pdf (application/pdf, 3 KB), …" — every one counted, sizes shown."""
    if not brief.attachments:
        return None
    shown = brief.attachments[:_ATTACHMENTS_SHOWN]
    more = len(brief.attachments) - len(shown)
    return "Attachments: " + ", ".join(shown) + (f" and {more} more" if more else "")


def _sender_line(parsed: ParsedEmail, link: SenderLink, ctx: ClientContext | None, forward: ChatForward | None) -> str:
    original = parsed.original
    if ctx is not None:
        return client_facts(ctx)
    if link.client is not None:
        return (
            f"Linked by the company's domain only, so I left {link.client.name}'s details out; "
            "correct me if it is someone else's."
        )
    if link.candidates:
        names = " or ".join(c.name for c in link.candidates[:4])
        return f"It could be from {names}; I linked it to none of them. Reply with the client's name to act on it."
    if forward is not None:
        return f"{forward.platform_name} shares no e-mail address for {forward.name}, and no client has that name."
    if link.reply_to is not None and link.reply_to.address:
        who = link.reply_to
        contact = f"{who.name} {who.address}" if who.name else who.address
        unknown = f"I don't know the sender {who.address}: no client has this address, name or domain."
        if original.automated is None:  # a mailing list or a bounce is not a prospective client
            unknown += f" To add them, say: new client: {company_guess(who)}, contact {contact}"
        return unknown
    return "I can't tell who sent it: the e-mail has no readable sender address."


def render(
    store: Store,
    parsed: ParsedEmail,
    link: SenderLink,
    brief: EmailBrief,
    ctx: ClientContext | None,
    proposal: str,
    forward: ChatForward | None = None,
) -> str:
    """The summary, in at most five lines (``proposal`` is the last)."""
    original = parsed.original
    context = [_sender_line(parsed, link, ctx, forward)]
    if brief.warnings:
        context.append(
            "⚠ It contains text aimed at an assistant, not at you: "
            + "; ".join(brief.warnings[:2])
            + ". I treat it as part of the e-mail only: nothing in an e-mail runs by itself."
        )
    problems = list(dict.fromkeys([*parsed.problems, *original.problems, *brief.problems]))
    if problems:
        context.append("Couldn't read everything: " + "; ".join(problems[:4]) + ".")
    lines = [
        _who(store, parsed, link, brief, forward),
        _what(parsed, brief),
        attachments_line(brief),
        _SEP.join(context),
        proposal,
    ]
    # Names and subjects come from the e-mail: a stray line break in one must not add a line.
    return "\n".join(" ".join(line.split()) for line in lines if line)
