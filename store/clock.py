"""Time, injectable so that tests (and replays) control it. All stored times are UTC."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo


class Clock:
    """The wall clock in UTC, shown in the operator's time zone."""

    def __init__(self, tz: str = "UTC") -> None:
        self.tz = ZoneInfo(tz)

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def today(self) -> date:
        """Today's date where the operator lives (due dates are local calendar dates)."""
        return self.now().astimezone(self.tz).date()

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)


class FixedClock(Clock):
    """A clock that stands still until moved: for tests and deterministic benchmarks."""

    def __init__(self, moment: datetime, tz: str = "UTC") -> None:
        super().__init__(tz)
        self._moment = moment.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._moment

    def advance(self, **delta: float) -> None:
        self._moment += timedelta(**delta)
