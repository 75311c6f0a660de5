"""A policy suggestion as the chat platforms show it: its text and one button.

The button's tap comes back as the operator's `/policy accept N` (graphs.policy_offers), so a
tap and the typed command are the same thing, checked and applied the same way.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from store.models import Message

OFFER_ACTION = re.compile(r"^coo:offer:(\d+)$")  # Slack action id / Telegram callback data


class OfferView(BaseModel):
    offer_id: int
    text: str
    label: str  # "Raise to auto"

    @property
    def action(self) -> str:
        return f"coo:offer:{self.offer_id}"


def is_offer(message: Message) -> bool:
    offer = message.payload.get("offer")
    return isinstance(offer, dict) and str(offer.get("id", "")).isdigit() and int(offer["id"]) > 0


def offer_view(message: Message) -> OfferView:
    offer = message.payload["offer"]
    return OfferView(offer_id=int(offer["id"]), text=message.text, label=str(offer.get("label") or "Accept"))


def tapped_command(offer_id: int) -> str:
    """What a tap on offer ``offer_id`` means: the operator's own command."""
    return f"/policy accept {offer_id}"
