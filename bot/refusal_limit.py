"""Strangers are refused cheaply: each unknown Slack user or Telegram chat gets at most
``per_user`` polite refusals per ``per_user_seconds``, and all strangers together at most ``burst`` refusals per
``window_seconds``. Past that nothing is saved or queued (the request is still answered 200, so
the platform does not retry): a flood of strangers costs a signature check and a dictionary
look-up each, and can never fill the queue in front of the operator's work."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque

log = logging.getLogger(__name__)


class RefusalLimiter:
    def __init__(
        self,
        *,
        per_user: int = 3,
        per_user_seconds: float = 600.0,
        burst: int = 20,
        window_seconds: float = 60.0,
        remember: int = 10_000,
    ) -> None:
        self.per_user = per_user
        self.per_user_seconds = per_user_seconds
        self.burst = burst
        self.window_seconds = window_seconds
        self.remember = remember
        self._sent: OrderedDict[str, deque[float]] = OrderedDict()  # who -> when refused lately
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        self.dropped = 0

    def allow(self, who: str) -> bool:
        """True when ``who`` (channel:user) may be sent a refusal now."""
        # Monotonic, not business time: this paces requests, it dates nothing.
        now = time.monotonic()
        with self._lock:
            mine = self._sent.get(who) or deque()
            while mine and now - mine[0] > self.per_user_seconds:
                mine.popleft()
            while self._recent and now - self._recent[0] > self.window_seconds:
                self._recent.popleft()
            if len(mine) >= self.per_user or len(self._recent) >= self.burst:
                self.dropped += 1
                if self.dropped % 100 == 1:
                    log.warning("strangers: %d refusal(s) not sent (rate-limited); latest from %s", self.dropped, who)
                return False
            mine.append(now)
            self._sent[who] = mine
            self._sent.move_to_end(who)
            if len(self._sent) > self.remember:
                self._sent.popitem(last=False)
            self._recent.append(now)
            return True
