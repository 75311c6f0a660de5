"""`coo replay RUN [--from STEP]`: the run again on a fork, the original untouched, every side
effect held for approval, and the decisions that differ printed — as the operator runs it."""

from __future__ import annotations

from store.facade import Store

CLIENT = "new client: Northwind, contact ops@northwind.example\n"
INVOICE = "invoice Northwind $2,000 for october design work\n"


def _runs(url: str, clock):
    store = Store.open(url, clock)
    try:
        return {r.id: r for r in store.runs.recent(50)}, store.ledger
    finally:
        store.close()


def _invoice_run(url: str, clock) -> str:
    store = Store.open(url, clock)
    try:
        return next(r.id for r in store.runs.recent(50) if r.kind == "create_invoice")
    finally:
        store.close()


def test_replay_shows_why_a_decision_changed_and_sends_nothing(coo, db_url, smtp, clock):
    env = {"COO_DATABASE_URL": db_url, "COO_SMTP_URL": smtp.url}
    coo(["chat"], env, stdin=CLIENT + INVOICE + "/approve 1\n")
    assert len(smtp.messages) == 1
    run = _invoice_run(db_url, clock)
    before = coo(["ledger", run], env).stdout
    coo(["chat"], env, stdin="change Northwind's email to billing@northwind.example\nyes\n")

    out = coo(["replay", run[:8]], env)
    assert out.returncode == 0, out.stderr
    said = out.stdout
    assert f"Replay of run {run} as run r-" in said and "(the original is untouched): waiting_approval." in said
    assert "Same decisions: intent, context, plan." in said
    assert "approval send_invoice differs:" in said
    assert "- original: Send invoice #INV-0001 to ops@northwind.example" in said
    assert "+ replay:   Send invoice #INV-0002 to billing@northwind.example" in said
    assert "outcome differs:" in said and "(not reached: the replay waits for approval)" in said
    assert "Held for approval: #2 Send invoice #INV-0002 to billing@northwind.example, its card in the run" in said
    assert len(smtp.messages) == 1  # held, not sent
    assert coo(["ledger", run], env).stdout == before  # the original is untouched
    fork = said.split(" as run ")[1].split(" ")[0]
    assert "replay_started" in coo(["ledger", fork], env).stdout

    # The held side effect goes through the normal approval rules: rejected, nothing goes out.
    assert "Rejected: invoice #INV-0002 was not sent and is now void" in coo(["chat"], env, stdin="/reject 2\n").stdout
    assert len(smtp.messages) == 1


def test_replay_from_a_step_keeps_the_decisions_before_it(coo, sqlite_url, smtp, clock):
    env = {"COO_DATABASE_URL": sqlite_url, "COO_SMTP_URL": smtp.url}
    coo(["chat"], env, stdin=CLIENT + INVOICE)
    run = _invoice_run(sqlite_url, clock)
    out = coo(["replay", run, "--from", "record_credit_use"], env)
    assert out.returncode == 0, out.stderr
    assert f"Replay of run {run} from step record_credit_use as run r-" in out.stdout
    # prepare_invoice is the original's (not run again): no second invoice, no second approval
    assert "step prepare_invoice" in out.stdout.split("Same decisions:")[1].split("\n")[0]
    store = Store.open(sqlite_url, clock)
    try:
        assert store.db.scalar("SELECT COUNT(*) AS n FROM invoices") == 1
        assert [a.id for a in store.runs.pending_approvals()] == [1]
        assert store.runs.get(run).status == "waiting_approval"
    finally:
        store.close()

    bad = coo(["replay", run, "--from", "send_everything"], env)
    assert bad.returncode == 1
    assert f"Run {run} has no step send_everything; its steps: prepare_invoice, record_credit_use." in bad.stderr
    missing = coo(["replay", "r-nothing"], env)
    assert missing.returncode == 1 and "There is no run r-nothing." in missing.stderr


def test_a_replay_holds_what_autonomy_sent_on_its_own(coo, sqlite_url, smtp, clock):
    env = {"COO_DATABASE_URL": sqlite_url, "COO_SMTP_URL": smtp.url}
    coo(
        ["chat"],
        env,
        stdin="Acme Studio signed the retainer: $4,000 a month, bill on the 25th, contact jane@acme.example\n"
        "/approve 1\n/autonomy invoicer auto\n",
    )
    assert coo(["tick", "--date", "2026-11-25"], env).returncode == 0
    assert len(smtp.messages) == 2  # the proposal, then the month's invoice without a card
    store = Store.open(sqlite_url, clock)
    try:
        invoice = store.billing.get("INV-0001")
        assert invoice is not None and invoice.status == "sent" and invoice.run_id
        run = invoice.run_id
    finally:
        store.close()
    out = coo(["replay", run], env).stdout
    assert "Held for approval: #3 " in out and "waiting_approval" in out
    assert len(smtp.messages) == 2


def test_a_replay_never_books_twice_and_asks_again_for_confirmed_changes(coo, sqlite_url, smtp, clock):
    env = {"COO_DATABASE_URL": sqlite_url, "COO_SMTP_URL": smtp.url}
    coo(
        ["chat"],
        env,
        stdin=CLIENT + INVOICE + "/approve 1\nNorthwind paid $2,000\nrename Northwind to Northwind Ltd\nyes\n",
    )
    store = Store.open(sqlite_url, clock)
    try:
        payment = next(r.id for r in store.runs.recent(50) if r.kind == "record_payment")
        rename = next(r.id for r in store.runs.recent(50) if r.kind == "rename_client")
        assert store.clients.find("Northwind Ltd")
    finally:
        store.close()
    refused = coo(["replay", payment], env)
    assert refused.returncode == 1
    assert "its step record_payment changes the records without asking" in refused.stderr
    out = coo(["replay", rename], env)
    assert out.returncode == 0, out.stderr
    # The world moved on since: the replay finds the client under its new name and changes nothing.
    assert '"confirmed": false' in out.stdout and "+ replay:   client Northwind Ltd" in out.stdout
    assert "Nothing changed: the client is already called Northwind Ltd." in out.stdout
    store = Store.open(sqlite_url, clock)
    try:
        assert store.db.scalar("SELECT COUNT(*) AS n FROM payments") == 1
        assert store.clients.find("Northwind Ltd")
    finally:
        store.close()
