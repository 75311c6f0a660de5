"""The daily digest: `coo digest [--send]`, and its place on the schedule.

The digest is scheduled with the job queue's own ``enqueue_at`` (RQ's scheduler in
`coo worker`; a timer in process for the embedded default) at COO_DIGEST_TIME in
COO_TIMEZONE; each run schedules the next day's. The job id and the message's dedupe key are
per local date, so two workers, a retried job or a second `--send` never post two digests.
"""

from __future__ import annotations

from datetime import date, datetime

from agents.digest_writer import Digest, write_digest
from bot.job_registry import JOBS
from bot.runtime import Runtime
from store.clock import next_local_time

DIGEST_JOB, DIGEST_SPEC = JOBS["digest"]


def post_digest(runtime: Runtime, day: date) -> tuple[Digest, bool]:
    """Queue the digest for the operators (Slack DM / Telegram chat); (digest, newly posted)."""
    digest = write_digest(runtime.store, day)
    posted = runtime.store.conversations.post(
        "digest",
        f"daily-{day.isoformat()}",
        digest.text,
        dedupe=f"digest:{day.isoformat()}",
        payload={
            "digest_day": day.isoformat(),
            "approval_ids": digest.approval_ids,
            "offers": [o.model_dump() for o in digest.offers],
        },
    )
    return digest, posted is not None


def next_digest_at(runtime: Runtime, after: datetime) -> tuple[date, datetime]:
    """The next local digest time strictly after ``after``, as (local date, UTC moment)."""
    return next_local_time(runtime.store.clock.tz, runtime.settings.digest_time, after)


def schedule_next_digest(runtime: Runtime, after: datetime | None = None) -> tuple[date, datetime]:
    """Put the next digest on the queue's schedule (a no-op when it is already there)."""
    day, moment = next_digest_at(runtime, after or runtime.store.clock.now())
    runtime.queue.enqueue_at(moment, DIGEST_JOB, f"digest-{day.isoformat()}", DIGEST_SPEC, day=day.isoformat())
    return day, moment
