"""What every adapter hands to the core: one normalised incoming message."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["console", "slack", "telegram", "email"]


class Envelope(BaseModel):
    """An operator message, already verified by its adapter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel
    event_id: str = Field(description="the channel's own id for this event: the idempotency key")
    thread_id: str = Field(description="replies and follow-ups stay in this thread")
    user_id: str
    text: str

    @property
    def thread_key(self) -> str:
        return f"{self.channel}:{self.thread_id}"

    @property
    def idempotency_key(self) -> str:
        return f"{self.channel}:{self.event_id}"
