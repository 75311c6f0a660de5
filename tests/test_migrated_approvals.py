"""Migrations keep everything: after `coo export` + `coo import` (SQLite ⇄ PostgreSQL) a waiting
approval still works — the card is shown again, /approve sends exactly once, /reject works, and
a second tap tells the truth. LangGraph checkpoints stay behind; the runs are re-planned."""

from __future__ import annotations

import pytest

from store.facade import Store
from store.snapshot import export_snapshot, import_snapshot, read_snapshot, write_snapshot
from tests.conftest import ChatDriver

DIRECTIONS = ["sqlite_to_postgres", "postgres_to_sqlite"]


def _move(chat: ChatDriver, target_url: str, clock, tmp_path) -> None:
    path = tmp_path / "snap.json"
    write_snapshot(export_snapshot(chat.runtime.store.db, clock.now()), path)
    target = Store.open(target_url, clock)
    try:
        import_snapshot(target.db, read_snapshot(path))
    finally:
        target.close()


def _waiting_invoice(chat: ChatDriver) -> None:
    chat.say("new client: Northwind, contact ops@northwind.example")
    shown = chat.say("invoice Northwind $2,000 for october design work")
    assert "[/approve 1]" in shown


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_approve_after_import_sends_exactly_once(direction, make_runtime, sqlite_url, pg_url, smtp, clock, tmp_path):
    source_url, target_url = (sqlite_url, pg_url) if direction == "sqlite_to_postgres" else (pg_url, sqlite_url)
    source = ChatDriver(make_runtime(database_url=source_url, smtp_url=smtp.url))
    _waiting_invoice(source)
    _move(source, target_url, clock, tmp_path)

    from graphs.revival import revive_waiting_runs

    runtime = make_runtime(database_url=target_url, smtp_url=smtp.url)
    revived = revive_waiting_runs(runtime.supervisor)
    assert revived == [1]
    run = runtime.store.runs.pending_approvals()[0].run_id
    texts = [m.text for m in runtime.store.conversations.messages_after("console", "console", 0)]
    assert sum("[/approve 1]" in t for t in texts) == 2  # the card, and the card again after the move
    assert "approval #1 is still waiting for your decision" in texts[-1]
    assert runtime.store.runs.get(run).status == "waiting_approval"
    assert revive_waiting_runs(runtime.supervisor) == []  # once: the run is checkpointed again

    chat = ChatDriver(runtime)
    said = chat.say("/approve 1")
    assert "Sent invoice #INV-0001 to ops@northwind.example" in said
    assert "no saved state" not in said
    assert len(smtp.messages) == 1
    again = chat.say("/approve 1")
    assert "already approved" in again and len(smtp.messages) == 1
    assert runtime.store.runs.get(run).status == "done"
    assert runtime.store.billing.get("INV-0001").status == "sent"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_reject_after_import_without_revival_heals_itself(
    direction, make_runtime, sqlite_url, pg_url, smtp, clock, tmp_path
):
    """A snapshot imported by an older coo (no re-planning at import): the tap itself re-plans."""
    source_url, target_url = (sqlite_url, pg_url) if direction == "sqlite_to_postgres" else (pg_url, sqlite_url)
    source = ChatDriver(make_runtime(database_url=source_url, smtp_url=smtp.url))
    _waiting_invoice(source)
    _move(source, target_url, clock, tmp_path)

    chat = ChatDriver(make_runtime(database_url=target_url, smtp_url=smtp.url))
    said = chat.say("/reject 1")
    assert "Rejected: invoice #INV-0001 was not sent and is now void" in said
    assert "no saved state" not in said
    assert smtp.messages == []
    assert "already rejected" in chat.say("/approve 1") and smtp.messages == []
    run = chat.runtime.store.runs.recent(1)[0]
    assert run.status == "rejected"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_coo_import_shows_waiting_cards_again(direction, coo, sqlite_url, pg_url, smtp, tmp_path):
    source_url, target_url = (sqlite_url, pg_url) if direction == "sqlite_to_postgres" else (pg_url, sqlite_url)
    source = {"COO_DATABASE_URL": source_url, "COO_SMTP_URL": smtp.url}
    target = {"COO_DATABASE_URL": target_url, "COO_SMTP_URL": smtp.url}
    coo(
        ["chat"],
        source,
        stdin="new client: Northwind, contact ops@northwind.example\ninvoice Northwind $2,000 for october design\n",
    )
    assert coo(["export", str(tmp_path / "snap.json")], source).returncode == 0
    out = coo(["import", str(tmp_path / "snap.json")], target)
    assert out.returncode == 0, out.stderr
    assert "1 approval(s) still waiting, shown again in their threads: #1." in out.stdout
    chat = coo(["chat"], target, stdin="/approve 1\n/approve 1\n")
    assert "Sent invoice #INV-0001 to ops@northwind.example" in chat.stdout
    assert "already approved" in chat.stdout and "Traceback" not in chat.stdout + chat.stderr
    assert len(smtp.messages) == 1


