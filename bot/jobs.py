"""Job functions: what RQ (or the in-process queue) runs, all in this module; their names and
queues are in bot.job_registry. Module-level so RQ can import them by dotted path.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, ParamSpec

from bot.runtime import JOBS, Runtime, get_runtime
from graphs.chat_forward import ChatForward
from graphs.email_intake import ingest_email, is_promotion, promote_filed
from graphs.envelope import Envelope
from graphs.handled import Handled
from graphs.payments_intake import import_payments, import_run_id
from graphs.sending import retry_due, schedule_retries
from store.deliveries import Deliveries
from store.errors import NotFound
from store.facade import Store
from store.inbox import InboxItem
from store.jobqueue import HeldJob, RQQueue, attempts_left, current_attempt
from store.outage import is_outage

if TYPE_CHECKING:
    from bot.rq_worker import CooWorker

log = logging.getLogger(__name__)
P = ParamSpec("P")
RETRY_RUN = "jobs"  # the ledger's run id of job retries (a job is not always a run's)


def counted(job: Callable[P, None]) -> Callable[P, None]:
    """Every job: an attempt after the first (a retry by RQ or the in-process queue, whatever the
    job) is a ``job_retry`` ledger event, once per attempt, which /metrics counts. Recording never
    fails the job: when the store is what failed, a later attempt records its number, and the
    count is taken from the highest attempt of each job. A job's statements share one pooled
    PostgreSQL connection (store.db.Database.pinned)."""

    @functools.wraps(job)
    def attempt(*args: P.args, **kwargs: P.kwargs) -> None:
        running = current_attempt()
        if running is not None and running[1] > 1:
            job_id, number = running
            try:
                get_runtime().store.ledger.append(
                    RETRY_RUN,
                    job.__name__,
                    "job_retry",
                    {"job": job.__name__, "job_id": job_id, "attempt": number},
                    actor="queue",
                    dedupe=f"{job_id}:{number}",
                )
            except Exception:
                log.warning("could not record attempt %d of job %s", number, job_id, exc_info=True)
        with get_runtime().store.db.pinned():  # one connection for the job's statements
            job(*args, **kwargs)

    return attempt


# -- runs ---------------------------------------------------------------------------------------


def _guarded(runtime: Runtime, run_id: str, work: Callable[[], None]) -> None:
    try:
        work()
    except NotFound:
        if not _run_exists(runtime, run_id):
            # A job for a run this database never had (restored backup, wrong COO_DATABASE_URL):
            # retrying cannot help, and there is no thread to tell.
            log.error("job for run %s dropped: no such run in %s", run_id, runtime.settings.database)
            return
        _failed(runtime, run_id)  # a record the run needed is gone: the run failed, and says so
        raise
    except Exception:
        _failed(runtime, run_id)
        raise


def _run_exists(runtime: Runtime, run_id: str) -> bool:
    try:
        runtime.store.runs.get(run_id)
    except NotFound:
        return False
    return True


def _failed(runtime: Runtime, run_id: str) -> None:
    """Log the failure; after the queue's last attempt, mark the run failed and say so in its thread."""
    exc = sys.exc_info()[1]
    log.exception("run %s failed", run_id)
    if attempts_left() > 0:
        return  # the queue retries it; steps and side effects are idempotent
    if exc is not None and is_outage(exc):
        # The database or Redis is restarting: the run is not failed. It keeps its status,
        # and the lost-work sweep (bot.recovery) queues it again once they answer.
        log.warning("run %s waits for the database or Redis; the sweep continues it", run_id)
        return
    run = runtime.store.runs.get(run_id)
    runtime.store.runs.set_status(run_id, "failed", error=str(exc)[:500])
    runtime.store.conversations.post(
        run.channel,
        run.thread_id,
        f"Sorry — run {run_id} failed: {exc}. Nothing was sent. The details are in `coo ledger {run_id}`.",
        run_id=run_id,
        dedupe=f"{run_id}:failed",
    )


@counted
def run_intent(run_id: str) -> None:
    """Start (or, after a crash, continue) the run for an accepted intent."""
    runtime = get_runtime()
    _guarded(runtime, run_id, lambda: runtime.supervisor.start(run_id))
    schedule_send_retries(runtime, run_id)  # e.g. an autonomous send the mail server did not take


