"""Scheduled work waits on the runtime's clock, never on the machine's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from store.clock import FixedClock
from store.jobqueue import InProcessQueue, JobSpec

pytestmark = pytest.mark.clock

RAN: list[str] = []
_ran = threading.Event()


def record(name: str) -> None:
    """A job: note that it ran."""
    RAN.append(name)
    _ran.set()


@pytest.fixture
def queue(clock: FixedClock) -> Iterator[InProcessQueue]:
    RAN.clear()
    _ran.clear()
    q = InProcessQueue(clock, poll=0.01)
    yield q
    q.close()


def test_a_scheduled_job_runs_when_the_clock_reaches_it(queue: InProcessQueue, clock: FixedClock) -> None:
    spec = JobSpec(retries=0)
    assert queue.enqueue_at(clock.now() + timedelta(hours=17), f"{__name__}.record", "later", spec, name="later")
    assert not queue.enqueue_at(clock.now(), f"{__name__}.record", "later", spec, name="again")  # one per id
    assert queue.run_due() == 0
    assert queue.scheduled() == [(clock.now() + timedelta(hours=17), "later")]
    clock.advance(hours=16, minutes=59)
    assert queue.run_due() == 0 and RAN == []
    clock.advance(minutes=1)
    assert _ran.wait(10), "the job did not run once the clock reached its time"
    queue.wait_idle()
    assert RAN == ["later"] and queue.scheduled() == []


def test_a_job_due_in_the_clocks_past_runs_at_once(queue: InProcessQueue, clock: FixedClock) -> None:
    queue.enqueue_at(clock.now() - timedelta(days=3), f"{__name__}.record", "overdue", JobSpec(retries=0), name="x")
    assert _ran.wait(10)
    queue.wait_idle()
    assert RAN == ["x"]


def test_serve_schedules_the_digest_and_tick_only_when_asked(serve, sqlite_url: str, clock: FixedClock) -> None:
    quiet = serve(database_url=sqlite_url)
    assert quiet.runtime.queue.scheduled() == []
    asked = serve(database_url=sqlite_url, schedule=True, digest_time="08:00", tick_time="06:00")
    # The pinned clock says 2026-11-25 15:00 UTC: both are for tomorrow, whatever the machine's date.
    assert [job for _, job in asked.runtime.queue.scheduled()] == ["tick-2026-11-26", "digest-2026-11-26"]
