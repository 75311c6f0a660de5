"""How coo opens a letter to a client."""

from __future__ import annotations

_ROLE_ADDRESSES = {
    "info",
    "hello",
    "contact",
    "office",
    "billing",
    "team",
    "admin",
    "ops",
    "accounts",
    "support",
    "mail",
    "studio",
    "hi",
    "invoices",
    "finance",
}


def greeting_for(name: str | None, email: str | None, company: str) -> str:
    """ "Hi Jane," from the contact's name, or from an address like jane@… ; else the team."""
    if name:
        return f"Hi {name.split()[0]},"
    local = (email or "").split("@")[0]
    if local.isalpha() and local.lower() not in _ROLE_ADDRESSES:
        return f"Hi {local.capitalize()},"
    return f"Hello {company} team,"
