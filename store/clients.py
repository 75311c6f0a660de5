"""Clients and the canonical facts every agent reads about them."""

from __future__ import annotations

import re
from decimal import Decimal

from store.clock import Clock
from store.db import Database, Tx
from store.models import Client, ClientFact, cents

# Constraint fields an operator can set by saying so; everything else is a free-text fact.
CONSTRAINT_FIELDS = (
    "revision_limit",
    "preferred_channel",
    "hourly_rate_cents",
    "billing_day",
    "contact_email",
    "currency",  # the operator said so ("Globex is billed in EUR from now on"): new invoices use it
)


def name_key(name: str) -> str:
    """Case- and punctuation-insensitive key, so "acme studio" finds "Acme Studio"."""
    return re.sub(r"[^a-z0-9@.]+", " ", name.lower()).strip()


class ClientStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        # (client_names_version, names) of the last read: see names()
        self._names: tuple[int, tuple[str, ...]] | None = None

    def get(self, client_id: int, tx: Tx | None = None) -> Client:
        sql = "SELECT * FROM clients WHERE id = ?"
        row = tx.fetchone(sql, (client_id,)) if tx else self.db.fetchone(sql, (client_id,))
        if row is None:
            from store.errors import NotFound

            raise NotFound(f"no client with id {client_id}")
        return Client.model_validate(row)

    def find(self, name: str | None = None, email: str | None = None) -> list[Client]:
        """Clients matching a name (exact key first, then prefix/word match) or an e-mail."""
        with self.db.reads() as tx:  # each lookup a fallback after the one before
            return self._find(tx, name, email)

    def _find(self, tx: Tx, name: str | None, email: str | None) -> list[Client]:
        if email:
            rows = tx.fetchall("SELECT * FROM clients WHERE lower(contact_email) = ?", (email.lower(),))
            if rows:
                return [Client.model_validate(r) for r in rows]
        if not name:
            return []
        key = name_key(name)
        rows = tx.fetchall("SELECT * FROM clients WHERE name_key = ?", (key,))
        if rows:
            return [Client.model_validate(r) for r in rows]
        words = key.split()
        if not words:
            return []
        # Every match below either holds all of the name's words (so its lower-cased name holds
        # each of them) or is the name cut short by words (its key one of those prefixes): only
        # those clients are read, not every client sharing a common first word ("Scale Client
        # …"), once per new name. Names with non-ASCII letters are always read: Python's lower()
        # can make ASCII letters of them that SQL's does not.
        wide = (
            "octet_length(name) <> char_length(name)"
            if tx.dialect == "postgres"
            else "length(CAST(name AS BLOB)) <> length(name)"
        )
        prefixes = [" ".join(words[:i]) for i in range(1, len(words))]
        every_word = " AND ".join("lower(name) LIKE ?" for _ in words)
        cut_short = f" OR name_key IN ({', '.join('?' for _ in prefixes)})" if prefixes else ""
        rows = tx.fetchall(
            f"SELECT * FROM clients WHERE ({every_word}) OR {wide}{cut_short} ORDER BY id",
            (*(f"%{w}%" for w in words), *prefixes),
        )
        candidates = [Client.model_validate(r) for r in rows]
        return [
            c
            for c in candidates
            if name_key(c.name).startswith(key + " ")
            or key.startswith(name_key(c.name) + " ")
            or (words and all(w in name_key(c.name).split() for w in words))
        ]

    def all(self) -> list[Client]:
        return [Client.model_validate(r) for r in self.db.fetchall("SELECT * FROM clients ORDER BY name_key")]

    def names(self) -> tuple[str, ...]:
        """Every client's name (the parser reads a real company among them as a client). Read
        once and again only when the database's client_names_version moved (a trigger bumps it
        on any process's insert, rename or delete): a message costs one small read, not every
        client. The version is read first, so names read after a change are never kept under
        the version before it."""
        version = self.db.scalar("SELECT version FROM client_names_version WHERE id = 1")
        cached = self._names
        if version is not None and cached is not None and cached[0] == version:
            return cached[1]
        names = tuple(r["name"] for r in self.db.fetchall("SELECT name FROM clients ORDER BY name_key"))
        self._names = (version, names) if version is not None else None
        return names

    def upsert(
        self,
        tx: Tx,
        name: str,
        contact_name: str | None = None,
        contact_email: str | None = None,
        currency: str | None = None,
    ) -> tuple[Client, bool]:
        """The client called ``name``, created if new; returns (client, created)."""
        now = self.clock.now()
        existing = self._find(tx, name, contact_email)
        if len(existing) == 1:
            client = existing[0]
            updates: dict[str, object] = {}
            if contact_email and not client.contact_email:
                updates["contact_email"] = contact_email
            if contact_name and not client.contact_name:
                updates["contact_name"] = contact_name
            if updates:
                sets = ", ".join(f"{k} = ?" for k in updates)
                tx.execute(
                    f"UPDATE clients SET {sets}, updated_at = ? WHERE id = ?", (*updates.values(), now, client.id)
                )
                client = self.get(client.id, tx)
            return client, False
        row = tx.fetchone(
            "INSERT INTO clients (name, name_key, contact_name, contact_email, currency, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (name, name_key(name), contact_name, contact_email, currency or "USD", now, now),
        )
        assert row is not None
        return Client.model_validate(row), True

    def set_constraints(self, tx: Tx, client_id: int, source: str, **values: object) -> list[str]:
        """Set canonical constraint fields; returns operator-readable lines of what changed."""
        client = self.get(client_id, tx)
        changes = []
        for field, value in values.items():
            if value is None:
                continue
            if field == "hourly_rate":
                field, value = "hourly_rate_cents", cents(Decimal(str(value)))
            if field not in CONSTRAINT_FIELDS:
                raise ValueError(f"unknown client constraint {field}")
            old = getattr(client, field)
            if old == value:
                continue
            tx.execute(
                f"UPDATE clients SET {field} = ?, updated_at = ? WHERE id = ?", (value, self.clock.now(), client_id)
            )
            # The old fact is superseded, not deleted: the audit trail shows what changed when.
            tx.execute(
                "UPDATE client_facts SET superseded_at = ? WHERE client_id = ? AND field = ? AND superseded_at IS NULL",
                (self.clock.now(), client_id, field),
            )
            changes.append(f"{field}: {old if old is not None else '—'} → {value}")
            self.add_fact(tx, client_id, f"{field} = {value}", source, field=field, value=str(value))
        return changes

    def add_fact(
        self, tx: Tx, client_id: int, fact: str, source: str, field: str | None = None, value: str | None = None
    ) -> None:
        tx.execute(
            "INSERT INTO client_facts (client_id, fact, field, value, source, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (client_id, fact, field, value, source, self.clock.now()),
        )

    def facts(self, client_id: int) -> list[ClientFact]:
        rows = self.db.fetchall(
            "SELECT * FROM client_facts WHERE client_id = ? AND superseded_at IS NULL ORDER BY id", (client_id,)
        )
        return [ClientFact.model_validate(r) for r in rows]

    def rename(self, tx: Tx, client_id: int, name: str) -> None:
        tx.execute(
            "UPDATE clients SET name = ?, name_key = ?, updated_at = ? WHERE id = ?",
            (name, name_key(name), self.clock.now(), client_id),
        )

    def set_contact(self, tx: Tx, client_id: int, email: str, contact_name: str | None) -> None:
        tx.execute(
            "UPDATE clients SET contact_email = ?, contact_name = COALESCE(?, contact_name), updated_at = ? WHERE id = ?",
            (email, contact_name, self.clock.now(), client_id),
        )
