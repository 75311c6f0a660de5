"""A checkpointer that can hold a run's checkpoint writes back until the run says whether they
are needed.

The supervisor runs with ``durability="exit"``: LangGraph writes one checkpoint when the run
stops, and a run that finished has it deleted at once (the ledger keeps the story). For a run
started afresh that finishes in one go, that checkpoint is written only to be deleted: four
statements of a run's few dozen. Within :meth:`HoldingSaver.holding`, the writes wait; the
supervisor saves them when the run stopped at a gate or failed (so it can be resumed or
continued), and drops them when it finished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)

# Writes held back in this context (LangGraph's background writer runs in a copy of it, which
# shares the list).
_held: ContextVar[list[Callable[[], Any]] | None] = ContextVar("held_checkpoint_writes", default=None)


class Held:
    """The writes one block held back: :meth:`save` them, or leave them (dropped)."""

    def __init__(self) -> None:
        self.writes: list[Callable[[], Any]] = []

    def save(self) -> None:
        writes, self.writes = self.writes, []
        for write in writes:
            write()


class HoldingSaver(BaseCheckpointSaver):
    """``inner`` for everything, except writes made within :meth:`holding`."""

    def __init__(self, inner: BaseCheckpointSaver) -> None:
        super().__init__(serde=inner.serde)
        self.inner = inner

    @contextmanager
    def holding(self) -> Iterator[Held]:
        held = Held()
        token = _held.set(held.writes)
        try:
            yield held
        finally:
            _held.reset(token)

    @property
    def config_specs(self) -> list[Any]:
        return list(self.inner.config_specs)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self.inner.get_tuple(config)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        return self.inner.list(config, filter=filter, before=before, limit=limit)

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        held = _held.get()
        if held is None:
            return self.inner.put(config, checkpoint, metadata, new_versions)
        held.append(lambda: self.inner.put(config, checkpoint, metadata, new_versions))
        configurable = config["configurable"]
        # What the inner saver returns: the saved checkpoint's address.
        return {
            "configurable": {
                "thread_id": configurable["thread_id"],
                "checkpoint_ns": configurable.get("checkpoint_ns", ""),
                "checkpoint_id": checkpoint["id"],
            }
        }

    def put_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        held = _held.get()
        if held is None:
            self.inner.put_writes(config, writes, task_id, task_path)
            return
        held.append(lambda: self.inner.put_writes(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        self.inner.delete_thread(thread_id)

    def get_next_version(self, current: Any, channel: None) -> Any:
        return self.inner.get_next_version(current, channel)

    def get_delta_channel_history(self, *, config: RunnableConfig, channels: Sequence[str]) -> Mapping[str, Any]:
        return self.inner.get_delta_channel_history(config=config, channels=channels)
