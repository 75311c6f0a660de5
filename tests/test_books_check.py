"""`coo books check`: the books' invariants, on clean books, on books corrupted in SQL (each
problem named), in the daily tick and the digest; and a Hypothesis state machine that drives
random invoices, edits, sends, rejections, payments, credits and bank imports through the real
store API and the reconciler, checking the books after every step."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from agents.digest_writer import write_digest
from agents.reconciler import import_payments
from graphs.tick import run_day
from store.billing import OPEN_STATUSES, NewLine
from store.books_check import check_books, find_problems
from store.clock import FixedClock
from store.errors import StoreError
from store.facade import Store
from store.models import Invoice
from tests.conftest import NOW, CliResult

DAY = date(2026, 11, 25)


def line(amount: str, description: str = "design work", quantity: str = "1") -> NewLine:
    return NewLine(description=description, quantity=Decimal(quantity), unit_price=Decimal(amount))


def send(store: Store, invoice: Invoice, *, sent: bool = True) -> None:
    """What graphs/actions.perform leaves behind: the claim, the status, then the receipt."""
    assert invoice.run_id
    key = f"{invoice.run_id}:send_invoice"
    assert store.side_effects.claim(key, invoice.run_id, "send_invoice").status == "claimed"
    with store.db.transaction() as tx:
        store.billing.set_status(tx, invoice.id, "sent" if sent else "issued")
    store.side_effects.complete(key, {"sent": sent, "message_id": f"<{key}@test>", "idempotency_key": key})


def reject(store: Store, invoice: Invoice) -> None:
    """What graphs/actions.reject does to a draft invoice."""
    with store.db.transaction() as tx:
        store.billing.set_status(tx, invoice.id, "void")


def pay(store: Store, invoice: Invoice | None, amount: str, currency: str, run_id: str, client_id: int) -> None:
    with store.db.transaction() as tx:
        current = store.billing.locked(tx, invoice.id) if invoice else None
        store.billing.record_payment(tx, client_id, current, Decimal(amount), currency, DAY, None, run_id)


def seed(store: Store) -> dict[str, Invoice]:
    """INV-0001 Acme $1,000 sent, $400 paid · INV-0002 Globex €500 issued, paid · INV-0003 Acme
    draft · INV-0004 Acme rejected (void) · a $50 credit from Acme applied to no invoice."""
    with store.db.transaction() as tx:
        acme, _ = store.clients.upsert(tx, "Acme Studio", contact_email="jane@acme.example", currency="USD")
        globex, _ = store.clients.upsert(tx, "Globex GmbH", contact_email="billing@globex.de", currency="EUR")
        made = [
            store.billing.create_invoice(
                tx, client.id, [line(amount)], currency, date(2026, 11, 1), date(2026, 12, 1), f"seed-{n}"
            )
            for n, (client, amount, currency) in enumerate(
                [(acme, "1000", "USD"), (globex, "500", "EUR"), (acme, "300", "USD"), (acme, "200", "USD")]
            )
        ]
    send(store, made[0])
    send(store, made[1], sent=False)
    reject(store, made[3])
    pay(store, made[0], "400", "USD", "pay-1", acme.id)
    pay(store, made[1], "500", "EUR", "pay-2", globex.id)
    pay(store, None, "50", "USD", "pay-3", acme.id)
    return {i.number: store.billing.by_id(i.id) for i in made}


@pytest.fixture
def store(db_url: str, clock, coo_env, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """Seeded books that `coo` (in process) reads too."""
    monkeypatch.setenv("COO_DATABASE_URL", db_url)
    opened = Store.open(db_url, clock)
    seed(opened)
    yield opened
    opened.close()


def corrupt(store: Store) -> None:
    """One of each kind of damage, written straight into the tables."""
    with store.db.transaction() as tx:
        tx.execute("UPDATE invoices SET paid_cents = paid_cents + 100 WHERE number = 'INV-0001'")
        inv2 = tx.scalar("SELECT id FROM invoices WHERE number = 'INV-0002'")
        tx.execute("UPDATE payments SET currency = 'USD' WHERE invoice_id = ?", (inv2,))
        tx.execute("DELETE FROM side_effects WHERE key = 'seed-1:send_invoice'")
        inv3 = tx.scalar("SELECT id FROM invoices WHERE number = 'INV-0003'")
        tx.execute("UPDATE invoice_lines SET total_cents = total_cents + 1 WHERE invoice_id = ?", (inv3,))
        tx.execute("UPDATE invoices SET seq = 6, series_seq = 6, number = 'INV-0006' WHERE number = 'INV-0004'")


def test_books_check_command_on_clean_and_corrupted_books(store: Store, coo: Callable[..., CliResult]) -> None:
    result = coo(["books", "check"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "Books OK: 4 invoices, 3 payments checked."

    corrupt(store)
    result = coo(["books", "check"])
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    found = {(p.kind, p.invoice_number) for p in check_books(store.db)}
    assert len(lines) == len(found)
    assert found == {
        ("paid_mismatch", "INV-0001"),  # $401 paid on the invoice, $400 in payments
        ("currency_mismatch", "INV-0002"),  # a USD payment applied to a EUR invoice
        ("missing_receipt", "INV-0002"),  # issued, but its send left no receipt
        ("total_mismatch", "INV-0003"),  # lines add up to a cent more than the total
        ("number_gap", "INV-0003"),  # 4 and 5 missing after it
        ("counter_mismatch", None),  # counter at 4, last number 6
    }
    assert "paid_mismatch: INV-0001: paid $401.00 but its 1 payment(s) add up to $400.00" in lines
    assert "number_gap: INV-0003: numbers 4 to 5 are missing after it" in lines
    assert "problem(s)" not in result.stdout
    assert "Books: 6 problem(s)" in result.stderr


def test_each_invariant_is_named(store: Store) -> None:
    """Damage the SQL layer allows but the books must not show, one kind at a time."""
    cases: list[tuple[str, str, tuple[str, str | None]]] = [
        ("status", "UPDATE invoices SET status = 'paid' WHERE number = 'INV-0001'", ("status_mismatch", "INV-0001")),
        (
            "draft paid",
            "UPDATE invoices SET status = 'draft' WHERE number = 'INV-0002'",
            ("status_mismatch", "INV-0002"),
        ),
        ("dup", "UPDATE invoices SET number = 'inv-0001' WHERE number = 'INV-0003'", ("number_duplicate", "INV-0001")),
        ("format", "UPDATE invoices SET number = 'INV-3' WHERE number = 'INV-0003'", ("number_format", "INV-3")),
        ("negative", "UPDATE payments SET amount_cents = -5000 WHERE run_id = 'pay-3'", ("bad_amount", None)),
        ("orphan", "UPDATE payments SET client_id = NULL WHERE run_id = 'pay-3'", ("orphan_credit", None)),
        (
            "client",
            "UPDATE payments SET client_id = (SELECT id FROM clients WHERE name = 'Globex GmbH') WHERE run_id = 'pay-1'",
            ("client_mismatch", "INV-0001"),
        ),
        (
            "interrupted",
            "UPDATE side_effects SET status = 'sending', receipt = NULL WHERE key = 'seed-0:send_invoice'",
            ("missing_receipt", "INV-0001"),
        ),
        ("counter", "UPDATE counters SET value = 9 WHERE name = 'invoice'", ("counter_mismatch", None)),
        (
            "first",
            "UPDATE invoices SET seq = 7, series_seq = 7, number = 'INV-0007' WHERE number = 'INV-0001'",
            ("number_gap", "INV-0002"),
        ),
    ]
    assert check_books(store.db) == []
    for name, sql, expected in cases:
        with store.db.transaction() as tx:
            tx.execute("SAVEPOINT damage")
            tx.execute(sql)
            found = {(p.kind, p.invoice_number) for p in find_problems(tx)}
            tx.execute("ROLLBACK TO SAVEPOINT damage")
        assert expected in found, (name, found)
    assert check_books(store.db) == []


def test_credit_uses_are_checked(store: Store) -> None:
    """Acme's $50 credit held by its draft INV-0003, then damaged one way at a time; sent, it
    counts as paid."""
    draft = store.billing.get("INV-0003")
    assert draft is not None
    with store.db.transaction() as tx:
        held = store.billing.hold_credit(tx, draft)
    assert held is not None and held.amount_cents == 5000 and held.source == "payment received 2026-11-25"
    cases: list[tuple[str, str, tuple[str, str | None]]] = [
        ("overdrawn", "UPDATE credit_applications SET amount_cents = 9000", ("credit_overdrawn", None)),
        ("currency", "UPDATE credit_applications SET currency = 'EUR'", ("credit_mismatch", "INV-0003")),
        (
            "held on a sent invoice",
            "UPDATE invoices SET status = 'issued' WHERE number = 'INV-0003'",
            (
                "credit_mismatch",
                "INV-0003",
            ),
        ),
        ("applied, not counted", "UPDATE credit_applications SET status = 'applied'", ("paid_mismatch", "INV-0003")),
    ]
    assert check_books(store.db) == []
    for name, sql, expected in cases:
        with store.db.transaction() as tx:
            tx.execute("SAVEPOINT damage")
            tx.execute(sql)
            found = {(p.kind, p.invoice_number) for p in find_problems(tx)}
            tx.execute("ROLLBACK TO SAVEPOINT damage")
        assert expected in found, (name, found)
    assert store.billing.credits() == []  # held: not there to use twice
    send(store, draft)
    sent = store.billing.by_id(draft.id)
    assert (sent.status, sent.paid_cents) == ("partially_paid", 5000)
    assert check_books(store.db) == []


def test_only_drafts_can_have_their_lines_replaced(store: Store) -> None:
    sent = store.billing.get("INV-0001")
    assert sent is not None
    with pytest.raises(StoreError, match="INV-0001 is partially_paid; only drafts can be edited"):
        with store.db.transaction() as tx:
            store.billing.replace_lines(tx, sent.id, [line("5")], date(2026, 12, 30))
    assert check_books(store.db) == []


def test_a_payment_said_in_chat_without_a_currency_keeps_the_books_straight(chat) -> None:
    store = chat.runtime.store
    seed(store)
    with store.db.transaction() as tx:  # INV-0002 (EUR) issued and not paid yet
        tx.execute("UPDATE invoices SET paid_cents = 0, status = 'issued' WHERE number = 'INV-0002'")
        tx.execute("DELETE FROM payments WHERE run_id = 'pay-2'")
    assert check_books(store.db) == []
    chat.say("Globex GmbH paid 500 for INV-0002")
    assert check_books(store.db) == []


class NoSubmissions:
    """The tick's submitter, for books without retainers: nothing is ever submitted."""

    def submit(self, env: Any, intent: dict[str, Any], text: str) -> Any:
        raise AssertionError("no retainer, nothing to submit")


