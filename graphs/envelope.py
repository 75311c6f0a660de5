"""What every adapter hands to the core: one normalised incoming message."""

from __future__ import annotations

from typing import Literal, TypeGuard, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from graphs.commands import Command
from store.storable import storable_text

Channel = Literal["console", "slack", "telegram", "email"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)


def is_channel(value: str) -> TypeGuard[Channel]:
    """True for a channel an operator message can arrive on (a run's channel is stored as text)."""
    return value in CHANNELS


class Envelope(BaseModel):
    """An operator message, already verified by its adapter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel
    event_id: str = Field(description="the channel's own id for this event: the idempotency key")
    thread_id: str = Field(description="replies and follow-ups stay in this thread")
    user_id: str
    text: str = Field(description="what the operator wrote, or what a tap or form did, for the record")
    command: Command | None = Field(
        default=None, description="a button tap or form submission, typed; never re-parsed from text"
    )

    @field_validator("text")
    @classmethod
    def _storable(cls, value: str) -> str:
        # A NUL or a lone surrogate from a chat client would make every database write of this
        # message fail: answered without them instead of dropped (store/storable.py).
        return storable_text(value)

    @property
    def thread_key(self) -> str:
        return f"{self.channel}:{self.thread_id}"

    @property
    def idempotency_key(self) -> str:
        return f"{self.channel}:{self.event_id}"