def test_every_kind_of_waiting_card_survives_the_move(make_runtime, sqlite_url, pg_url, smtp, clock, tmp_path):
    source = ChatDriver(make_runtime(database_url=sqlite_url, smtp_url=smtp.url))
    source.say(
        "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example"
    )
    source.say("new client: Northwind, contact ops@northwind.example")
    source.say("email Northwind that the mockups are ready for review")
    source.say("invoice Northwind $2,000 for october design work")
    waiting = [a.id for a in source.runtime.store.runs.pending_approvals()]
    assert waiting == [1, 2, 3]
    source.say("/edit 2 subject=Mockups ready")  # an edit made before the move is what goes out
    _move(source, pg_url, clock, tmp_path)

    from graphs.revival import revive_waiting_runs

    runtime = make_runtime(database_url=pg_url, smtp_url=smtp.url)
    assert revive_waiting_runs(runtime.supervisor) == [1, 2, 3]
    chat = ChatDriver(runtime)
    assert "Sent proposal #P-0001 to jane@acme.example" in chat.say("/approve 1")
    assert "Sent e-mail to ops@northwind.example" in chat.say("/approve 2")
    assert "Rejected: invoice #INV-0001 was not sent and is now void" in chat.say("/reject 3")
    subjects = [m["Subject"] for m in smtp.messages]
    assert len(subjects) == 2 and "Mockups ready" in subjects
    assert runtime.store.runs.pending_approvals() == []
    assert {r.status for r in runtime.store.runs.recent(10)} <= {"done", "rejected"}


def test_a_run_decided_just_before_the_export_finishes_after_the_import(coo, sqlite_url, pg_url, smtp, clock, tmp_path):
    source = {"COO_DATABASE_URL": sqlite_url, "COO_SMTP_URL": smtp.url}
    coo(["chat"], source, stdin="new client: Northwind, contact ops@northwind.example\n" + "invoice Northwind $2,000\n")
    store = Store.open(sqlite_url, clock)
    try:
        approval = store.runs.pending_approvals()[0]
        # Approved in chat; the resume job was still in the old Redis when the export ran.
        assert store.runs.decide(approval.id, "approved", "UOPERATOR", "slack")
        store.runs.set_status(approval.run_id, "resuming")
    finally:
        store.close()
    assert coo(["export", str(tmp_path / "snap.json")], source).returncode == 0
    out = coo(["import", str(tmp_path / "snap.json")], {"COO_DATABASE_URL": pg_url, "COO_SMTP_URL": smtp.url})
    assert out.returncode == 0, out.stderr
    assert "No approvals were waiting." in out.stdout
    assert f"1 run(s) decided before the export finished now: {approval.run_id}." in out.stdout
    assert len(smtp.messages) == 1
    target = Store.open(pg_url, clock)
    try:
        assert target.runs.get(approval.run_id).status == "done"
        assert target.billing.get("INV-0001").status == "sent"
    finally:
        target.close()


def test_slack_card_after_a_move_to_postgres_is_shown_again_and_its_button_sends_once(
    slack_api, smtp, serve, sqlite_url, pg_url, clock, tmp_path
):
    from graphs.revival import AGAIN, revive_waiting_runs
    from tests.channels import OPERATOR, RETAINER, button, dm, slack_settings

    before = serve(**slack_settings(slack_api), database_url=sqlite_url, smtp_url=smtp.url)
    assert before.slack_event(dm(RETAINER, "1764082800.000100"), "Ev100").status_code == 200
    before.settle()
    assert [a.id for a in before.runtime.store.runs.pending_approvals()] == [1]
    path = tmp_path / "snap.json"
    write_snapshot(export_snapshot(before.runtime.store.db, clock.now()), path)
    before.stop()
    target = Store.open(pg_url, clock)
    import_snapshot(target.db, read_snapshot(path))
    target.close()

    after = serve(**slack_settings(slack_api), database_url=pg_url, smtp_url=smtp.url)
    assert revive_waiting_runs(after.runtime.supervisor) == [1]  # what `coo import` does
    after.settle()
    # The chat still has the card (the snapshot carries its delivery): it is brought up to date in
    # place, and the thread hears that it still waits.
    [card] = [c for c in slack_api.recorded("chat.postMessage") if c.get("blocks")]
    [update] = slack_api.wait_for("chat.update")
    assert update["ts"] == card["posted"]["ts"]
    actions = [e["action_id"] for b in update["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["coo:approve:1", "coo:edit:1", "coo:reject:1"]
    told = slack_api.wait_for("chat.postMessage", text=AGAIN.format(n=1))
    assert told and told[0]["thread_ts"] == "1764082800.000100"

    assert after.slack_interaction(button(card, "approve", 1)).status_code == 200
    assert len(smtp.wait_for(1)) == 1
    after.settle()
    after.slack_interaction(button(card, "approve", 1, action_ts="1764082901.000009"))
    after.settle()
    texts = [c.get("text") or "" for c in slack_api.recorded("chat.postMessage")]
    assert any(t.startswith("Sent proposal #P-0001 to jane@acme.example") for t in texts)
    assert any(f"already approved by {OPERATOR}" in t for t in texts)
    assert len(smtp.messages) == 1
    assert after.runtime.store.runs.get(after.runtime.store.runs.approval(1).run_id).status == "done"
