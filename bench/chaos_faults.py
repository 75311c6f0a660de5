"""The faults a chaos phase injects, each kind in a thread of its own until the phase ends:

* ``workers``: SIGKILL a random `coo worker` (at a random moment: between steps or mid-send, as
  the SMTP server holds each reply a little during this phase), start it again 0–2 s later;
* ``postgres``: a fast stop of the cluster every 5–20 s, down 0–5 s, then start;
* ``redis``: every 5–15 s either kill redis-server and start it empty, or FLUSHALL;
* ``smtp``: the mail server gone for 5–15 s at a time;
* ``serve``: SIGKILL `coo serve`, start it again 0–2 s later.

``all`` runs every kind at once. Quick runs (the CI suite) use shorter pauses, so a short phase
still sees each fault more than once."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.chaos_rig import Rig

KINDS = ("workers", "postgres", "redis", "smtp", "serve")
MID_SEND_DELAY = 0.4  # seconds the SMTP server holds its reply while workers are being killed


@dataclass(frozen=True)
class Pace:
    """Seconds between faults of a kind (uniform in the range) and how long a service stays down."""

    workers: tuple[float, float] = (2.0, 6.0)
    postgres: tuple[float, float] = (5.0, 20.0)
    postgres_down: tuple[float, float] = (0.0, 5.0)
    redis: tuple[float, float] = (5.0, 15.0)
    smtp: tuple[float, float] = (3.0, 8.0)
    smtp_down: tuple[float, float] = (5.0, 15.0)
    serve: tuple[float, float] = (5.0, 12.0)
    restart_after: tuple[float, float] = (0.0, 2.0)


FULL = Pace()
QUICK = Pace(
    workers=(1.5, 4.0),
    postgres=(3.0, 6.0),
    postgres_down=(0.0, 3.0),
    redis=(3.0, 6.0),
    smtp=(1.0, 3.0),
    smtp_down=(3.0, 6.0),
    serve=(3.0, 6.0),
    restart_after=(0.0, 1.5),
)


class Faults:
    """Inject ``kinds`` into ``rig`` from :meth:`start` until :meth:`stop`; count each fault."""

    def __init__(self, rig: Rig, kinds: tuple[str, ...], pace: Pace, seed: int) -> None:
        self.rig = rig
        self.kinds = kinds
        self.pace = pace
        self.random = random.Random(seed)
        self.count: dict[str, int] = dict.fromkeys(kinds, 0)
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if "workers" in self.kinds:
            self.rig.smtp.recorder.delay = MID_SEND_DELAY
        loops: dict[str, Callable[[], None]] = {
            "workers": self._kill_worker,
            "postgres": self._restart_postgres,
            "redis": self._break_redis,
            "smtp": self._stop_smtp,
            "serve": self._kill_serve,
        }
        for kind in self.kinds:
            thread = threading.Thread(target=self._loop, args=(kind, loops[kind]), name=f"chaos-{kind}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    @property
    def total(self) -> int:
        return sum(self.count.values())

    def _pause(self, span: tuple[float, float]) -> bool:
        """Sleep a random time in ``span``; False when the phase ended meanwhile."""
        return not self._stop.wait(self.random.uniform(*span))

    def _loop(self, kind: str, inject: Callable[[], None]) -> None:
        while self._pause(getattr(self.pace, kind)):
            try:
                inject()
                self.count[kind] += 1
            except Exception as exc:  # a fault that could not be injected is reported, not fatal
                self.errors.append(f"{kind}: {type(exc).__name__}: {exc}")

    def _restart_after(self) -> None:
        time.sleep(self.random.uniform(*self.pace.restart_after))

    def _kill_worker(self) -> None:
        worker = self.random.choice(self.rig.workers)
        with self.rig.lock:
            worker.kill()
        self._restart_after()
        with self.rig.lock:
            if not worker.alive():
                worker.start()

    def _restart_postgres(self) -> None:
        with self.rig.lock:
            self.rig.pg.stop()
            self.rig.pg_up = False
        time.sleep(self.random.uniform(*self.pace.postgres_down))
        with self.rig.lock:
            self.rig.pg.start()
            self.rig.pg_up = True

    def _break_redis(self) -> None:
        with self.rig.lock:
            if self.random.random() < 0.5:
                self.rig.redis.kill()
                self.rig.redis.start()
            else:
                self.rig.redis.flush()

    def _stop_smtp(self) -> None:
        with self.rig.lock:
            self.rig.smtp.stop()
            self.rig.smtp_up = False
        time.sleep(self.random.uniform(*self.pace.smtp_down))
        with self.rig.lock:
            self.rig.smtp.restart()
            self.rig.smtp_up = True

    def _kill_serve(self) -> None:
        with self.rig.lock:
            self.rig.serve.kill()
        self._restart_after()
        with self.rig.lock:
            if not self.rig.serve.alive():
                self.rig.serve.start()
