"""What an agent knows about a client: the canonical facts, loaded once per step."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from store.facade import Store
from store.models import Artifact, Client, ClientFact, Deliverable, Invoice, Retainer


class ClientContext(BaseModel):
    """Only the facts a step needs; prompts are built from this, never from history."""

    model_config = ConfigDict(frozen=True)

    client: Client
    retainer: Retainer | None = None
    facts: tuple[ClientFact, ...] = ()
    open_invoices: tuple[Invoice, ...] = ()
    deliverables: tuple[Deliverable, ...] = ()
    recent: tuple[Artifact, ...] = ()

    def constraints(self) -> list[str]:
        """The client's constraints in operator words, for drafts and approval cards."""
        c = self.client
        lines = []
        limit = (
            c.revision_limit
            if c.revision_limit is not None
            else (self.retainer.revision_rounds if self.retainer else None)
        )
        if limit is not None:
            lines.append(f"{limit} revision round{'s' if limit != 1 else ''} included")
        if c.preferred_channel:
            lines.append(f"prefers {c.preferred_channel}")
        if c.hourly_rate is not None:
            lines.append(f"rate ${c.hourly_rate:,.2f}/h")
        billing_day = c.billing_day or (self.retainer.billing_day if self.retainer else None)
        if billing_day:
            lines.append(f"billed on day {billing_day}")
        return lines

    @property
    def revision_limit(self) -> int | None:
        if self.client.revision_limit is not None:
            return self.client.revision_limit
        return self.retainer.revision_rounds if self.retainer else None


def load_client_context(store: Store, client_id: int) -> ClientContext:
    return ClientContext(
        client=store.clients.get(client_id),
        retainer=store.work.active_retainer(client_id),
        facts=tuple(store.clients.facts(client_id)),
        open_invoices=tuple(store.billing.open_invoices(client_id)),
        deliverables=tuple(store.work.open_deliverables(client_id)),
        recent=tuple(store.artifacts.for_client(client_id, limit=3)),
    )
