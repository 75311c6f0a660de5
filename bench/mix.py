"""The operator traffic the latency benchmark replays: a realistic, deterministic mix.

One "cycle" is what a freelancer does with one client in a week: add the client, invoice
them, approve it, ask how things stand, record the payment, note a preference, invoice again
and (usually) approve. Every third cycle leaves the second invoice waiting for approval,
as real operators do, so the run also holds some interrupted runs (whose checkpoints the
storage figures measure). Approval numbers are only known from coo's replies, so approval
lines are templates filled in by the driver from the card it just saw.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Kinds the figures are grouped by: what the operator did, not which parser branch ran.
KINDS: tuple[str, ...] = ("new_client", "invoice", "approve", "status", "payment", "remember")

_FIRST = (
    "Hooli",
    "Initech",
    "Globex",
    "Northwind",
    "Bluebird",
    "Halcyon",
    "Oakridge",
    "Pinecrest",
    "Redwood",
    "Silverline",
    "Blue Harbor",
    "Copperleaf",
    "Evergreen",
    "Lakeside",
    "Brightside",
    "Summit",
    "Riverbend",
    "Sunflower",
    "Westbrook",
    "Maple",
)
_SECOND = ("Labs", "Studio", "Design", "Media", "Dental", "Coffee", "Partners", "Works")
_THIRD = ("", " Group", " Collective", " Co")
_WORK = (
    "website work",
    "logo design",
    "brand refresh",
    "landing page",
    "newsletter design",
    "photo retouching",
    "app screens",
    "pitch deck",
)
_STATUS = (
    "what's overdue?",
    "who owes me money?",
    "any approvals waiting?",
    "how are we doing?",
    "which invoices are still unpaid?",
    "list my clients",
)
_FACTS = ("prefers Slack", "allows only 2 revision rounds", "prefers email", "pays late, send reminders early")

APPROVAL = "{approval}"  # placeholder in an approval line, filled from the last card
_CARD = re.compile(r"\[/approve (\d+)\]")


@dataclass(frozen=True)
class Line:
    kind: str
    text: str  # may contain APPROVAL


def client_name(i: int) -> str:
    """A distinct, plausible company name for the i-th client (640 before they repeat).

    No digits: "Hooli Labs 2 paid $900" is (rightly) too odd for the offline parser.
    """
    first = _FIRST[i % len(_FIRST)]
    second = _SECOND[(i // len(_FIRST)) % len(_SECOND)]
    third = _THIRD[(i // (len(_FIRST) * len(_SECOND))) % len(_THIRD)]
    return f"{first} {second}{third}"


def _cycle(i: int) -> list[Line]:
    name = client_name(i)
    email = "ap@" + re.sub(r"[^a-z0-9]+", "", name.lower()) + ".example"
    amount = 900 + (i * 350) % 4100
    hours = 4 + i % 13
    rate = (85, 95, 110, 120)[i % 4]
    lines = [
        Line("new_client", f"new client: {name}, contact {email}"),
        Line("invoice", f"invoice {name} ${amount:,} for {_WORK[i % len(_WORK)]}, due in 14 days"),
        Line("approve", f"/approve {APPROVAL}"),
        Line("status", _STATUS[i % len(_STATUS)]),
        Line("payment", f"{name} paid ${amount:,}"),
        Line("remember", f"remember that {name} {_FACTS[i % len(_FACTS)]}"),
        Line("invoice", f"invoice {name} for {hours} hours of {_WORK[(i + 3) % len(_WORK)]} at ${rate}/h"),
    ]
    if i % 3 != 1:  # every third client's second invoice is left waiting for approval
        lines.append(Line("approve", f"/approve {APPROVAL}"))
    return lines


def operator_lines(count: int) -> Iterator[Line]:
    """Exactly ``count`` lines of the mix, cycling through fresh clients."""
    produced, i = 0, 0
    while produced < count:
        for line in _cycle(i):
            if produced == count:
                return
            yield line
            produced += 1
        i += 1


def fill(line: Line, last_reply: str) -> str | None:
    """The text to send; None when an approval line has no card to approve (the driver skips it)."""
    if APPROVAL not in line.text:
        return line.text
    found = _CARD.findall(last_reply)
    return line.text.replace(APPROVAL, found[-1]) if found else None
