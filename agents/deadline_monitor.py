"""Deadline monitor: retainer deliverables about to slip, raised once per deliverable and threshold.

Thresholds are in local calendar days before the due date: 3 days, 1 day (which includes
"due today"), and overdue. Each alert has a key (deliverable + threshold); the message and
ledger event written under it make a second run of the same day, or of the next day, silent.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from store.facade import Store
from store.models import Client, Deliverable, Retainer

THRESHOLDS: tuple[tuple[int, str], ...] = ((1, "1d"), (3, "3d"))  # most urgent first


class Alert(BaseModel):
    deliverable: Deliverable
    client: Client
    retainer: Retainer
    threshold: str  # "3d" | "1d" | "overdue"
    days_left: int

    @property
    def key(self) -> str:
        return f"deadline:{self.deliverable.id}:{self.threshold}"

    @property
    def text(self) -> str:
        d = self.deliverable
        assert d.due_date is not None
        when = f"{d.due_date:%a} {d.due_date.day} {d.due_date:%b %Y}"
        if self.days_left < 0:
            late = -self.days_left
            status = f"is {late} day{'s' if late != 1 else ''} late (was due {when})"
        elif self.days_left == 0:
            status = f"is due today ({when})"
        elif self.days_left == 1:
            status = f"is due tomorrow ({when})"
        else:
            status = f"is due in {self.days_left} days ({when})"
        return f"⏰ {self.client.name}: “{d.title}” {status} and is still open. When it's delivered: /done {d.id}"


def threshold_for(days_left: int) -> str | None:
    """The most urgent threshold crossed (a deliverable added 1 day out skips the 3-day alert)."""
    if days_left < 0:
        return "overdue"
    for limit, name in THRESHOLDS:
        if days_left <= limit:
            return name
    return None


def alerts_for(store: Store, day: date) -> list[Alert]:
    """Open deliverables of active retainers that crossed a threshold as of ``day``."""
    alerts = []
    for retainer in store.work.active_retainers():
        client = store.clients.get(retainer.client_id)
        for d in store.work.open_deliverables(retainer.client_id):
            if d.due_date is None:
                continue
            left = (d.due_date - day).days
            threshold = threshold_for(left)
            if threshold is not None:
                alerts.append(
                    Alert(deliverable=d, client=client, retainer=retainer, threshold=threshold, days_left=left)
                )
    return alerts
