"""Clients and the canonical facts every agent reads about them."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

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
        # (version, removals, names) as last read (ClientStore.names)
        self._names: tuple[int, int, tuple[str, ...]] | None = None

    def get(self, client_id: int, tx: Tx | None = None) -> Client:
        sql = "SELECT * FROM clients WHERE id = ?"
        row = tx.fetchone(sql, (client_id,)) if tx else self.db.fetchone(sql, (client_id,))
        if row is None:
            from store.errors import NotFound

            raise NotFound(f"no client with id {client_id}")
        return Client.model_validate(row)

    def find(self, name: str | None = None, email: str | None = None) -> list[Client]:
        """Clients matching a name (exact key first, then prefix/word match) or an e-mail."""
        return self._find(self.db, name, email)

    def _find(self, db: Database | Tx, name: str | None, email: str | None) -> list[Client]:
        # One statement reads the candidates of every fallback (the e-mail, the exact key, the
        # name's words) and Python keeps the first fallback that matched: a new client's name,
        # matching none, costs one round trip instead of three (each scans the table anyway:
        # no index serves lower(contact_email) or LIKE '%word%').
        key = name_key(name) if name else ""
        words = key.split()
        conditions: list[str] = []
        params: list[Any] = []
        if email:
            conditions.append("lower(contact_email) = ?")
            params.append(email.lower())
        if name:
            conditions.append("name_key = ?")
            params.append(key)
        if words:
            # Every match below either holds all of the name's words (so its lower-cased name
            # holds each of them) or is the name cut short by words (its key one of those
            # prefixes): only those clients are read, not every client sharing a common first
            # word ("Scale Client …"), once per new name. Names with non-ASCII letters are
            # always read: Python's lower() can make ASCII letters of them that SQL's does not.
            wide = (
                "octet_length(name) <> char_length(name)"
                if db.dialect == "postgres"
                else "length(CAST(name AS BLOB)) <> length(name)"
            )
            prefixes = [" ".join(words[:i]) for i in range(1, len(words))]
            every_word = " AND ".join("lower(name) LIKE ?" for _ in words)
            cut_short = f" OR name_key IN ({', '.join('?' for _ in prefixes)})" if prefixes else ""
            conditions.append(f"({every_word}) OR {wide}{cut_short}")
            params.extend([*(f"%{w}%" for w in words), *prefixes])
        if not conditions:
            return []
        # by_email: the database's own lower(), as the condition (Python's differs for some letters)
        by_email = "CASE WHEN lower(contact_email) = ? THEN 1 ELSE 0 END" if email else "0"
        rows = db.fetchall(
            f"SELECT *, {by_email} AS by_email FROM clients WHERE {' OR '.join(f'({c})' for c in conditions)}"
            " ORDER BY id",
            [email.lower(), *params] if email else params,
        )
        matched = [r for r in rows if r["by_email"]]
        if not matched and name:
            matched = [r for r in rows if r["name_key"] == key]
            if not matched and words:
                matched = [
                    r
                    for r in rows
                    if name_key(r["name"]).startswith(key + " ")
                    or key.startswith(name_key(r["name"]) + " ")
                    or all(w in name_key(r["name"]).split() for w in words)
                ]
        return [Client.model_validate(r) for r in matched]

    def all(self) -> list[Client]:
        return [Client.model_validate(r) for r in self.db.fetchall("SELECT * FROM clients ORDER BY name_key")]

    def names(self) -> tuple[str, ...]:
        """Every client's name (the parser reads a real company among them as a client). Read
        once, and again only as far as the database's client_names_version moved (triggers bump
        it on any process's insert, rename or delete, and give each new name its version): a
        message costs one small read; after new clients, their names only; after a rename or a
        removal, every name again. The version is read first, so names read after a change are
        never kept under the version before it."""
        row = self.db.fetchone("SELECT version, removals FROM client_names_version WHERE id = 1")
        if row is None:
            return tuple(r["name"] for r in self.db.fetchall("SELECT name FROM clients ORDER BY name_key"))
        version, removals = int(row["version"]), int(row["removals"])
        cached = self._names
        if cached is not None and cached[0] == version:
            return cached[2]
        if cached is not None and cached[1] == removals and cached[0] < version:
            added = self.db.fetchall("SELECT name FROM clients WHERE names_version > ?", (cached[0],))
            # A name committed after the version was read may come too (and again next time).
            names = tuple(dict.fromkeys([*cached[2], *(r["name"] for r in added)]))
        else:
            names = tuple(r["name"] for r in self.db.fetchall("SELECT name FROM clients ORDER BY name_key"))
        self._names = (version, removals, names)
        return names

    def upsert(
        self,
        tx: Tx,
        name: str,
        contact_name: str | None = None,
        contact_email: str | None = None,
        currency: str | None = None,
        *,
        known_new: bool = False,
    ) -> tuple[Client, bool]:
        """The client called ``name``, created if new; returns (client, created). ``known_new``:
        the caller looked this name and e-mail up a moment ago and found no one, so it is
        inserted without a second look-up (one made meanwhile under the same name is found
        after all)."""
        now = self.clock.now()
        insert = (
            "INSERT INTO clients (name, name_key, contact_name, contact_email, currency, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        values = (name, name_key(name), contact_name, contact_email, currency or "USD", now, now)
        if known_new:
            row = tx.fetchone(f"{insert} ON CONFLICT (name_key) DO NOTHING RETURNING *", values)
            if row is not None:
                return Client.model_validate(row), True
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
        row = tx.fetchone(f"{insert} RETURNING *", values)
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
