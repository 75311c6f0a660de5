"""The daily digest: `coo digest [--send]`, and its place on the schedule.

The digest is scheduled with the job queue's own ``enqueue_at`` (RQ's scheduler in
`coo worker`; a timer in process for the embedded default) at COO_DIGEST_TIME in
COO_TIMEZONE; each run schedules the next day's. The job id and the message's dedupe key are
per local date, so two workers, a retried job or a second `--send` never post two digests.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from agents.digest_writer import Digest, write_digest
from bot.runtime import Runtime
from store.jobqueue import JobSpec

DIGEST_JOB = "bot.jobs.send_digest"
DIGEST_SPEC = JobSpec(queue="coo-reports", timeout=120, retries=3, retry_intervals=[30, 120, 600])


def post_digest(runtime: Runtime, day: date) -> tuple[Digest, bool]:
    """Queue the digest for the operators (Slack DM / Telegram chat); (digest, newly posted)."""
    digest = write_digest(runtime.store, day)
    posted = runtime.store.conversations.post(
        "digest", f"daily-{day.isoformat()}", digest.text, dedupe=f"digest:{day.isoformat()}",
        payload={"digest_day": day.isoformat(), "approval_ids": digest.approval_ids},
    )
    return digest, posted is not None


def next_digest_at(runtime: Runtime, after: datetime) -> tuple[date, datetime]:
    """The next local digest time strictly after ``after``, as (local date, UTC moment).

    Built from the local wall-clock time each day, so it stays at 08:00 across daylight-saving
    changes; a time that does not exist that day (a spring-forward gap) moves forward with it.
    """
    tz = runtime.store.clock.tz
    hours, minutes = (int(x) for x in runtime.settings.digest_time.split(":"))
    local = after.astimezone(tz)
    day = local.date()
    for _ in range(3):
        moment = datetime.combine(day, time(hours, minutes), tzinfo=tz).astimezone(timezone.utc)
        # normalise through UTC so a nonexistent local time lands on the real instant after the gap
        if moment > after:
            return day, moment
        day += timedelta(days=1)
    raise AssertionError("unreachable: a digest time exists within three days")


def schedule_next_digest(runtime: Runtime, after: datetime | None = None) -> tuple[date, datetime]:
    """Put the next digest on the queue's schedule (a no-op when it is already there)."""
    day, moment = next_digest_at(runtime, after or runtime.store.clock.now())
    runtime.queue.enqueue_at(moment, DIGEST_JOB, f"digest-{day.isoformat()}", DIGEST_SPEC, day=day.isoformat())
    return day, moment
