"""Which client an incoming e-mail is from.

In order of trust: the sender's address is a client's contact address; the e-mail answers a
message coo sent or filed for a client (In-Reply-To / References); the sender's company domain
(never a shared provider's) is a client's. A display name that matches a client's contact or
company is only a question ("It could be from …"), never a link. Anything ambiguous links to
nobody and says who it could be — a wrong link would put one client's facts next to another
client's mail.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from agents.email_reader import Mailbox, ParsedEmail
from store.clients import name_key
from store.facade import Store
from store.models import Artifact, Client

LinkedBy = Literal["address", "thread", "name", "domain"]

# Shared mail providers say nothing about which company someone works for.
FREEMAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "mail.com",
        "yandex.ru",
        "yandex.com",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "qq.com",
        "163.com",
        "example.com",
        "example.org",
        "example.net",
    }
)
_SUBDOMAINS = {"mail", "email", "e-mail", "www", "smtp", "mx", "mailer", "post", "m", "corp", "eu", "us"}
_THREAD_SCAN = 500  # recent e-mails searched for a Message-ID a reply refers to


class SenderLink(BaseModel):
    client: Client | None = None
    by: LinkedBy | None = None
    reply_to: Mailbox | None = None  # the client's mailbox: who a reply goes to
    forwarded_by: Mailbox | None = None
    candidates: list[Client] = Field(default_factory=list)  # when several clients could match


def company_label(domain: str | None) -> str | None:
    """ "acme-studio" from "mail.acme-studio.co.uk"; None for shared providers."""
    if not domain or domain.lower() in FREEMAIL:
        return None
    parts = [p for p in domain.lower().split(".") if p]
    while len(parts) > 2 and parts[0] in _SUBDOMAINS:
        parts = parts[1:]
    if len(parts) >= 3 and len(parts[-1]) == 2 and parts[-2] in ("co", "com", "org", "net", "ac", "gov"):
        return parts[-3]
    return parts[-2] if len(parts) >= 2 else None


def company_guess(mailbox: Mailbox) -> str:
    """A client name to offer for an unknown sender: the company domain, else the person."""
    label = company_label(mailbox.domain)
    if label:
        return " ".join(w.capitalize() for w in re.split(r"[-_]+", label) if w)
    return mailbox.name or (mailbox.address or "").split("@")[0] or "New client"


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _by_thread(store: Store, ids: list[str]) -> Client | None:
    """The client of the e-mail this one answers: coo's sent receipts and filed incoming mail."""
    wanted = {i.strip() for i in ids if i}
    if not wanted:
        return None
    rows = store.db.fetchall(
        "SELECT * FROM artifacts WHERE kind IN ('email', 'email_in') AND client_id IS NOT NULL ORDER BY id DESC LIMIT ?",
        (_THREAD_SCAN,),
    )
    for row in rows:
        artifact = Artifact.model_validate(row)
        receipt = artifact.meta.get("receipt") or {}
        if artifact.client_id is None:  # not selected (the query asks for a client); narrows the type
            continue
        if wanted & {artifact.meta.get("message_id"), receipt.get("message_id") if isinstance(receipt, dict) else None}:
            return store.clients.get(artifact.client_id)
    return None


def _shares_name(contact: str, sender: str) -> bool:
    """ "bob" and "bob lee": one could be the other (a question, never a link)."""
    a, b = contact.split(), sender.split()
    return bool(a and b) and (a == b or a[: len(b)] == b or b[: len(a)] == a)


def _unique(matches: list[Client]) -> tuple[Client | None, list[Client]]:
    unique = list({c.id: c for c in matches}.values())
    return (unique[0], unique) if len(unique) == 1 else (None, unique)


def link_sender(store: Store, parsed: ParsedEmail) -> SenderLink:
    """Link an e-mail (forwarded or direct) to the client who wrote it."""
    original = parsed.original
    forwarded_by = parsed.sender if parsed.forwarded is not None else None
    writer = original.sender if original.sender and original.sender.address else None
    if writer is None and original.reply_to and original.reply_to[0].address:
        writer = original.reply_to[0]
    link = SenderLink(reply_to=writer, forwarded_by=forwarded_by)
    # 1. A contact address. The forwarder is tried last: a client forwarding a colleague's mail
    #    is still that client, but the operator forwarding a client's mail never is a client.
    for mailbox in (writer, forwarded_by):
        if mailbox is None or mailbox.address is None:
            continue
        client, matches = _unique(store.clients.find(None, mailbox.address))
        if client is not None:
            return link.model_copy(update={"client": client, "by": "address", "reply_to": mailbox})
        if matches:
            return link.model_copy(update={"candidates": matches})
    # 2. A reply in a thread coo knows.
    client = _by_thread(store, [original.in_reply_to or "", *original.references])
    if client is not None:
        return link.model_copy(update={"client": client, "by": "thread"})
    everyone = store.clients.all()
    # 3. The company domain: a client's contact address at the same domain, or the client's name.
    #    Never a shared provider's domain (gmail.com says nothing about the company).
    domain = original.sender.domain if original.sender else None
    label = company_label(domain)
    if domain and label:
        same = [c for c in everyone if c.contact_email and c.contact_email.lower().rpartition("@")[2] == domain]
        named = [
            c
            for c in everyone
            if _compact(c.name) == _compact(label) or (len(label) >= 4 and name_key(c.name).split()[:1] == [label])
        ]
        client, matches = _unique(same or named)
        if client is not None:
            return link.model_copy(update={"client": client, "by": "domain"})
        if matches:
            return link.model_copy(update={"candidates": matches})
    # 4. The display name is only ever a question: "Bob <bob@…>" is not client Bob Lee's contact
    #    until the operator says so, and no client's context goes into a guess.
    name = original.sender.name if original.sender else None
    if name and len(name_key(name)) >= 3:
        key = name_key(name)
        people = [c for c in everyone if c.contact_name and _shares_name(name_key(c.contact_name), key)]
        matches = list({c.id: c for c in [*people, *store.clients.find(name)]}.values())
        if matches:
            return link.model_copy(update={"candidates": matches})
    return link
