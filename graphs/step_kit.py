"""What every step shares: its result type and how it finds the client a request means."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from graphs.approvals import Action
from graphs.deps import Deps
from store.models import Client


class StepResult(BaseModel):
    notes: list[str] = Field(default_factory=list)
    action: Action | None = None
    client_id: int | None = None
    # The name of ``client_id`` when the step has it at hand (the run's finish then need not
    # read it to remember the client for follow-ups in the thread).
    client_name: str | None = None
    stop: bool = False  # nothing more can be done in this run (e.g. unknown client)
    facts: dict[str, Any] = Field(default_factory=dict)


StepFn = Callable[[Deps, dict[str, Any]], StepResult]


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def resolve_client(deps: Deps, name: str | None, email: str | None) -> tuple[Client | None, list[Client]]:
    """The one client meant by name/e-mail, or None with the candidates when it is ambiguous."""
    matches = deps.store.clients.find(name, email)
    if len(matches) == 1:
        return matches[0], matches
    return None, matches


def unknown_client(name: str | None, candidates: list[Client]) -> StepResult:
    if candidates:
        names = ", ".join(c.name for c in candidates)
        return StepResult(notes=[f'"{name}" could mean {names}. Say it again with the full client name.'], stop=True)
    return StepResult(
        notes=[
            f"I don't know a client called {name!r} yet. Add them first, e.g. \"new client: {name}, "
            f'contact name@example.com".'
        ],
        stop=True,
    )


def today_for(deps: Deps) -> date:
    return deps.store.clock.today()
