"""A forwarded chat message whose author hides their account: filed as a note, not as mail.

Telegram gives such a forward only the name the author chose to show (or no name at all), no
account to write back to and never an e-mail address. So there is nobody coo could reply to, and
no reply draft or address question is made: the message is filed as a ``note`` artifact, which
the semantic memory indexes like any other (recall finds it: "what did Lena say about …?").

It is linked to a client only on real evidence, the way facts are: a client whose full name the
message itself spells out. The hidden author's display name is never evidence ("Lena" is not the
client "Lena Park Design", and anyone can call themselves anything).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from agents.email_text import one_line
from graphs.chat_forward import ChatForward
from graphs.envelope import Envelope
from store.facade import Store
from store.models import Artifact, Client

NOTE_KIND = "note"
STEP = "chat_note"
_PREVIEW_CHARS = 80


def named_client(store: Store, text: str) -> Client | None:
    """The one client whose full name appears in ``text`` as whole words (case-insensitive), or
    None when no client, or more than one, is named there."""
    found: dict[int, Client] = {}
    for client in store.clients.all():
        words = re.findall(r"\w+", client.name)
        if not words:
            continue
        pattern = r"(?<!\w)" + r"\W+".join(re.escape(w) for w in words) + r"(?!\w)"
        if re.search(pattern, text, re.I):
            found[client.id] = client
    return next(iter(found.values())) if len(found) == 1 else None


def note_title(forward: ChatForward) -> str:
    return f"{forward.platform_name} message from {forward.person}"


def note_reply(forward: ChatForward, body: str, client: Client | None) -> str:
    """The operator's one short answer: what was filed, why there is no reply, how it starts."""
    linked = f" Linked to {client.name} (named in it)." if client else ""
    return (
        f"Filed as a note (a {forward.platform_name} message from {forward.person}, whose account is hidden — "
        f"I can't reply to it): “{one_line(body, _PREVIEW_CHARS)}”{linked}"
    )


def file_note(
    store: Store, env: Envelope, run_id: str, body: str, when: datetime | None, forward: ChatForward
) -> tuple[Artifact, Client | None]:
    """File the message as a note (idempotent per delivery: ``run_id`` keys it) and record it."""
    client = named_client(store, body)
    meta: dict[str, Any] = {
        "from": {"name": forward.person, "address": None},
        "date": when.isoformat() if when else None,
        "chat_forward": forward.model_dump(),
        "forward_kind": forward.platform,
        "client_id": client.id if client else None,
        "linked_by": "named_in_text" if client else None,
        "channel": env.channel,
        "thread_id": env.thread_id,
        "event_id": env.event_id,
    }
    with store.db.transaction() as tx:
        artifact = store.artifacts.create(
            tx, NOTE_KIND, note_title(forward), body, run_id, client.id if client else None, meta, dedupe=NOTE_KIND
        )
        store.ledger.append(
            run_id,
            STEP,
            "note_filed",
            {"artifact_id": artifact.id, "client_id": meta["client_id"], "from": forward.describe()},
            tx=tx,
        )
    return artifact, client