def test_daily_tick_raises_broken_books_once_and_the_digest_shows_them(sqlite_url: str, clock: FixedClock) -> None:
    store = Store.open(sqlite_url, clock)
    try:
        seed(store)
        assert run_day(store, NoSubmissions(), DAY).books_problems == 0
        assert "Books:" not in write_digest(store, DAY).text
        assert store.db.scalar("SELECT COUNT(*) FROM messages WHERE thread_id = ?", (f"books-{DAY}",)) == 0

        corrupt(store)
        for _ in range(2):  # a second tick the same day (another worker, a retry) adds nothing
            assert run_day(store, NoSubmissions(), DAY).books_problems == 6
        posted = store.db.fetchall(
            "SELECT * FROM messages WHERE channel = 'digest' AND thread_id = ?", (f"books-{DAY}",)
        )
        assert len(posted) == 1
        assert posted[0]["text"].startswith("The books have 6 problem(s) — run `coo books check`:")
        events = [e for e in store.ledger.events(f"tick-{DAY}") if e.kind == "books_checked"]
        assert [e.payload["problems"] for e in events] == [0, 6]
        assert events[-1].payload["kinds"]["number_gap"] == 1
        assert "Books: 6 problem(s) — run coo books check" in write_digest(store, DAY).text
        assert "Books: 6 problem(s)" in write_digest(store, date(2026, 11, 27)).text  # before the 27th's tick

        with store.db.transaction() as tx:  # the operator repairs the books; the next tick sees it
            tx.execute("UPDATE invoices SET paid_cents = paid_cents - 100 WHERE number = 'INV-0001'")
        assert run_day(store, NoSubmissions(), DAY).books_problems == 5
        assert "Books: 5 problem(s)" in write_digest(store, DAY).text
        assert len(store.db.fetchall("SELECT id FROM messages WHERE thread_id = ?", (f"books-{DAY}",))) == 1
    finally:
        store.close()


