"""What must hold after a chaos phase, counted (issue #14): every acknowledged message and tap
answered exactly once, every approved e-mail at the SMTP server exactly once or the operator told
it may or may not have gone out, no approval stuck, no invoice number skipped or reused, every
side effect in the ledger with its receipt, the books check clean."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.chaos_flows import Driver, Flow, _approve_id
from store.runs import FINISHED, SETTLED

NUMBER_PROBLEMS = ("number_gap", "number_duplicate", "counter_mismatch")


@dataclass
class PhaseResult:
    phase: str
    flows: int
    faults: int
    fault_kinds: dict[str, int]
    acknowledged: int  # messages and taps coo answered 2xx
    answered: int  # of those, answered (card for a message, outcome line for a tap)
    lost: int  # acknowledged and never answered, or approved and neither sent nor told uncertain
    duplicated_answers: int  # a second card or outcome line for one request
    duplicated_emails: int
    uncertain: int  # told "may or may not have gone out"
    retrying: int  # told NOT SENT and when the next attempt comes (the backoff outlasted the bound)
    crashed: int  # coo processes that exited on their own (not killed by a fault)
    unfinished: int  # flows that did not end within the settle bound
    stuck: int  # runs neither final nor waiting on a card the operator was shown
    number_gaps: int  # invoice numbers skipped, reused, or a counter past its last number
    missing_receipts: int
    books_ok: bool
    recover_s: float | None  # faults ended → every flow answered and no run moving (None: not within the bound)
    max_flow_s: float  # the slowest flow, first send to outcome
    unacknowledged_sends: int  # requests coo refused or failed (re-sent, as the platforms do)
    details: list[str] = field(default_factory=list)

    @property
    def violations(self) -> int:
        return (
            self.lost
            + self.duplicated_answers
            + self.duplicated_emails
            + self.crashed
            + self.unfinished
            + self.stuck
            + self.number_gaps
            + self.missing_receipts
            + (0 if self.books_ok else 1)
        )

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "violations": self.violations}


def _recipients(rig_smtp: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in rig_smtp.messages:
        to = str(message.get("To") or "").strip().lower()
        counts[to] = counts.get(to, 0) + 1
    return counts


def check_flows(driver: Driver, flows: list[Flow], result: PhaseResult) -> None:
    driver.refresh()
    sent = _recipients(driver.rig.smtp)
    for flow in flows:
        cards = driver.cards(flow)
        outcomes = driver.outcomes(flow)
        uncertain = any("may or may not have gone out" in text for text in outcomes)
        emails = sum(n for to, n in sent.items() if flow.email in to)
        tag = f"flow {flow.index} ({flow.channel})"
        if flow.message_acked is not None:
            result.acknowledged += 1
            result.answered += 1 if cards else 0
            if not cards:
                result.lost += 1
                result.details.append(f"{tag}: message acknowledged, no card")
        if len(cards) > 1:
            result.duplicated_answers += len(cards) - 1
            result.details.append(f"{tag}: {len(cards)} cards")
        said = [str(c.get("text") or "") for c in driver.replies(flow)]
        not_sent = [text for text in said if text.startswith("⚠️ NOT SENT")]
        retrying = not outcomes and bool(not_sent) and "I'll try again at" in not_sent[-1]
        if flow.tap_acked is not None:
            result.acknowledged += 1
            result.answered += 1 if outcomes or retrying else 0
            if retrying:
                # Told it was not sent and when it is tried again: an answer, not a loss; the
                # next attempt (1, 5, 30 minutes on) came after the phase's bound.
                result.retrying += 1
                result.details.append(f"{tag}: told NOT SENT, retry scheduled after the bound")
            elif not outcomes:
                result.lost += 1
                result.details.append(f"{tag}: tap acknowledged, no outcome line")
            elif emails == 0 and not uncertain:
                result.lost += 1
                result.details.append(f"{tag}: told sent, but no e-mail reached the SMTP server")
        if len(outcomes) > 1:
            result.duplicated_answers += len(outcomes) - 1
            result.details.append(f"{tag}: {len(outcomes)} outcome lines")
        if emails > 1:
            result.duplicated_emails += emails - 1
            result.details.append(f"{tag}: {emails} e-mails to {flow.email}")
        result.uncertain += 1 if uncertain else 0
        if flow.finished is None and not retrying:
            result.unfinished += 1
            state = "no ack" if flow.message_acked is None else "no card" if flow.card is None else "no outcome"
            result.details.append(f"{tag}: unfinished ({state}; {flow.message_sends} sends, {flow.tap_sends} taps)")


def busy_runs(database_url: str) -> int | None:
    """Runs still moving (neither final nor waiting on the operator); None while the database
    cannot be asked."""
    import psycopg

    settled = list(SETTLED)
    try:
        with psycopg.connect(database_url, connect_timeout=3) as conn:
            row = conn.execute("SELECT COUNT(*) FROM runs WHERE NOT (status = ANY(%s))", (settled,)).fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else 0


def shown_approvals(driver: Driver) -> set[int]:
    shown = driver.console_shown()
    for call in [*driver.rig.slack.recorded("chat.postMessage"), *driver.rig.telegram.recorded("sendMessage")]:
        approval = _approve_id(call)
        if approval is not None:
            shown.add(approval)
    return shown


def check_store(driver: Driver, result: PhaseResult) -> None:
    """The database's side, over everything so far (a violation stays counted in later phases)."""
    from store.books_check import run_check
    from store.facade import Store

    store = Store.open(driver.rig.pg.url)
    try:
        shown = shown_approvals(driver)
        db = store.db
        for run in db.fetchall("SELECT id, status FROM runs ORDER BY created_at"):
            status = str(run["status"])
            if status in FINISHED or status == "paused":
                continue
            if status == "waiting_approval":
                pending = db.fetchall("SELECT id FROM approvals WHERE run_id = ? AND status = 'pending'", (run["id"],))
                if pending and all(int(a["id"]) in shown for a in pending):
                    continue
            result.stuck += 1
            result.details.append(f"run {run['id']} stuck in {status}")
        for row in db.fetchall(
            "SELECT run_id, step FROM ledger WHERE kind = 'side_effect' AND receipt IS NULL"
            " UNION ALL SELECT run_id, key AS step FROM side_effects WHERE status = 'done' AND receipt IS NULL"
        ):
            result.missing_receipts += 1
            result.details.append(f"side effect of run {row['run_id']} ({row['step']}) without a receipt")
        books = run_check(db)
        result.books_ok = books.ok
        for problem in books.problems:
            if problem.kind in NUMBER_PROBLEMS:
                result.number_gaps += 1
            result.details.append(f"books: {problem.line()}")
    finally:
        store.close()


def duplicates(driver: Driver, flows: list[Flow]) -> int:
    """Second cards, outcome lines and e-mails of these flows, counted now: run at the end, it
    catches a duplicate that came after its phase was counted."""
    driver.refresh()
    sent = _recipients(driver.rig.smtp)
    extra = 0
    for flow in flows:
        extra += max(0, len(driver.cards(flow)) - 1) + max(0, len(driver.outcomes(flow)) - 1)
        extra += max(0, sum(n for to, n in sent.items() if flow.email in to) - 1)
    return extra


def secrets_in_logs(paths: list[Path], secrets: tuple[str, ...]) -> list[str]:
    """Log lines that carry a token or secret (the Bot API URL holds the Telegram token)."""
    found = []
    for path in paths:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if any(secret in line for secret in secrets):
                found.append(f"{path.name}:{number}")
    return found
