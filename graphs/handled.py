"""What became of one message, in its own module: the conversation returns it, and the
command registry's handlers (which the conversation dispatches to) return it too."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Handled(BaseModel):
    """What became of one message: runs it started or resumed, and a short ack for the adapter."""

    duplicate: bool = False
    run_ids: list[str] = Field(default_factory=list)  # queued: replies will follow
    saved: list[str] = Field(default_factory=list)  # accepted, but the queue is down
    ack: str | None = None  # "On it." — adapters show it where a reply may take a while
    # The state each started run begins from (run id, intent, thread): a job that runs the run
    # straight after the message (bot.jobs) starts it without reading its intent back.
    starts: dict[str, dict[str, Any]] = Field(default_factory=dict)
    wrote_with_accept: bool = False  # the caller's ``with_accept`` was written with the request
