"""The store as the layers above see it: one object bundling the repositories."""

from __future__ import annotations

from store.artifacts import ArtifactStore
from store.autonomy_rules import AutonomyRules
from store.billing import BillingStore
from store.changes import ChangeLog
from store.clients import ClientStore
from store.clock import Clock
from store.conversations import ConversationStore
from store.credit_notes import CreditNotes
from store.credits import CreditStore
from store.db import Database
from store.inbox import Inbox
from store.invoice_profile import InvoiceProfiles
from store.ledger import Ledger
from store.memory import MemoryStore
from store.migrations import migrate
from store.model_cache import ModelCache
from store.observability import Observability
from store.policies import Policies
from store.recurring import RecurringWork
from store.revisions import RevisionStore
from store.runs import RunStore
from store.side_effects import SideEffects
from store.work import WorkStore


class Store:
    """Repositories over one database, sharing one clock."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or Clock()
        self.clients = ClientStore(db, self.clock)
        self.work = WorkStore(db, self.clock)
        self.billing = BillingStore(db, self.clock)
        self.credits = CreditStore(db, self.clock)
        self.credit_notes = CreditNotes(db, self.clock)
        self.invoice_profiles = InvoiceProfiles(db, self.clock)
        self.artifacts = ArtifactStore(db, self.clock)
        self.conversations = ConversationStore(db, self.clock)
        self.runs = RunStore(db, self.clock)
        self.revisions = RevisionStore(db, self.clock)
        self.ledger = Ledger(db, self.clock)
        self.side_effects = SideEffects(db, self.clock)
        self.model_cache = ModelCache(db, self.clock)
        self.memory = MemoryStore(db, self.clock)
        self.inbox = Inbox(db, self.clock)
        self.policies = Policies(db, self.clock)
        self.observability = Observability(db, self.clock)
        self.autonomy_rules = AutonomyRules(db, self.clock)
        self.recurring = RecurringWork(db, self.clock)
        self.changes = ChangeLog(db, self.clock, self.ledger)

    @classmethod
    def open(cls, url: str, clock: Clock | None = None) -> Store:
        """Connect and bring the schema up to date."""
        store = cls(Database.from_url(url), clock)
        migrate(store.db)
        return store

    def close(self) -> None:
        self.db.close()
