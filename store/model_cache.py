"""A cache of model outputs keyed by model and prompt: identical prompts cost nothing twice."""

from __future__ import annotations

import hashlib

from store.clock import Clock
from store.db import Database


class ModelCache:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    @staticmethod
    def key(model: str, prompt: str) -> str:
        return hashlib.sha256(f"{model}\x00{prompt}".encode()).hexdigest()

    def get(self, model: str, prompt: str) -> str | None:
        return self.db.scalar("SELECT output FROM model_cache WHERE key = ?", (self.key(model, prompt),))

    def put(self, model: str, prompt: str, output: str) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO model_cache (key, model, output, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (key) DO NOTHING",
                (self.key(model, prompt), model, output, self.clock.now()),
            )