@counted
def resume_run(run_id: str, approval_id: int) -> None:
    """Resume a run after the operator decided on its approval."""
    runtime = get_runtime()
    _guarded(runtime, run_id, lambda: runtime.supervisor.resume(run_id, approval_id))
    schedule_send_retries(runtime, run_id)


# -- e-mails the mail server did not take -------------------------------------------------------


@counted
def retry_send(approval_id: int) -> None:
    """The scheduled next attempt at an approved e-mail that was not sent; said in its thread."""
    runtime = get_runtime()
    result = retry_due(runtime.deps, approval_id)
    if result is None:
        return  # sent or resent meanwhile, or no longer due
    approval = runtime.store.runs.approval(approval_id)
    assert approval is not None
    run = runtime.store.runs.get(approval.run_id)
    failure = runtime.store.side_effects.failed(f"{approval.run_id}:{approval.step}")
    attempt = failure.attempts if failure else "sent"
    runtime.store.conversations.post(
        run.channel, run.thread_id, result.note, run_id=run.id, dedupe=f"{run.id}:send-retry:{attempt}"
    )
    schedule_send_retries(runtime, run.id)


def schedule_send_retries(runtime: Runtime, run_id: str | None = None) -> int:
    """Queue the next attempts of failed sends at their times (workers and serve on start too)."""
    return schedule_retries(runtime.store, runtime.queue, JOBS.send_retry, run_id)


# -- schedules ----------------------------------------------------------------------------------


@counted
def send_digest(day: str) -> None:
    """Post the digest for ``day`` (once) and schedule the next one."""
    from bot.digest import post_digest, schedule_next_digest

    runtime = get_runtime()
    post_digest(runtime, date.fromisoformat(day))
    schedule_next_digest(runtime)


@counted
def run_tick(day: str) -> None:
    """The day's recurring work: retainer invoices, weekly reports, deadline alerts (once each)."""
    from bot.ticks import tick_job

    tick_job(get_runtime(), date.fromisoformat(day))


# -- the inbox ----------------------------------------------------------------------------------


@counted
def process_inbox(item_id: int) -> None:
    """Job: process one saved input (bot.intake). In a `coo worker` that serves the queue of
    the run the input starts, the run is not queued as a second job: this job runs it, once the
    input is processed (half the queue's work per request), if the run's timeout is within
    this job's (the agents with longer runs keep their own job). The run is claimed for this worker
    meanwhile, so the lost-work sweep leaves it alone while the worker lives and queues it
    again if the worker dies mid-run; a run that fails here is queued, to be retried as usual."""
    runtime = get_runtime()
    if not isinstance(runtime.queue, RQQueue):
        process(runtime, item_id)
        return
    from bot.rq_worker import serving_worker  # RQ's modules: only where RQ is the queue

    worker = serving_worker()
    if worker is None:
        process(runtime, item_id)
        return
    from rq import get_current_job

    current = get_current_job()
    # Only runs allowed no longer than this job: RQ's registry gives up on a job past its time.
    limit = int(current.timeout) if current is not None and current.timeout else 0
    with runtime.queue.hold(worker.queue_names(), {JOBS.run}, worker.name, max_timeout=limit) as held:
        handled = process(runtime, item_id)
    starts = handled.starts if handled is not None else {}
    for job in held:
        _run_held(runtime, runtime.queue, worker, job, starts.get(str(job.kwargs["run_id"])))


def _run_held(runtime: Runtime, queue: RQQueue, worker: CooWorker, job: HeldJob, start: dict[str, Any] | None) -> None:
    from rq.timeouts import JobTimeoutException

    run_id = str(job.kwargs["run_id"])
    try:
        # The run's own timeout, as if RQ ran it (the message's job's ends with it).
        with worker.death_penalty_class(job.spec.timeout, JobTimeoutException, job_id=job.job_id):
            if not runtime.supervisor.start_new(run_id, start):
                schedule_send_retries(runtime, run_id)  # a run past its gate may have a failed send
    except Exception:
        log.warning("run %s stopped in the job of its message; queued to be tried again", run_id, exc_info=True)
        queue.requeue_held(job)
        return
    queue.release_held(job)


