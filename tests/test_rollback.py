"""`coo rollback RUN`: the compensating action of each side effect, newest first, each through
the normal approval rules and recorded; what cannot be compensated is listed."""

from __future__ import annotations

from store.facade import Store

RETAINER = (
    "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example\n"
)
CLIENT = "new client: Northwind, contact ops@northwind.example\n"
INVOICE = "invoice Northwind $2,000 for october design work\n"


def _run_of(url: str, clock, kind: str) -> str:
    store = Store.open(url, clock)
    try:
        return next(r.id for r in store.runs.recent(50) if r.kind == kind)
    finally:
        store.close()


def test_rollback_of_a_sent_invoice_voids_it_with_a_credit_note_once_approved(coo, db_url, smtp, clock):
    env = {"COO_DATABASE_URL": db_url, "COO_SMTP_URL": smtp.url}
    coo(["chat"], env, stdin=CLIENT + INVOICE + "/approve 1\n")
    assert len(smtp.messages) == 1
    run = _run_of(db_url, clock, "create_invoice")

    out = coo(["rollback", run], env)
    assert out.returncode == 0, out.stderr
    assert f"Rollback of run {run}, newest first:" in out.stdout
    assert "→ invoice INV-0001 sent to ops@northwind.example: void INV-0001 with a credit note" in out.stdout
    assert "Void INV-0001 and send credit note CN-0001 to ops@northwind.example?" in out.stdout
    assert len(smtp.messages) == 1  # nothing goes out before the approval
    store = Store.open(db_url, clock)
    try:
        assert store.billing.get("INV-0001").status == "sent"
    finally:
        store.close()
    again = coo(["rollback", run], env)  # a second rollback starts nothing new
    assert again.returncode == 0 and "[/approve 3]" not in again.stdout

    said = coo(["chat"], env, stdin="/approve 2\n").stdout
    assert "CN-0001" in said
    assert len(smtp.messages) == 2
    store = Store.open(db_url, clock)
    try:
        assert store.billing.get("INV-0001").status == "void"
        assert store.db.scalar("SELECT COUNT(*) AS n FROM credit_notes") == 1
    finally:
        store.close()
    ledger = coo(["ledger", run], env).stdout
    assert ledger.count("compensation_requested") == 1
    assert coo(["books", "check"], env).returncode == 0


def test_rollback_of_a_retainer_corrects_the_proposal_and_ends_the_billing(coo, sqlite_url, smtp, clock):
    env = {"COO_DATABASE_URL": sqlite_url, "COO_SMTP_URL": smtp.url}
    coo(["chat"], env, stdin=RETAINER + "/approve 1\n")
    run = _run_of(sqlite_url, clock, "retainer_signup")
    out = coo(["rollback", run], env).stdout
    proposal = out.index("→ proposal 'Proposal for Acme Studio")
    retainer = out.index("→ Acme Studio's retainer: monthly invoices and weekly reports scheduled: end the retainer")
    assert proposal < retainer  # newest first: the proposal went out after the retainer was recorded
    assert "Subject: Correction: Proposal for Acme Studio" in out and "[/approve 2]" in out
    assert "End Acme Studio's retainer ($4,000.00/month" in out
    assert len(smtp.messages) == 1
    done = coo(["chat"], env, stdin="yes\n/approve 2\n").stdout
    assert "Sent e-mail to jane@acme.example" in done
    assert len(smtp.messages) == 2 and smtp.messages[1]["Subject"].startswith("Correction: Proposal")
    store = Store.open(sqlite_url, clock)
    try:
        assert store.work.active_retainer(store.clients.find("Acme Studio")[0].id) is None
    finally:
        store.close()


def test_rollback_cancels_a_scheduled_retry_and_lists_what_cannot_be_undone(coo, sqlite_url, smtp, clock):
    env = {"COO_DATABASE_URL": sqlite_url, "COO_SMTP_URL": smtp.url}
    smtp.recorder.data_reply = "451 4.3.0 Try again later"
    coo(["chat"], env, stdin=CLIENT + INVOICE + "/approve 1\n")
    run = _run_of(sqlite_url, clock, "create_invoice")
    out = coo(["rollback", run], env).stdout
    assert "→ the next automatic attempt at a send_invoice that was not sent: cancelled" in out
    store = Store.open(sqlite_url, clock)
    try:
        assert all(f.retry_at is None for f in store.side_effects.not_sent(run))
    finally:
        store.close()
    smtp.recorder.data_reply = None
    clock.advance(minutes=2)
    coo(["chat"], env, stdin="")  # a worker start would schedule what is due: nothing is
    assert smtp.messages == []

    client = _run_of(sqlite_url, clock, "new_client")
    nothing = coo(["rollback", client], env).stdout
    assert "✗ a change: added the client Northwind: a change to coo's own records, not a side effect" in nothing
    assert coo(["rollback", "r-none"], env).returncode == 1

    coo(["chat"], env, stdin="invoice Northwind $300 for the icons\n")
    waiting = _run_of(sqlite_url, clock, "create_invoice")
    listed = coo(["rollback", waiting], env).stdout
    assert "✗ approval #2 (Send invoice #INV-0002 to ops@northwind.example) still waiting" in listed
    assert "nothing was sent for it yet: /reject 2 drops it" in listed
