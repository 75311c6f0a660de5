"""The embedded `coo serve` (SQLite, in-process queue) stopped after Slack got its 200 but
before the message was processed: the input is saved, and the next start processes it — the
in-process queue dies with its process, so what it held is queued again from the inbox."""

from __future__ import annotations

from typing import Any

import pytest

from tests.channels import dm, slack_settings


def test_a_message_the_embedded_serve_took_but_never_processed_is_answered_after_a_restart(
    slack_api: Any, serve: Any, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from store.jobqueue import InProcessQueue

    real_enqueue = InProcessQueue.enqueue
    monkeypatch.setattr(InProcessQueue, "enqueue", lambda self, func, job_id, spec, **kw: True)  # the process dies
    first = serve(**slack_settings(slack_api), database_url=sqlite_url)
    assert first.slack_event(dm("what's overdue?", "1764082800.000900"), "EvE1").status_code == 200
    assert first.runtime.store.db.scalar("SELECT status FROM inbox") == "queued"
    first.stop()
    monkeypatch.setattr(InProcessQueue, "enqueue", real_enqueue)

    again = serve(**slack_settings(slack_api), database_url=sqlite_url)
    again.settle()
    answers = [c["text"] for c in slack_api.recorded("chat.postMessage") if "overdue" in c["text"].lower()]
    assert len(answers) == 1, answers
    assert again.runtime.store.db.scalar("SELECT status FROM inbox") == "done"
