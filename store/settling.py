"""Whether an invoice may have been settled (paid or voided) within a block of work.

A run's finish withdraws waiting reminder cards about invoices that are now settled
(store.reminder_cards); a run that touched no invoice's payments or status need not look. The
places that change an invoice's status or payments say so here; a block that watches learns
whether any did. Outside a watched block nothing is known, and callers look as before.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextvars import ContextVar

from store.collecting import collecting

_seen: ContextVar[list[bool] | None] = ContextVar("invoice_settled", default=None)


def may_settle() -> None:
    """An invoice's payments or status changed (it may be paid or void now)."""
    seen = _seen.get()
    if seen is not None and not seen:
        seen.append(True)


def watching() -> AbstractContextManager[list[bool]]:
    """Within the block, whether an invoice may have been settled (the list is non-empty then)."""
    return collecting(_seen)


def settled_or_unknown() -> bool:
    """False only inside a watched block where no invoice changed."""
    seen = _seen.get()
    return seen is None or bool(seen)
