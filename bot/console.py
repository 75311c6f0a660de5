"""The console adapter: `coo chat`. Reads lines, hands them to the core, prints replies.

Each line waits for its run to settle (done, failed, or waiting for approval) before the
next is read, so piped input behaves like a script.
"""

from __future__ import annotations

import getpass
import logging
import sys
import time
import uuid
from typing import TextIO

from bot.intake import Intake, IntakeUnavailable
from bot.jobs import process
from bot.runtime import Runtime
from graphs.envelope import Envelope
from store.errors import StoreError
from store.outage import is_outage

log = logging.getLogger(__name__)

THREAD = "console"
PROGRESS_AFTER = 1.5  # seconds before the operator is told the work is still going
NUDGE_AFTER = 15.0


def _print_reply(text: str, out: TextIO) -> None:
    lines = text.splitlines() or [""]
    out.write(f"coo> {lines[0]}\n")
    for line in lines[1:]:
        out.write(f"     {line}\n")
    out.flush()


class ConsoleChat:
    def __init__(self, runtime: Runtime, out: TextIO, *, settle_timeout: float = 300.0) -> None:
        self.runtime = runtime
        self.out = out
        self.user = getpass.getuser()
        self.settle_timeout = settle_timeout
        self.intake = Intake(runtime.store, runtime.queue)
        self.seen = runtime.store.conversations.last_message_id()
        self._catch_up()

    def _catch_up(self) -> None:
        """Replies that arrived while no console was open (e.g. from a worker) are shown first."""
        missed = [m for m in self.runtime.store.conversations.undelivered("console") if m.thread_id == THREAD]
        if missed:
            _print_reply(f"While you were away ({len(missed)} message{'s' if len(missed) != 1 else ''}):", self.out)
            for message in missed:
                _print_reply(message.text, self.out)
                self.runtime.store.conversations.mark_delivered(message.id)

    def send(self, text: str) -> None:
        """Handle one line and print every reply it produced."""
        env = Envelope(channel="console", event_id=uuid.uuid4().hex, thread_id=THREAD, user_id=self.user, text=text)
        try:
            item_id = self.intake.save_here(env)  # the one door: saved first, then handled here
        except (IntakeUnavailable, StoreError) as exc:
            _print_reply(f"I couldn't save that: {exc}. Nothing was done; please try again.", self.out)
            return
        try:
            handled = process(self.runtime, item_id) if item_id is not None else None
        except Exception as exc:  # a failure is said in the thread by the inbox (and logged)
            log.exception("console message failed")
            if is_outage(exc):
                # Nothing was said in the thread (the database went away mid-way): the line is
                # saved, and `coo serve` or `coo worker` handles it once the database is back.
                _print_reply(
                    "I lost the database while handling that; it is saved and is handled once the database "
                    "is back. The reply will show with your next message.",
                    self.out,
                )
            self._show_new()
            return
        try:
            self._wait(handled.run_ids if handled else [])
        except Exception as exc:  # the database dropped while we watched: the work goes on without us
            log.warning("console lost track of its run: %s", exc)
            _print_reply(
                "I lost the database while waiting for that; it is saved and carries on. "
                "The reply will show with your next message.",
                self.out,
            )
            return
        self._show_new()

    def _show_new(self) -> None:
        """Print what arrived; with the database gone it shows with the next line instead (the
        console outlives an outage: a crash here would end the operator's session)."""
        try:
            self._flush()
        except Exception as exc:
            log.warning("console could not read its replies: %s", exc)
            _print_reply("I can't reach the database right now; the reply will show with your next message.", self.out)

    def _wait(self, run_ids: list[str]) -> None:
        started = time.monotonic()
        told = nudged = False
        pause = 0.001  # most runs settle in milliseconds: look often first, then back off
        while self.runtime.store.runs.unsettled(run_ids):
            elapsed = time.monotonic() - started
            if elapsed > self.settle_timeout:
                _print_reply(
                    "Still working on it in the background; the reply will show with your next message.", self.out
                )
                return
            if not told and elapsed > PROGRESS_AFTER:
                _print_reply("Working on it…", self.out)
                told = True
            if not nudged and elapsed > NUDGE_AFTER and self.runtime.settings.redis_url:
                _print_reply("Still queued — is `coo worker` running?", self.out)
                nudged = True
            self._flush()
            self.runtime.queue.pause(pause)  # the embedded queue wakes it when a job finishes
            pause = min(pause * 2, 0.02)

    def _flush(self) -> None:
        for message in self.runtime.store.conversations.messages_after("console", THREAD, self.seen):
            _print_reply(message.text, self.out)
            self.seen = message.id  # before marking: a failed mark must not print it here again
            self.runtime.store.conversations.mark_delivered(message.id)


def chat(runtime: Runtime, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """Run the console chat until end of input."""
    console = ConsoleChat(runtime, out)
    interactive = stdin.isatty()
    if interactive:
        out.write("coo — your back office. Type /help for what I can do, Ctrl-D to leave.\n")
    while True:
        if interactive:
            out.write("you> ")
            out.flush()
        line = stdin.readline()
        if not line:
            break
        text = line.rstrip("\n")
        if not text.strip():
            continue
        if not interactive:
            out.write(f"you> {text}\n")
        console.send(text)
    return 0
