"""A scripted chat model behind langchain-core's interface: replies from a list, with tool
calls for structured output and usage metadata, like a real provider's chat model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool


class ScriptedChatModel(BaseChatModel):
    """Each call pops the next scripted reply: a string (text) or a dict (tool-call arguments)."""

    script: list[Any]
    calls: list[list[BaseMessage]] = []
    tools: list[dict[str, Any]] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        bound = self.model_copy()
        bound.tools = [convert_to_openai_tool(t) for t in tools]
        bound.calls = self.calls
        bound.script = self.script
        return bound

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append(list(messages))
        if not self.script:
            raise RuntimeError("the scripted model has no more replies")
        reply = self.script.pop(0)
        prompt_tokens = sum(len(str(m.content).split()) for m in messages)
        if isinstance(reply, dict):
            name = self.tools[0]["function"]["name"] if self.tools else "tool"
            message = AIMessage(content="", tool_calls=[{"name": name, "args": reply, "id": f"call_{len(self.calls)}"}])
            completion_tokens = len(json.dumps(reply).split())
        else:
            message = AIMessage(content=str(reply))
            completion_tokens = len(str(reply).split())
        message.usage_metadata = {
            "input_tokens": prompt_tokens,
            "output_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        return ChatResult(generations=[ChatGeneration(message=message)])
