"""The daily tick: the day's recurring work (retainer invoices, weekly client reports, deadline
alerts), and its place on the schedule.

Like the digest, the tick is scheduled with the job queue's own ``enqueue_at`` (RQ's scheduler
in `coo worker`; a timer in process for the embedded default) at COO_TICK_TIME in
COO_TIMEZONE, with a job id per local date; each run schedules the next one first, so a tick
that fails for good does not end the chain. Everything a tick does has a key per job and
period, so two workers, a retried job or `coo tick` by hand never do the same work twice.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.intake import Intake, SchedulerDoor
from bot.job_registry import JOBS
from bot.runtime import Runtime
from graphs.tick import DayReport, run_day
from store.clock import local_moment, next_local_time

TICK_JOB, TICK_SPEC = JOBS["tick"]


def next_tick_at(runtime: Runtime, after: datetime) -> tuple[date, datetime]:
    """The next local tick time strictly after ``after``, as (local date, UTC moment)."""
    return next_local_time(runtime.store.clock.tz, runtime.settings.tick_time, after)


def schedule_next_tick(runtime: Runtime, after: datetime | None = None) -> tuple[date, datetime]:
    """Put the next tick on the queue's schedule (a no-op when it is already there)."""
    day, moment = next_tick_at(runtime, after or runtime.store.clock.now())
    runtime.queue.enqueue_at(moment, TICK_JOB, f"tick-{day.isoformat()}", TICK_SPEC, day=day.isoformat())
    return day, moment


def catch_up_tick(runtime: Runtime) -> date | None:
    """Queue today's tick now when its time has passed (a worker started at 09:00 still bills
    today); the job id and the work's keys make this harmless if it already ran."""
    now = runtime.store.clock.now()
    today = now.astimezone(runtime.store.clock.tz).date()
    if now < local_moment(runtime.store.clock.tz, today, runtime.settings.tick_time):
        return None
    runtime.queue.enqueue(TICK_JOB, f"tick-{today.isoformat()}", TICK_SPEC, day=today.isoformat())
    return today


def run_tick(runtime: Runtime, day: date) -> DayReport:
    """Do the recurring work of the local ``day`` (idempotent)."""
    door = SchedulerDoor(Intake(runtime.store, runtime.queue), runtime.conversation)
    return run_day(runtime.store, door, day, runtime.settings.report_weekday, runtime.settings.reminder_schedule)


def tick_job(runtime: Runtime, day: date) -> DayReport:
    """The scheduled job: first the next tick (so a failing day cannot end the chain), then the work.
    The next one is computed from this tick's own time, so a job that starts a moment early
    never schedules itself again."""
    tz = runtime.store.clock.tz
    schedule_next_tick(runtime, max(runtime.store.clock.now(), local_moment(tz, day, runtime.settings.tick_time)))
    return run_tick(runtime, day)
