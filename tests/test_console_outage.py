"""`coo chat` outlives a database outage while it waits on a run (issue #14's console flows).

The console watches the run a line started until it settles, then prints what arrived. A
PostgreSQL restart during that watch raised out of the loop and ended the `coo chat` process
(the operator's session gone, the next typed line never read). The line was already saved, so
the work carries on; the console says so and shows the reply with the next line."""

from __future__ import annotations

from typing import Any

import pytest

from store.errors import StoreUnavailable

INVOICE = "invoice Chaos Bcdf $101 for design work, contact billing-bcdf@chaos.example"


def _fail_once(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, error: Exception | None = None) -> list[int]:
    """``owner.name`` raises ``error`` (the database gone, by default) on its first call only."""
    real = getattr(owner, name)
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise error or StoreUnavailable("cannot reach PostgreSQL: the server closed the connection")
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, flaky)
    return calls


def test_the_console_goes_on_when_the_database_drops_while_it_waits_on_a_run(chat, monkeypatch):
    calls = _fail_once(monkeypatch, chat.runtime.store.runs, "unsettled")
    said = chat.say(INVOICE)
    assert calls, "the console did not wait on the run"
    assert "I lost the database while waiting for that" in said
    assert "[/approve" not in said
    chat.runtime.queue.wait_idle()
    later = chat.say("any approvals waiting?")
    assert "Send it to billing-bcdf@chaos.example?" in later and "[/approve 1]" in later
    assert later.count("Send it to billing-bcdf@chaos.example?") == 1


def test_a_connection_that_drops_while_the_line_is_saved_is_told_and_the_next_line_works(chat, monkeypatch):
    import psycopg

    # The driver's own error, as a connection cut mid-statement raises it.
    dropped = psycopg.OperationalError("server closed the connection unexpectedly")
    _fail_once(monkeypatch, chat.runtime.store.inbox, "save", dropped)
    said = chat.say("new client: Northwind, contact ops@northwind.example")
    assert said == (
        "coo> I couldn't save that: server closed the connection unexpectedly. Nothing was done; please try again.\n"
    )
    assert chat.runtime.store.clients.all() == []
    assert "Added client Northwind" in chat.say("new client: Northwind, contact ops@northwind.example")


def test_a_failed_line_whose_reply_cannot_be_read_shows_it_with_the_next_line(chat, monkeypatch):
    _fail_once(monkeypatch, chat.runtime.conversation, "handle", ValueError("the parser tripped"))
    calls = _fail_once(monkeypatch, chat.runtime.store.conversations, "messages_after")
    said = chat.say("what's overdue?")
    assert calls
    assert said == "coo> I can't reach the database right now; the reply will show with your next message.\n"
    later = chat.say("what's overdue?")
    assert "Sorry — I couldn't process that (message): the parser tripped." in later
    assert later.count("the parser tripped") == 1


def test_a_line_the_database_dropped_mid_way_is_said_saved_and_answered_later(chat, monkeypatch):
    from bot.intake import Intake

    calls = _fail_once(monkeypatch, chat.runtime.conversation, "handle")
    said = chat.say("new client: Northwind, contact ops@northwind.example")
    assert calls
    assert said.startswith(
        "coo> I lost the database while handling that; it is saved and is handled once the database is back."
    )
    runtime = chat.runtime
    assert runtime.store.db.scalar("SELECT status FROM inbox") == "saved"
    # `coo serve` (or `coo worker`) queues saved inputs every few seconds: its sweep, here.
    assert Intake(runtime.store, runtime.queue).sweep() == 1
    runtime.queue.wait_idle()
    later = chat.say("who are my clients?")
    assert "Added client Northwind (ops@northwind.example)." in later
    assert "Northwind <ops@northwind.example>" in later
