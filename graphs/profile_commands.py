"""Setting the details invoices need, the same way from chat and from the command line.

``/profile field=value …`` (or ``coo profile field=value …``) sets the seller's details;
``/billing CLIENT field=value …`` (``coo profile client CLIENT field=value …``) a client's billing
details. Without pairs, each shows what is set and what an invoice still lacks.
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

from store.facade import Store
from store.invoice_profile import ClientBilling, ProfileError, SellerProfile

log = logging.getLogger(__name__)


class Reply(NamedTuple):
    text: str
    ok: bool = True  # False: nothing was changed (unknown client or detail, a value refused)


_PAIR = re.compile(r"(?:^|(?<=\s))([A-Za-z][\w-]*)\s*=")


def split_pairs(text: str) -> tuple[str, dict[str, str]]:
    """ "Acme billing_email=ap@acme.example po_number=PO 7" → ("Acme", {…}); a value runs to the next
    ``name=``, so addresses and names keep their spaces."""
    parts = _PAIR.split(text.strip())
    head = parts[0].strip()
    pairs: dict[str, str] = {}
    for key, value in zip(parts[1::2], parts[2::2], strict=True):
        pairs[key.strip().lower().replace("-", "_")] = value.strip()
    return head, pairs


def _shown(details: SellerProfile | ClientBilling) -> list[str]:
    stored = details.stored()
    return [f"• {name}: {stored[name]}".replace("\n", "; ") for name in details.fields() if name in stored]


def seller_text(seller: SellerProfile) -> str:
    lines = ["Your invoices are sent as:", *(_shown(seller) or ["• (nothing set yet)"])]
    missing = seller.missing()
    if missing:
        lines.append(f"Invoices still need: {', '.join(missing)}. Set them with /profile field=value.")
    lines.append(f"Details: {', '.join(SellerProfile.fields())}.")
    return "\n".join(lines)


def profile_command(store: Store, rest: str) -> Reply:
    """`/profile` shows the seller's details; `/profile field=value …` sets them (all checked first)."""
    head, pairs = split_pairs(rest)
    if head and not pairs:
        return Reply(
            f"Write /profile field=value, e.g. /profile legal_name=Jane Doe Design LLC. {seller_text(store.invoice_profiles.seller())}",
            ok=False,
        )
    if not pairs:
        return Reply(seller_text(store.invoice_profiles.seller()))
    try:
        with store.db.transaction() as tx:
            seller = store.invoice_profiles.set_seller(tx, pairs)
    except ProfileError as exc:
        log.warning("seller profile not changed: %s", exc)
        return Reply(str(exc), ok=False)
    return Reply(f"Saved: {', '.join(pairs)}.\n{seller_text(seller)}")


def billing_command(store: Store, rest: str) -> Reply:
    """`/billing Acme` shows Acme's billing details; `/billing Acme field=value …` sets them."""
    name, pairs = split_pairs(rest)
    if not name:
        return Reply(
            "Write /billing CLIENT field=value, e.g. /billing Acme billing_email=ap@acme.example."
            f" Details: {', '.join(ClientBilling.fields())}.",
            ok=False,
        )
    matches = store.clients.find(name)
    if len(matches) != 1:
        found = ", ".join(c.name for c in matches)
        said = (
            f'"{name}" could mean {found}; give the full name.'
            if matches
            else f"I don't know a client called {name!r}."
        )
        return Reply(said, ok=False)
    client = matches[0]
    if pairs:
        try:
            with store.db.transaction() as tx:
                store.invoice_profiles.set_billing(tx, client.id, pairs)
        except ProfileError as exc:
            log.warning("billing details of %s not changed: %s", client.name, exc)
            return Reply(str(exc), ok=False)
    billing = store.invoice_profiles.billing(client.id)
    said = f"Saved for {client.name}: {', '.join(pairs)}.\n" if pairs else ""
    shown = _shown(billing) or ["• (nothing set: invoices use their name and contact address)"]
    lines = [f"{said}{client.name} is invoiced as:", *shown, f"Details: {', '.join(ClientBilling.fields())}."]
    return Reply("\n".join(lines))