def process(runtime: Runtime, item_id: int) -> Handled | None:
    """Process one saved input by its kind, once (what a message did, for the console to wait
    on); a final failure is said in its thread, so nothing sent vanishes without a word."""
    inbox = runtime.store.inbox
    item = inbox.get(item_id)
    if item is None:
        log.error("inbox item %d is not in %s; dropped", item_id, runtime.settings.database)
        return None
    if item.status == "done":
        return None  # a redelivered job
    env = Envelope.model_validate(item.payload["envelope"])
    options: dict[str, Any] = item.payload.get("options") or {}
    try:
        _remember(runtime, options.get("reply_ref"), env)
        handled = HANDLERS[item.kind](runtime, env, item, options)
    except Exception as exc:
        log.exception("inbox item %d (%s from %s) failed", item_id, item.kind, env.channel)
        if attempts_left() > 0:
            raise
        if is_outage(exc):
            # Not the message's fault: it stays queued, and the sweep (bot.recovery) tries again.
            raise
        inbox.done(item_id, error=str(exc))
        runtime.store.conversations.post(
            env.channel,
            env.thread_id,
            f"Sorry — I couldn't process that ({item.kind}): {exc}. Nothing was changed; please send it again.",
            dedupe=f"failed:{env.idempotency_key}",
        )
        raise
    if not (isinstance(handled, Handled) and handled.wrote_with_accept):
        inbox.done(item_id)
    return handled


def _remember(runtime: Runtime, reply_ref: dict[str, str] | None, env: Envelope) -> None:
    if reply_ref:
        Deliveries(runtime.store.db, runtime.store.clock).remember_inbound(
            env.idempotency_key, reply_ref["platform"], reply_ref["chat_id"], reply_ref["ref"]
        )


def in_conversation(store: Store, env: Envelope) -> bool:
    """A thread coo already speaks in (it asked a question or posted there)."""
    if store.conversations.pending_question(env.thread_key) is not None:
        return True
    return bool(store.conversations.messages_after(env.channel, env.thread_id, 0))


def _message(runtime: Runtime, env: Envelope, item: InboxItem, options: dict[str, Any]) -> Handled | None:
    """An operator message to the core; "On it." is written with the run it starts."""
    if not options.get("addressed", True) and not in_conversation(runtime.store, env):
        return None  # channel chatter in a thread coo is not part of
    if is_promotion(env.text):
        promoted = promote_filed(runtime.conversation, env)  # the bulk mail filed in this thread
        if promoted is not None:
            return promoted
    # The input is done when its request is accepted, in that same transaction.
    return runtime.conversation.handle(
        env,
        post_ack=bool(options.get("post_ack", True)),
        with_accept=lambda tx: runtime.store.inbox.done(item.id, tx=tx),
    )


def _email(runtime: Runtime, env: Envelope, item: InboxItem, options: dict[str, Any]) -> None:
    """File a forwarded e-mail, summarise it in the thread, propose one action (graphs.email_intake)."""
    forward = options.get("chat_forward")
    _ingest(runtime, env, item.data(), ChatForward.model_validate(forward) if forward else None)


def _ingest(runtime: Runtime, env: Envelope, raw: bytes, forward: ChatForward | None = None) -> None:
    result = ingest_email(
        runtime.conversation,
        raw,
        channel=env.channel,
        thread_id=env.thread_id,
        user_id=env.user_id,
        event_id=env.event_id,
        chat_forward=forward,
    )
    if result.ack and not result.duplicate:
        runtime.store.conversations.post(env.channel, env.thread_id, result.ack, dedupe=f"ack:{env.idempotency_key}")


def _telegram_file(runtime: Runtime, env: Envelope, item: InboxItem, options: dict[str, Any]) -> None:
    """Download a document sent in Telegram, then file it as an e-mail or reconcile it as a
    payments export. A download that fails is said in the chat: what failed and what to do.
    Telegram out of reach is retried by the queue first (the last failure is said too)."""
    from bot.telegram.files import DownloadFailed, DownloadUnreachable, fetch_document

    document: dict[str, Any] = options["document"]
    name = str(document.get("file_name") or "that file")
    try:
        data = fetch_document(runtime.settings, document)
    except DownloadFailed as exc:
        log.warning("telegram document %s (%s): %s", document.get("file_id"), name, exc)
        if isinstance(exc, DownloadUnreachable) and attempts_left() > 0:
            raise
        runtime.conversation.reply(
            env, f"I couldn't download {name} from Telegram ({exc}). Nothing was filed; please send it again."
        )
        return
    if options.get("purpose") == "payments":
        _payments_from(runtime, env, data, name)
    else:
        _ingest(runtime, env, data)


