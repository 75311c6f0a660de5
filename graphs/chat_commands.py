"""Chat-command helpers the conversation answers with: the text of `/autonomy` and of a bare `/done`.

The conversation imports these; this module never imports the conversation (no import circle,
checked by import-linter), so the commands can grow into a registry of their own.
"""

from __future__ import annotations

from graphs.autonomy import autonomy_command
from store.facade import Store

__all__ = ["autonomy_command", "open_deliverables_text"]


def open_deliverables_text(store: Store) -> str:
    """The answer to a bare /done: which deliverables are open, with their numbers."""
    names = {c.id: c.name for c in store.clients.all()}
    items = store.work.open_deliverables()
    if not items:
        return "No open deliverables."
    lines = ["Which one is done? Write /done N:"]
    lines.extend(
        f"• {d.id} {d.title} ({names.get(d.client_id, '?')})"
        + (f" — due {d.due_date.isoformat()}" if d.due_date else "")
        for d in items[:15]
    )
    return "\n".join(lines)
