"""The front door of the core: one verified ``Envelope`` in, replies and queued runs out.

Commands (/approve, /edit, /reject), clarifying questions and their answers, and new
requests all come through here. A request with side effects is persisted (intent + run, with
the channel's event id as idempotency key) *before* it is queued, so nothing accepted is lost
when the queue is down; help, unknown text and questions are answered at once.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from agents.llm import attribute_to
from graphs import confirm, risk_review
from graphs.approvals import ADDRESS_HINT, Draft, apply_edit, card_buttons, is_address, render_card
from graphs.chase import chase_event_id, chase_summary, overdue_by_client
from graphs.chat_commands import autonomy_command, open_deliverables_text
from graphs.command_registry import command_list, help_text, lookup
from graphs.commands import EDIT_HELP, Command, Decide, Edit, EditError, EditFields
from graphs.deps import Deps
from graphs.envelope import Envelope
from graphs.handled import Handled
from graphs.intents import (
    Help,
    Intent,
    PaymentReminder,
    RecordPayment,
    SmallTalk,
    Unknown,
    intent_from_dict,
    intent_to_dict,
)
from graphs.parsing import IntentParser, ParseResult
from graphs.payment_match import (
    TARGET_FIELD,
    Uncertain,
    answer_target,
    in_full,
    is_target_answer,
    match_payment,
)
from graphs.plans import plan_for, plan_for_run
from graphs.policy_command import policy_command
from graphs.profile_commands import billing_command, profile_command
from graphs.replies import question_for
from graphs.sending import resend, schedule_retries
from graphs.suggestions import not_understood, small_talk_reply
from store.conversations import PendingQuestion
from store.db import Tx
from store.errors import StoreUnavailable
from store.jobqueue import JobQueue, JobSpec
from store.models import Approval, Decided

log = logging.getLogger(__name__)

_COMMAND = re.compile(r"^/(\w+)(?:@\S+)?\s*(.*)$", re.S)
_PRONOUN = re.compile(r"\b(?:them|they|their|him|her|his|this\s+client|that\s+client)\b", re.I)
_FOLLOW_UP_KINDS = frozenset({"update_terms", "client_profile"})
_CANCEL = re.compile(r"^\s*(cancel|never ?mind|nvm|forget it|stop)\b", re.I)


class JobNames(BaseModel):
    """Dotted paths of the job functions (they live in the composition root)."""

    run: str
    resume: str
    send_retry: str


def new_run_id() -> str:
    return "r-" + secrets.token_hex(5)


# The run a message would start, chosen before parsing so model calls can be booked to it.
_message_run: ContextVar[str | None] = ContextVar("message_run", default=None)
# Whether the message's channel shows an acknowledgement ("On it.") for work it starts.
_post_ack: ContextVar[bool] = ContextVar("post_ack", default=False)
# What the caller writes in the transaction that accepts the message's request (the job that
# processes a saved input marks it done there: one round trip fewer, and done exactly when
# accepted); set with the message, once.
_with_accept: ContextVar[list[Callable[[Tx], None]] | None] = ContextVar("with_accept", default=None)
# Whether the message's thread may have a question open (False once it was read and none was):
# a request accepted in a thread without one has no question to close.
_question_open: ContextVar[bool] = ContextVar("question_open", default=True)

ACK = "On it."
# A clarifying question older than this is not answered by the next message: it lapses.
QUESTION_TTL = timedelta(hours=12)
# Questions and lookups: never an answer to a question about a field.
_QUERY_KINDS = frozenset(
    {"status_query", "recall", "client_profile", "help", "earnings", "client_balance", "invoice_list", "invoice_lookup"}
)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _same_name(a: str, b: str) -> bool:
    return a.casefold().strip() == b.casefold().strip()


# A reply that is nothing but a value of the asked field ("$4,000", "INV-0007") is the answer,
# whatever else it could be read as on its own (an invoice look-up, an earnings question).
_BARE_VALUES = {
    "amount": re.compile(
        r"^\s*(?:[$€£]|usd|eur|gbp|chf)?\s*\d[\d.,'’ ]*\s*(?:k|m|[$€£]|usd|eur|gbp|chf|dollars?|euros?|pounds?)?"
        r"\s*[.!]?\s*$",
        re.I,
    ),
    "invoice_number": re.compile(
        r"^\s*(?:(?:inv(?:oice)?[-\s#]*|#)?[A-Z]{0,5}-?\d{1,6}|[A-Z0-9]+(?:[-/._][A-Z0-9]+)*[-/._]\d{1,9})\s*[.!]?\s*$",
        re.I,
    ),
}


def _bare_value(field: str, text: str) -> bool:
    money = field.endswith("amount") or field in ("hourly_rate", "unit_price", "rate")
    pattern = _BARE_VALUES.get("amount" if money else field)
    return bool(pattern and pattern.match(text))


def _is_own_request(pending: PendingQuestion, parsed: ParseResult) -> bool:
    """Whether a message sent while a question waits is a request of its own rather than the
    answer: a question or lookup, a request about another client, or a complete request of
    another kind, or the same request said again in full. A bare value ("$4,000", "Acme",
    "the 15th", "12 hours of logo work at $95/h") is an answer."""
    intent = parsed.intent
    if isinstance(intent, Unknown | SmallTalk):  # "ok" to "change it?" is a yes, not a request
        return False
    if intent.kind == "invoice_lookup" and pending.fields[:1] == ["invoice_number"]:
        return False  # "INV-0001" to "Which invoice?" is the answer, not a lookup
    if intent.kind in _QUERY_KINDS:
        return True
    named = getattr(intent, "client_name", None)
    waiting_for = pending.intent.get("client_name")
    if named and waiting_for and not _same_name(named, waiting_for):
        return True
    complete = not intent.missing_fields() and not parsed.problems
    # Complete and of another kind, or the whole request said again with its client.
    return complete and (intent.kind != pending.intent.get("kind") or bool(named))


class Conversation:
    def __init__(self, deps: Deps, parser: IntentParser, queue: JobQueue, jobs: JobNames) -> None:
        self.deps = deps
        self.store = deps.store
        self.parser = parser
        self.queue = queue
        self.jobs = jobs

    def reply(self, env: Envelope, text: str, payload: dict[str, Any] | None = None) -> None:
        self.store.conversations.post(
            env.channel, env.thread_id, text, payload=payload, dedupe=f"reply:{env.idempotency_key}"
        )

    def _note(self, env: Envelope, text: str) -> None:
        """A side remark about this message (its own dedupe key: the message's reply still comes)."""
        self.store.conversations.post(env.channel, env.thread_id, text, dedupe=f"note:{env.idempotency_key}")

    def handle(
        self, env: Envelope, *, post_ack: bool = False, with_accept: Callable[[Tx], None] | None = None
    ) -> Handled:
        """Handle one operator message exactly once (a redelivered event is a no-op). With
        ``post_ack``, work it starts is acknowledged in the thread ("On it."), written in the
        same transaction as the run, so the acknowledgement always comes before the answer.
        ``with_accept``: written in the transaction that accepts the message's request, if it
        makes one (``Handled.wrote_with_accept`` then)."""
        run_id = new_run_id()
        token = _message_run.set(run_id)
        ack_token = _post_ack.set(post_ack)
        accept_token = _with_accept.set([with_accept] if with_accept else None)
        try:
            with attribute_to(run_id):
                return self._handle(env)
        finally:
            _with_accept.reset(accept_token)
            _post_ack.reset(ack_token)
            _message_run.reset(token)

    def _handle(self, env: Envelope) -> Handled:
        recorded = self.store.conversations.post(
            env.channel,
            env.thread_id,
            env.text,
            direction="in",
            dedupe=f"in:{env.idempotency_key}",
            payload={"user": env.user_id},
        )
        if recorded is None and self._answered(env):
            return Handled(duplicate=True)
        if env.command is not None:
            return self.run(env, env.command)
        text = env.text.strip()
        if not text:
            self.reply(env, "I got an empty message. Type /help to see what I can do.")
            return Handled()
        command = _COMMAND.match(text)
        if command:
            return self._command(env, command.group(1).lower(), command.group(2).strip())
        pending = self.store.conversations.pending_question(env.thread_key)
        if pending is not None and self.store.clock.now() - pending.created_at > QUESTION_TTL:
            # An old question is not what a new message answers: it lapses, and is said so.
            with self.store.db.transaction() as tx:
                self.store.conversations.answered(tx, env.thread_key)
            self._note(env, f"(My question about “{_short(pending.source_text)}” from earlier has lapsed.)")
            pending = None
        if pending is not None:
            return self._answer(env, pending, text)
        token = _question_open.set(False)
        try:
            return self._request(env, self._parse(text), text)
        finally:
            _question_open.reset(token)

    def _answered(self, env: Envelope) -> bool:
        """This message was handled before: its request accepted, or a reply written. A message
        recorded by an attempt that then stopped (the database restarting between saving it and
        accepting it) is not answered, and its retry carries on instead of being dropped."""
        if self.store.conversations.seen(env.idempotency_key):
            return True
        keys = (f"reply:{env.idempotency_key}", f"ack:{env.idempotency_key}")
        found = self.store.db.scalar("SELECT COUNT(*) AS n FROM messages WHERE dedupe_key IN (?, ?)", keys)
        return bool(found)

    def _parse(self, text: str) -> ParseResult:
        """Parse as of the clock's today, knowing the clients (a real company can be one)."""
        return self.parser.parse(text, self.store.clock.today(), self.store.clients.names())

    # -- new requests -----------------------------------------------------------------------

    def _request(self, env: Envelope, parsed: ParseResult, text: str) -> Handled:
        intent = parsed.intent
        if isinstance(intent, Help):
            return self.say(env, help_text())
        if isinstance(intent, SmallTalk):
            return self.say(env, small_talk_reply(intent.text or text))
        if isinstance(intent, Unknown):  # the two or three closest things coo can do, not the whole list
            return self.say(env, not_understood(text))
        intent = self._from_thread(env, intent, text)
        if getattr(intent, confirm.FIELD, False):  # only the operator's "yes" to coo's question confirms
            intent = intent.model_copy(update={confirm.FIELD: False})
        if parsed.problems:
            problem = parsed.problems[0]
            return self._ask(
                env, intent_to_dict(intent), [problem.field, *intent.missing_fields()], problem.message, text
            )
        if isinstance(intent, RecordPayment):
            intent = in_full(self.store, intent, text)
        missing = intent.missing_fields()
        if missing:
            return self._ask(env, intent_to_dict(intent), missing, question_for(missing[0]), text)
        return self._accept_certain(env, intent, text)

    def _accept_certain(self, env: Envelope, intent: Intent, text: str) -> Handled:
        """Accept, unless it is a payment whose invoice is not certain: then ask which first."""
        if isinstance(intent, PaymentReminder) and intent.all_overdue and intent.invoice_number is None:
            chased = self._chase_overdue(env, text)
            if chased is not None:
                return chased
        if isinstance(intent, RecordPayment) and intent.invoice_number is None and intent.client_name:
            clients = self.store.clients.find(intent.client_name, None)
            if len(clients) == 1:  # unknown or ambiguous clients are the run's to explain
                matched = match_payment(self.store, intent, clients[0].id)
                if isinstance(matched, Uncertain):
                    return self._ask(env, intent_to_dict(intent), [TARGET_FIELD], matched.question, text)
        return self._accept(env, intent_to_dict(intent), text)

    def _chase_overdue(self, env: Envelope, text: str) -> Handled | None:
        """ "chase the overdue invoices": one reminder run (and card) per client that is late;
        None when at most one client is (the ordinary run drafts that one, or says none is)."""
        groups = overdue_by_client(self.store, self.store.clock.today())
        if len(groups) < 2:
            return None
        self._note(env, chase_summary(groups))
        done = Handled()
        first = _message_run.get()
        for n, (client, _) in enumerate(groups):
            one = env.model_copy(update={"event_id": chase_event_id(env.event_id, client.id)})
            token = _message_run.set(first if n == 0 else None)
            try:
                handled = self._accept(one, {"kind": "payment_reminder", "client_name": client.name}, text)
            finally:
                _message_run.reset(token)
            done.run_ids.extend(handled.run_ids)
            done.saved.extend(handled.saved)
            done.duplicate = done.duplicate or handled.duplicate
            done.ack = done.ack or handled.ack
        return done

    def _answer_target(self, env: Envelope, pending: PendingQuestion, text: str) -> Handled:
        """The answer to "which invoice is this payment for?"."""
        intent = intent_from_dict(pending.intent)
        assert isinstance(intent, RecordPayment)
        clients = self.store.clients.find(intent.client_name, None)
        if len(clients) != 1:
            return self._accept(env, pending.intent, f"{pending.source_text} / {text}")
        try:
            answered = answer_target(self.store, intent, clients[0].id, text)
        except ValueError as exc:
            self.reply(env, f"{exc} (or /cancel)")
            return Handled()
        return self._accept(env, intent_to_dict(answered), f"{pending.source_text} / {text}")

    def _from_thread(self, env: Envelope, intent: Intent, text: str) -> Intent:
        """Fill in the client the thread is about when the operator says "them" (or, for a
        follow-up that changes terms, says nothing), from the thread's working memory."""
        if getattr(intent, "client_name", "") is not None:
            return intent
        if intent.kind not in _FOLLOW_UP_KINDS and not _PRONOUN.search(text):
            return intent
        context = self.deps.working_memory.recall(env.thread_key)
        if context is None or context.client_name is None:
            return intent
        return intent_from_dict({**intent_to_dict(intent), "client_name": context.client_name})

    def _ask(self, env: Envelope, intent: dict[str, Any], fields: list[str], question: str, text: str) -> Handled:
        fields = list(dict.fromkeys(fields))
        with self.store.db.transaction() as tx:
            self.store.conversations.ask(tx, env.thread_key, intent, fields, question, text)
        self.reply(env, f"{question} (or /cancel)")
        return Handled()

    def _answer(self, env: Envelope, pending: PendingQuestion, text: str) -> Handled:
        # "cancel" drops the question; "cancel Acme's retainer" is a request of its own.
        if _CANCEL.match(text) and isinstance(self.parser.parse(text, self.store.clock.today()).intent, Unknown):
            with self.store.db.transaction() as tx:
                self.store.conversations.answered(tx, env.thread_key)
            self.reply(env, "OK, dropped that request.")
            return Handled()
        field = pending.fields[0]
        if field == TARGET_FIELD and is_target_answer(text):
            return self._answer_target(env, pending, text)
        today = self.store.clock.today()
        fresh_request = self._parse(text)
        if isinstance(fresh_request.intent, SmallTalk) and not (field == confirm.FIELD and self._reads(field, text)):
            # "thanks" while a question waits: answered, and the question still stands ("ok" is a yes).
            return self.say(env, f"{small_talk_reply(text)} {pending.question} (or /cancel)")
        if not _bare_value(field, text) and _is_own_request(pending, fresh_request):
            # A request of its own is handled as one; the question is set aside, and said so.
            with self.store.db.transaction() as tx:
                self.store.conversations.answered(tx, env.thread_key)
            self._note(
                env,
                f"(I took that as a new request and set aside my question about “{_short(pending.source_text)}”"
                " — send that again when you want it.)",
            )
            return self._request(env, fresh_request, text)
        if field == TARGET_FIELD:
            self.reply(env, 'Reply with the invoice number (e.g. INV-0001), or "credit". (or /cancel)')
            return Handled()
        try:
            value = self.parser.parse_field(field, text, today, self.store.clients.names())
        except ValueError as exc:
            fresh = self._parse(text)
            if not isinstance(fresh.intent, Unknown):
                # The operator moved on to something else: drop the question, take the new request.
                with self.store.db.transaction() as tx:
                    self.store.conversations.answered(tx, env.thread_key)
                return self._request(env, fresh, text)
            self.reply(env, f"{exc} {question_for(field)} (or /cancel)")
            return Handled()
        if field == confirm.FIELD and value is False:
            with self.store.db.transaction() as tx:
                self.store.conversations.answered(tx, env.thread_key)
            self.reply(env, confirm.declined(pending.intent))
            return Handled()
        # Re-validate the whole intent with the answer in place: the answer gets the same
        # checks as if it had been in the first message.
        data = intent_from_dict(pending.intent).model_dump()
        data[field] = value
        intent = intent_from_dict(data)
        remaining = [f for f in pending.fields[1:] if f in intent.missing_fields()] or intent.missing_fields()
        if remaining:
            with self.store.db.transaction() as tx:
                self.store.conversations.ask(
                    tx,
                    env.thread_key,
                    intent_to_dict(intent),
                    remaining,
                    question_for(remaining[0]),
                    pending.source_text,
                )
            self.reply(env, f"{question_for(remaining[0])} (or /cancel)")
            return Handled()
        return self._accept_certain(env, intent, f"{pending.source_text} / {text}")

    def _reads(self, field: str, text: str) -> bool:
        """Whether ``text`` reads as an answer for ``field``."""
        try:
            self.parser.parse_field(field, text, self.store.clock.today(), self.store.clients.names())
        except ValueError:
            return False
        return True

    def submit(self, env: Envelope, intent: dict[str, Any], text: str) -> Handled:
        """Accept an intent built by the core itself (e.g. proposed from a forwarded e-mail) under
        the normal rules: validated, persisted with the envelope's idempotency key, queued; its
        side effects wait for approval like any other. Raises ValueError for an intent that is
        incomplete or has no plan."""
        parsed = intent_from_dict(intent)
        if plan_for(parsed.kind) is None:
            raise ValueError(f"a {parsed.kind} intent has nothing to run")
        missing = parsed.missing_fields()
        if missing:
            raise ValueError(f"the {parsed.kind} intent is missing {', '.join(missing)}")
        # The core's own submissions (schedules, e-mail intake) leave the operator's question open.
        return self._accept(env, intent_to_dict(parsed), text, answers_question=False)

    def _accept(self, env: Envelope, intent: dict[str, Any], text: str, *, answers_question: bool = True) -> Handled:
        plan = plan_for(intent["kind"])
        assert plan is not None
        run_id = _message_run.get() or new_run_id()
        with self.store.db.transaction() as tx:
            accepted, new = self.store.conversations.accept(
                tx, env.idempotency_key, env.channel, env.thread_id, env.user_id, text, intent, run_id=run_id
            )
            if not new:
                return Handled(duplicate=True, run_ids=[accepted.run_id] if accepted.run_id else [])
            self.store.runs.create(tx, run_id, accepted.id, intent["kind"], env.channel, env.thread_id, env.user_id)
            if answers_question and _question_open.get():
                self.store.conversations.answered(tx, env.thread_key)
            if _post_ack.get():
                self.store.conversations.post(
                    env.channel, env.thread_id, ACK, dedupe=f"ack:{env.idempotency_key}", tx=tx
                )
            self.store.ledger.append(
                run_id,
                "intake",
                "intent_received",
                {"intent": intent, "channel": env.channel, "event_id": env.event_id, "text": text},
                actor=f"{env.channel}:{env.user_id}",
                tx=tx,
            )
            writes = _with_accept.get()
            wrote = bool(writes)
            while writes:  # once: a message that accepts several requests writes it with the first
                writes.pop()(tx)
        if not self._enqueue(env, self.jobs.run, f"run-{run_id}", plan.agent.job_spec(), run_id=run_id):
            return Handled(saved=[run_id])
        start = {"run_id": run_id, "intent": accepted.intent, "channel": env.channel, "thread_id": env.thread_id}
        return Handled(run_ids=[run_id], ack=ACK, starts={run_id: start}, wrote_with_accept=wrote)

    def _enqueue(self, env: Envelope, func: str, job_id: str, spec: JobSpec, **kwargs: Any) -> bool:
        """Queue a job; on a dead queue the work stays saved and the operator is told."""
        try:
            self.queue.enqueue(func, job_id, spec, **kwargs)
        except StoreUnavailable as exc:
            log.error("could not queue %s: %s", job_id, exc)
            self.reply(
                env,
                "I've saved your request, but the work queue is unreachable right now; "
                "it will run as soon as a worker is back (coo worker picks up saved work on start).",
            )
            return False
        return True

    # -- commands ---------------------------------------------------------------------------

    def _command(self, env: Envelope, name: str, rest: str) -> Handled:
        command = lookup(name)
        if command is None:
            return self.say(env, f"I don't know the command /{name}. Commands: {command_list()}.")
        return command.run(self, env, rest)

    def run(self, env: Envelope, command: Command) -> Handled:
        """A typed command from a button or a form."""
        if isinstance(command, Decide):
            return self.decide(env, command)
        assert isinstance(command, Edit)
        return self.edit(env, command.approval_id, command.fields if command.fields.changed() else None)

    def say(self, env: Envelope, text: str) -> Handled:
        """Answer in the thread; nothing else happens."""
        self.reply(env, text)
        return Handled()

    def cancel(self, env: Envelope) -> Handled:
        dropped = self.store.conversations.pending_question(env.thread_key) is not None
        with self.store.db.transaction() as tx:
            self.store.conversations.answered(tx, env.thread_key)
        return self.say(env, "OK, dropped that request." if dropped else "There was nothing to cancel.")

    def cancel_run(self, env: Envelope, run_id: str) -> Handled:
        """`/cancel RUN`: a run a spend cap paused will not be carried on; it ends "cancelled"."""
        run = self.store.runs.find(run_id.strip())
        if run is None:
            return self.say(env, f"There is no run {run_id.strip()}.")
        if run.status != "paused":
            return self.say(env, f"Run {run.id} is {run.status}; only a paused run can be cancelled this way.")
        self.store.runs.set_status(run.id, "cancelled", summary="cancelled by the operator while paused")
        self.store.ledger.append(run.id, "budget", "run_cancelled", {"by": env.user_id}, actor=env.user_id)
        return self.say(env, f"OK: run {run.id} is cancelled; nothing was sent for it.")

    def autonomy(self, env: Envelope, rest: str) -> str:
        return autonomy_command(self.store, env, rest)

    def policy(self, env: Envelope, rest: str) -> str:
        by = f"{env.channel}:{env.user_id}"
        budget = self.deps.runner.budget
        text = policy_command(self.store, rest, by=by, via=env.channel, dedupe=env.idempotency_key, budget=budget)
        if rest.split()[:1] == ["cap"] and text.startswith("OK"):
            started = self._restart_paused(env)
            if started:
                text += f" Carrying on with {started} paused run(s)."
        return text

    def _restart_paused(self, env: Envelope) -> int:
        """Runs a spend cap paused start again (a run still over the cap pauses again, saying so)."""
        count = 0
        for run in self.store.runs.paused():
            plan = plan_for_run(self.store.runs, run.id, run.kind)
            if plan is None:
                continue
            self.store.runs.set_status(run.id, "queued")
            self.store.ledger.append(run.id, "budget", "resumed_after_cap", {"by": env.user_id}, dedupe=env.event_id)
            job = f"run-{run.id}-after-{env.event_id}"
            if self._enqueue(env, self.jobs.run, job, plan.agent.job_spec(), run_id=run.id):
                count += 1
        return count

    def profile(self, env: Envelope, rest: str) -> str:
        return profile_command(self.store, rest).text

    def billing(self, env: Envelope, rest: str) -> str:
        return billing_command(self.store, rest).text

    def open_deliverables(self) -> str:
        return open_deliverables_text(self.store)

    def accept(self, env: Envelope, intent: dict[str, Any], text: str) -> Handled:
        """Accept a complete intent built from a command (e.g. /done N)."""
        return self._accept(env, intent, text)

    def waiting_list(self) -> str:
        waiting = self.store.runs.pending_approvals()
        if not waiting:
            return " Nothing is waiting for approval."
        return " Waiting: " + ", ".join(f"#{a.id} ({a.card.get('title', a.action)})" for a in waiting[:5]) + "."

    def _pending(self, env: Envelope, approval_id: int) -> Approval | None:
        """The approval if it still waits; otherwise says why not and returns None."""
        approval = self.store.runs.approval(approval_id)
        if approval is None:
            self.reply(env, f"There is no approval #{approval_id}.{self.waiting_list()}")
            return None
        if approval.status != "pending":
            when = (
                self.store.clock.local(approval.decided_at).strftime("%Y-%m-%d %H:%M") if approval.decided_at else "?"
            )
            self.reply(
                env,
                f"Approval #{approval_id} was already {approval.status} by {approval.decided_by} "
                f"via {approval.decided_via} at {when}; nothing changed.{self._not_sent_hint(approval)}",
            )
            return None
        return approval

    def _not_sent_hint(self, approval: Approval) -> str:
        """An approved e-mail the mail server did not take is not 'done': say so, and how to resend."""
        failure = self.store.side_effects.failed(f"{approval.run_id}:{approval.step}")
        if approval.status != "approved" or failure is None:
            return ""
        return f" But it was NOT sent ({failure.error}): /resend {approval.id} tries again."

    def resend(self, env: Envelope, approval_id: int, to: str | None) -> Handled:
        """/resend N [to=address]: one more attempt now, answered with what happened."""
        result = resend(self.deps, approval_id, by=f"{env.channel}:{env.user_id}", to=to)
        approval = self.store.runs.approval(approval_id)
        if approval is not None:
            try:
                schedule_retries(self.store, self.queue, self.jobs.send_retry, approval.run_id)
            except StoreUnavailable as exc:
                log.error("could not schedule the next attempt for approval %s: %s", approval_id, exc)
        return self.say(env, result.note)

    def decide(self, env: Envelope, command: Decide) -> Handled:
        approval_id = command.approval_id
        approval = self._pending(env, approval_id)
        if approval is None:
            return Handled()
        decision: Decided = "approved" if command.verdict == "approve" else "rejected"
        if decision == "approved" and not is_address(Draft.model_validate(approval.draft).to):
            self.reply(
                env,
                f"Approval #{approval_id} needs an e-mail address before it can be approved: "
                f"{ADDRESS_HINT.format(n=approval_id)} (or /reject {approval_id}). Nothing changed.",
            )
            return Handled()
        if not self.store.runs.decide(approval_id, decision, env.user_id, env.channel):
            fresh = self.store.runs.approval(approval_id)
            assert fresh is not None
            self.reply(
                env, f"Approval #{approval_id} was already {fresh.status} by {fresh.decided_by}; nothing changed."
            )
            return Handled()
        run = self.store.runs.get(approval.run_id)
        plan = plan_for_run(self.store.runs, run.id, run.kind)
        assert plan is not None, "a run that asks for approval was planned"
        # The run is "resuming" now (runs.decide): not settled, so whoever waits on the run
        # waits for the side effect too.
        if _post_ack.get():  # e.g. a tap in the digest, which is not updated in place
            self.store.conversations.post(
                env.channel,
                env.thread_id,
                f"{decision.capitalize()} #{approval_id}.",
                dedupe=f"ack:{env.idempotency_key}",
            )
        queued = self._enqueue(
            env,
            self.jobs.resume,
            f"resume-{approval.run_id}-{approval_id}",
            plan.agent.job_spec(),
            run_id=approval.run_id,
            approval_id=approval_id,
        )
        if not queued:
            return Handled(saved=[approval.run_id])
        return Handled(run_ids=[approval.run_id], ack=f"{decision.capitalize()} #{approval_id}.")

    def edit(self, env: Envelope, approval_id: int, fields: EditFields | None) -> Handled:
        """Change a pending draft; without fields, say how (or who decided it already)."""
        approval = self._pending(env, approval_id)
        if approval is None:
            return Handled()
        try:
            if fields is None:
                raise EditError(EDIT_HELP)
            card, draft, changed = apply_edit(self.deps, approval, fields)
        except EditError as exc:
            return self.say(env, str(exc))
        if not self.store.runs.update_draft(approval.id, card.model_dump(), draft.model_dump()):
            self.reply(env, f"Approval #{approval.id} was decided meanwhile; the edit was not applied.")
            return Handled()
        self.store.ledger.append(
            approval.run_id,
            approval.step,
            "approval_edited",
            {"approval_id": approval.id, "changes": changed, "draft": draft.model_dump()},
            actor=f"{env.channel}:{env.user_id}",
            dedupe=env.idempotency_key,
        )
        # A new card is a new decision: high-risk work gets the large tier's plan and review again.
        reviewed = "".join(
            f"{note}\n" for note in risk_review.after_edit(self.deps, approval, card, draft, env.idempotency_key)
        )
        self.reply(
            env,
            f"Edited #{approval.id} ({', '.join(changed)}).\n{reviewed}{render_card(approval.id, card, draft)}",
            {
                "approval_id": approval.id,
                "card": card.model_dump(),
                "draft": draft.model_dump(),
                "buttons": card_buttons(draft),
            },
        )
        return Handled()