def _payments(runtime: Runtime, env: Envelope, item: InboxItem, options: dict[str, Any]) -> None:
    """Reconcile a dropped CSV export and post the report in its thread (graphs.payments_intake)."""
    _payments_from(runtime, env, item.data(), str(options.get("filename") or "payments.csv"))


def _payments_from(runtime: Runtime, env: Envelope, data: bytes, filename: str) -> None:
    import_payments(
        runtime.conversation,
        data,
        filename,
        channel=env.channel,
        thread_id=env.thread_id,
        user_id=env.user_id,
        event_id=env.event_id,
        message=env.text,
    )


def _shared_payments(runtime: Runtime, env: Envelope, item: InboxItem, options: dict[str, Any]) -> None:
    """Download one CSV export shared in Slack and reconcile it; a failed download is said."""
    from bot.slack.files import DownloadFailed, fetch_export

    store = runtime.store
    if not options.get("addressed", True) and not in_conversation(store, env):
        return  # a file shared in a thread coo is not part of
    run_id = import_run_id(env)
    done = store.runs.find(run_id)
    if done is not None and done.id == run_id and done.status == "done":
        return  # a redelivered share: imported already, nothing to download
    file: dict[str, Any] = options["file"]
    name = str(file.get("name") or file.get("title") or "payments.csv")
    try:
        data = fetch_export(runtime, file)
    except DownloadFailed as exc:
        log.warning("slack file %s (%s): %s", file.get("id"), name, exc)
        runtime.conversation.reply(env, f"I couldn't read {name} from Slack: {exc} Nothing was recorded.")
        return
    import_payments(
        runtime.conversation,
        data,
        name,
        channel=env.channel,
        thread_id=env.thread_id,
        user_id=env.user_id,
        event_id=env.event_id,
        message=env.text,
    )


def _shared_email(runtime: Runtime, env: Envelope, item: InboxItem, options: dict[str, Any]) -> None:
    """Download one .eml file shared in Slack and file it as a forwarded e-mail; a failed
    download is said in its thread (what failed, what to do)."""
    from bot.slack.files import DownloadFailed, fetch_email

    if not options.get("addressed", True) and not in_conversation(runtime.store, env):
        return  # a file shared in a thread coo is not part of
    file: dict[str, Any] = options["file"]
    name = str(file.get("name") or file.get("title") or "the e-mail")
    try:
        data = fetch_email(runtime, file)
    except DownloadFailed as exc:
        log.warning("slack file %s (%s): %s", file.get("id"), name, exc)
        runtime.conversation.reply(env, f"I couldn't read {name} from Slack: {exc} Nothing was filed; share it again.")
        return
    _ingest(runtime, env, data)


def refusal_text(env: Envelope) -> str:
    variable = {"slack": "COO_SLACK_OPERATORS", "telegram": "COO_TELEGRAM_OPERATORS"}.get(env.channel, "the settings")
    return (
        f"Sorry — I only take instructions and approvals from this business's operator, so I did nothing. "
        f"(If that should be you: your user id is {env.user_id}; add it to {variable}.)"
    )


def _refusal(runtime: Runtime, env: Envelope, item: InboxItem, options: dict[str, Any]) -> None:
    """Tell a non-operator, politely, that nothing was done."""
    log.info("refused %s user %s", env.channel, env.user_id)
    runtime.store.conversations.post(
        env.channel,
        env.thread_id,
        refusal_text(env),
        payload={"ephemeral_to": env.user_id} if options.get("ephemeral") else None,
        dedupe=f"reply:{env.idempotency_key}",
    )


HANDLERS: dict[str, Callable[[Runtime, Envelope, InboxItem, dict[str, Any]], Handled | None]] = {
    "message": _message,
    "email": _email,
    "payments": _payments,
    "shared_payments": _shared_payments,
    "telegram_file": _telegram_file,
    "shared_email": _shared_email,
    "refusal": _refusal,
}
