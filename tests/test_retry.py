"""`coo retry RUN`: a failed run again from its last good checkpoint, as the operator runs it.
What went out is never sent twice; an e-mail that may have gone out is sent again only after
the operator says so."""

from __future__ import annotations

from store.facade import Store

CLIENT = "new client: Northwind, contact ops@northwind.example\n"
INVOICE = "invoice Northwind $2,000 for october design work\n"


def _store(url: str, clock) -> Store:
    return Store.open(url, clock)


def _last_run(url: str, clock):
    store = _store(url, clock)
    try:
        return store.runs.recent(1)[0]
    finally:
        store.close()


def test_a_send_the_server_refused_is_retried_once_fixed(coo, db_url, smtp, clock):
    env = {"COO_DATABASE_URL": db_url, "COO_SMTP_URL": smtp.url}
    smtp.recorder.data_reply = "550 5.7.1 Relaying denied"
    out = coo(["chat"], env, stdin=CLIENT + INVOICE + "/approve 1\n")
    assert "NOT SENT" in out.stdout and smtp.messages == []
    run = _last_run(db_url, clock)
    assert run.status == "failed"

    smtp.recorder.data_reply = None  # the operator fixed the mail settings
    retried = coo(["retry", run.id[:8]], env)
    assert retried.returncode == 0, retried.stderr
    assert "Sent invoice #INV-0001 to ops@northwind.example" in retried.stdout
    assert len(smtp.messages) == 1
    assert _last_run(db_url, clock).status == "done"

    again = coo(["retry", run.id], env)
    assert (
        again.returncode == 1
        and f"Run {run.id} is done; only a failed run (or one whose e-mail may not have gone out) can be retried."
        in again.stderr
    )
    assert len(smtp.messages) == 1
    shown = coo(["ledger", run.id], env).stdout
    assert "retry_requested" in shown and shown.count("side_effect ") == 1


def test_an_uncertain_send_asks_first(coo, sqlite_url, smtp, clock):
    env = {"COO_DATABASE_URL": sqlite_url, "COO_SMTP_URL": smtp.url}
    coo(["chat"], env, stdin=CLIENT + INVOICE)
    run = _last_run(sqlite_url, clock)
    store = _store(sqlite_url, clock)
    approval = store.runs.pending_approvals()[0]
    # A worker died after the mail server took the message, before the receipt was written.
    store.side_effects.claim(f"{run.id}:{approval.step}", run.id, approval.action)
    store.close()
    out = coo(["chat"], env, stdin="/approve 1\n")
    assert "may or may not have gone out" in out.stdout and smtp.messages == []
    assert _last_run(sqlite_url, clock).status == "sent_uncertain"

    asked = coo(["retry", run.id], env)  # not at a terminal: no is the answer
    assert asked.returncode == 2
    assert "may have gone out. Send it again anyway?" in asked.stderr and "Nothing was sent" in asked.stderr
    assert f"coo retry {run.id} --yes" in asked.stderr and smtp.messages == []

    sent = coo(["retry", run.id, "--yes"], env)
    assert sent.returncode == 0 and "Sent invoice #INV-0001" in sent.stdout
    assert len(smtp.messages) == 1
    assert coo(["retry", run.id, "--yes"], env).returncode == 1 and len(smtp.messages) == 1
    assert "uncertain_send_released" in coo(["ledger", run.id], env).stdout


def test_a_run_whose_step_kept_failing_continues_from_where_it_stopped(coo, sqlite_url, smtp, clock, monkeypatch):
    import graphs.step_registry as registry

    env = {"COO_DATABASE_URL": sqlite_url, "COO_SMTP_URL": smtp.url}
    original = registry.STEPS["prepare_invoice"]
    calls = {"n": 0}

    def broken(deps, state):
        calls["n"] += 1
        original(deps, state)  # the invoice is made, then the step dies
        raise ConnectionError("database connection lost")

    coo(["chat"], env, stdin=CLIENT)
    with monkeypatch.context() as patched:
        patched.setitem(registry.STEPS, "prepare_invoice", broken)
        out = coo(["chat"], env, stdin=INVOICE)
    assert "failed: database connection lost" in out.stdout
    run = _last_run(sqlite_url, clock)
    assert run.status == "failed" and calls["n"] >= 1

    retried = coo(["retry", run.id], env)
    assert retried.returncode == 0, retried.stderr
    assert f"Run {run.id} retried: now waiting_approval." in retried.stdout
    assert "Invoice #INV-0001 for Northwind: $2,000.00" in retried.stdout and "[/approve 1]" in retried.stdout
    store = _store(sqlite_url, clock)
    try:
        assert store.db.scalar("SELECT COUNT(*) AS n FROM invoices") == 1  # the first attempt's invoice
        assert store.db.scalar("SELECT COUNT(*) AS n FROM approvals") == 1
    finally:
        store.close()
    assert "Sent invoice #INV-0001" in coo(["chat"], env, stdin="/approve 1\n").stdout
    assert len(smtp.messages) == 1


def test_retry_of_an_unknown_run_says_so(coo, sqlite_url):
    out = coo(["retry", "nope"], {"COO_DATABASE_URL": sqlite_url})
    assert out.returncode == 1 and "There is no run nope." in out.stderr
