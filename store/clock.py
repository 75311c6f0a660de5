"""Time, injectable so that tests (and replays) control it. All stored times are UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class Clock:
    """The wall clock in UTC, shown in the operator's time zone."""

    def __init__(self, tz: str = "UTC") -> None:
        self.tz = ZoneInfo(tz)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date where the operator lives (due dates are local calendar dates)."""
        return self.now().astimezone(self.tz).date()

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)


class FixedClock(Clock):
    """A clock that stands still until moved: for tests and deterministic benchmarks."""

    def __init__(self, moment: datetime, tz: str = "UTC") -> None:
        super().__init__(tz)
        self._moment = moment.astimezone(UTC)

    def now(self) -> datetime:
        return self._moment

    def advance(self, **delta: float) -> None:
        self._moment += timedelta(**delta)


def local_moment(tz: ZoneInfo, day: date, hhmm: str) -> datetime:
    """``hhmm`` on the local ``day``, as a UTC moment. A wall time that does not exist that day
    (the spring-forward gap) is normalised through UTC to the real instant after the gap."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=tz).astimezone(UTC)


def next_local_time(tz: ZoneInfo, hhmm: str, after: datetime) -> tuple[date, datetime]:
    """The next ``hhmm`` local time strictly after ``after``, as (local date, UTC moment).

    Built from the local wall clock each day, so a daily job stays at 08:00 across
    daylight-saving changes."""
    day = after.astimezone(tz).date()
    while True:  # today, or at the latest tomorrow
        moment = local_moment(tz, day, hhmm)
        if moment > after:
            return day, moment
        day += timedelta(days=1)
