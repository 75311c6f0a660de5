"""Working memory: what a chat thread is about right now (the client, the retainer, the last
run), so follow-ups like "bill them on the 15th instead" know who "them" is.

Redis with a TTL in production (shared by web and workers); a dict with expiry in process for
the embedded default. Only small ids and labels live here — the facts stay in the store.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Protocol

from pydantic import BaseModel

from store.errors import StoreUnavailable

DEFAULT_TTL = 6 * 3600  # a conversation's context fades after a working day's pause


class ThreadContext(BaseModel):
    client_id: int | None = None
    client_name: str | None = None
    retainer_id: int | None = None
    run_id: str | None = None
    kind: str | None = None


class WorkingMemory(Protocol):
    def remember(self, thread_key: str, context: ThreadContext) -> None: ...

    def recall(self, thread_key: str) -> ThreadContext | None: ...


class InProcessWorkingMemory:
    def __init__(self, ttl: float = DEFAULT_TTL, clock: Any = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._items: dict[str, tuple[float, ThreadContext]] = {}
        self._lock = threading.Lock()

    def remember(self, thread_key: str, context: ThreadContext) -> None:
        with self._lock:
            self._items[thread_key] = (self._clock() + self.ttl, context)

    def recall(self, thread_key: str) -> ThreadContext | None:
        with self._lock:
            item = self._items.get(thread_key)
            if item is None or item[0] < self._clock():
                self._items.pop(thread_key, None)
                return None
            return item[1]


class RedisWorkingMemory:
    def __init__(self, redis_url: str, ttl: int = DEFAULT_TTL) -> None:
        from redis import Redis

        self.redis = Redis.from_url(redis_url)
        self.ttl = ttl

    @staticmethod
    def _key(thread_key: str) -> str:
        return f"coo:thread:{thread_key}"

    def remember(self, thread_key: str, context: ThreadContext) -> None:
        from redis.exceptions import RedisError

        try:
            self.redis.set(self._key(thread_key), context.model_dump_json(), ex=self.ttl)
        except RedisError as exc:
            raise StoreUnavailable(f"cannot reach Redis for the thread's working memory: {exc}") from exc

    def recall(self, thread_key: str) -> ThreadContext | None:
        from redis.exceptions import RedisError

        try:
            raw = self.redis.get(self._key(thread_key))
        except RedisError:
            return None  # losing a follow-up's context is better than refusing the message
        return None if raw is None else ThreadContext.model_validate(json.loads(raw))