# -- property: random operations through the real API keep the books straight -----------------

CURRENCIES = st.sampled_from(["USD", "EUR"])
AMOUNTS = st.integers(min_value=1, max_value=500_000).map(lambda c: str(Decimal(c) / 100))
LINES = st.lists(st.tuples(AMOUNTS, st.sampled_from(["1", "2", "0.5", "3.25"])), min_size=1, max_size=3).map(
    lambda items: [line(price, quantity=qty) for price, qty in items]
)


class Books(RuleBasedStateMachine):
    """Two clients (USD, EUR) and whatever the rules do to their books, on a fresh SQLite file."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="coo-books-")
        self.store = Store.open(f"sqlite:///{self.dir}/coo.sqlite3", FixedClock(NOW, "UTC"))
        with self.store.db.transaction() as tx:
            self.clients = [
                self.store.clients.upsert(tx, name, contact_email=None, currency=currency)[0].id
                for name, currency in (("Acme Studio", "USD"), ("Globex GmbH", "EUR"))
            ]
        self.n = 0

    def _run(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.n}"

    def _invoices(self, *statuses: str) -> list[Invoice]:
        marks = ", ".join("?" for _ in statuses)
        rows = self.store.db.fetchall(f"SELECT id FROM invoices WHERE status IN ({marks}) ORDER BY seq", statuses)
        return [self.store.billing.by_id(r["id"]) for r in rows]

    @rule(client=st.integers(0, 1), currency=CURRENCIES, lines=LINES, use_credit=st.booleans())
    def create(self, client: int, currency: str, lines: list[NewLine], use_credit: bool) -> None:
        with self.store.db.transaction() as tx:
            made = self.store.billing.create_invoice(
                tx, self.clients[client], lines, currency, DAY, date(2026, 12, 25), self._run("inv")
            )
            if use_credit:  # what graphs/steps.prepare_invoice does: the client's credit goes towards it
                self.store.billing.hold_credit(tx, made)

    @rule(pick=st.integers(0, 50), lines=LINES)
    def edit_draft(self, pick: int, lines: list[NewLine]) -> None:
        drafts = self._invoices("draft")
        if drafts:
            with self.store.db.transaction() as tx:
                self.store.billing.replace_lines(tx, drafts[pick % len(drafts)].id, lines, date(2026, 12, 30))

    @rule(pick=st.integers(0, 50), sent=st.booleans())
    def send_draft(self, pick: int, sent: bool) -> None:
        drafts = self._invoices("draft")
        if drafts:
            send(self.store, drafts[pick % len(drafts)], sent=sent)

    @rule(pick=st.integers(0, 50))
    def reject_draft(self, pick: int) -> None:
        drafts = self._invoices("draft")
        if drafts:
            reject(self.store, drafts[pick % len(drafts)])

    @rule(pick=st.integers(0, 50), share=st.sampled_from(["all", "part", "over"]))
    def pay_open(self, pick: int, share: str) -> None:
        open_now = self._invoices(*OPEN_STATUSES)
        if not open_now:
            return
        invoice = open_now[pick % len(open_now)]
        amount = {"all": invoice.balance, "part": invoice.balance / 2, "over": invoice.balance + 10}[share]
        amount = max(amount.quantize(Decimal("0.01")), Decimal("0.01"))
        pay(self.store, invoice, str(amount), invoice.currency, self._run("pay"), invoice.client_id)

    @rule(client=st.integers(0, 1), amount=AMOUNTS, currency=CURRENCIES)
    def credit(self, client: int, amount: str, currency: str) -> None:
        pay(self.store, None, amount, currency, self._run("credit"), self.clients[client])

    @precondition(lambda self: self.n > 0)
    @rule(pick=st.integers(0, 50), twice=st.booleans(), wrong_currency=st.booleans())
    def import_export(self, pick: int, twice: bool, wrong_currency: bool) -> None:
        """A bank export naming an open invoice (sometimes in the other currency), imported once
        or twice: the reconciler records what matches exactly and asks about the rest."""
        open_now = self._invoices(*OPEN_STATUSES)
        if not open_now:
            return
        invoice = open_now[pick % len(open_now)]
        currency = {"USD": "EUR", "EUR": "USD"}[invoice.currency] if wrong_currency else invoice.currency
        data = (
            "Date,Description,Amount,Currency\n"
            f"11/24/2026,ACH CREDIT REF {invoice.number},{invoice.balance:.2f},{currency}\n"
        ).encode()
        for _ in range(2 if twice else 1):
            import_payments(
                self.store,
                data,
                "bank.csv",
                run_id=self._run("imp"),
                channel="console",
                thread_id="import-payments",
                user_id="test",
            )

    @invariant()
    def books_are_straight(self) -> None:
        assert check_books(self.store.db) == []

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)


Books.TestCase.settings = settings(
    max_examples=25, stateful_step_count=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_books_stay_straight_under_random_operations = Books.TestCase
