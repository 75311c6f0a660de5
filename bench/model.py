"""Tokens per intent on a model tier, with a deterministic stand-in for a provider's chat model.

``BenchChatModel`` sits behind langchain-core's interface like a real provider: structured
output arrives as a tool call (the intent the offline parser makes of the message) and every
reply carries ``usage_metadata``. Its token counts are an approximation — words and
punctuation marks, over the messages *and* the tool schema, since providers bill the tool
definitions as prompt tokens; real BPE tokenizers differ by some tens of percent, so read
the figures as "how big is the prompt", not as a bill.

Where the figures come from: per intent, the ``ModelCall`` the runner computed from the
model's usage (what it records in the ledger), for every one of the messages — also those that
start no run (help, unknown), which have no run to book a ledger event to. Then a few lines go
through the console so the calls made for runs (the parse of the message that starts a run,
when the conversation books it to that run, and the proposal draft on the mid tier) are read
back from the ledger's ``model_call`` events.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from statistics import mean
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from agents.llm import register_provider, unregister_provider
from bot.runtime import Runtime, use_runtime
from bot.settings import load_settings
from graphs.intents import intent_to_dict
from graphs.model_parser import IntentKindChoice
from graphs.offline_parser import OfflineParser
from graphs.parser_eval import DEFAULT_PHRASINGS_PATH, EVAL_TODAY

PROVIDER = "bench"
_TOKEN = re.compile(r"\w+|[^\w\s]")
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_OFFLINE = OfflineParser()
# Lines that start runs whose steps call the model tiers (a proposal is drafted on the mid
# tier), so model calls are made inside runs and recorded in the ledger with their tokens.
DRAFTING_LINES: tuple[str, ...] = (
    "Acme Studio signed the retainer: $4,000 a month, 3 design rounds, bill on the 1st, contact jane@acme.example",
    "retainer with Halcyon Labs: 6k a month, bill on the 15th, contact ops@halcyon.example",
    "draft a proposal for Acme Studio for a brand refresh, $6k",
)


def approx_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


class BenchChatModel(BaseChatModel):
    """Deterministic chat model: tool calls from the offline parser, short text drafts, usage counts."""

    tools: list[dict[str, Any]] = []
    # Shared by every bound copy: (messages tokens, tool-schema tokens) of each call.
    prompt_split: list[tuple[int, int]] = []

    @property
    def _llm_type(self) -> str:
        return "coo-bench"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        bound = self.model_copy()  # shallow: prompt_split stays shared
        bound.tools = [convert_to_openai_tool(t) for t in tools]
        return bound

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message_tokens = sum(approx_tokens(str(m.content)) for m in messages)
        schema_tokens = approx_tokens(json.dumps(self.tools)) if self.tools else 0
        self.prompt_split.append((message_tokens, schema_tokens))
        user = next((str(m.content) for m in reversed(messages) if isinstance(m, HumanMessage)), "")
        if self.tools:
            system = " ".join(str(m.content) for m in messages if not isinstance(m, HumanMessage))
            found = _DATE.search(system)
            today = date.fromisoformat(found.group(1)) if found else date.today()
            intent = intent_to_dict(_OFFLINE.parse(user, today).intent)
            # the parser asks for the kind first, then for that kind's fields
            tool = self.tools[0]["function"]["name"]
            args = {"kind": intent["kind"]} if tool == "IntentKindChoice" else intent
            reply = AIMessage(
                content="",
                tool_calls=[
                    {"name": self.tools[0]["function"]["name"], "args": args, "id": f"call_{len(self.prompt_split)}"}
                ],
            )
            completion = approx_tokens(json.dumps(args))
        else:
            # A plausible short draft: the facts given, as prose, as a model would return them.
            body = "Hello,\n\nThank you for working with us. " + " ".join(user.splitlines()) + "\n\nBest regards"
            reply = AIMessage(content=body)
            completion = approx_tokens(body)
        prompt = message_tokens + schema_tokens
        reply.usage_metadata = {
            "input_tokens": prompt,
            "output_tokens": completion,
            "total_tokens": prompt + completion,
        }
        return ChatResult(generations=[ChatGeneration(message=reply)])


def _sample(count: int) -> list[str]:
    """``count`` operator phrasings spread evenly over the evaluation set (so over every kind)."""
    with DEFAULT_PHRASINGS_PATH.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    step = max(len(texts) // count, 1)
    return texts[::step][:count]


def run(quick: bool) -> dict[str, Any]:
    model = BenchChatModel()
    register_provider(PROVIDER, lambda name: model)
    texts = _sample(10 if quick else 50)
    with tempfile.TemporaryDirectory(prefix="coo-bench-model-") as tmp:
        settings = load_settings(
            database_url=f"sqlite:///{Path(tmp) / 'coo.sqlite3'}",
            data_dir=tmp,
            redis_url=None,
            smtp_url=None,
            from_email=None,
            timezone="UTC",
            model_small=f"{PROVIDER}:intent",
            model_mid=f"{PROVIDER}:writer",
            model_large="offline",
        )
        runtime = Runtime(settings)
        use_runtime(runtime)
        try:
            return _measure(runtime, model, texts)
        finally:
            runtime.queue.wait_idle()
            runtime.close()
            use_runtime(None)
            unregister_provider(PROVIDER)


def _measure(runtime: Runtime, model: BenchChatModel, texts: list[str]) -> dict[str, Any]:
    from bench.latency import drive_lines

    calls: list[Any] = []
    invoke = runtime.runner._invoke

    def recorded(*args: Any, **kwargs: Any) -> Any:
        output, call = invoke(*args, **kwargs)
        calls.append(call)
        return output, call

    runtime.runner._invoke = recorded  # type: ignore[method-assign]  # wrapped to keep each call's figures
    # One parse is two calls (the kind, then that kind's fields): figures are summed per intent.
    per_kind: dict[str, list[tuple[int, int]]] = defaultdict(list)
    per_intent: list[tuple[int, int]] = []
    fallbacks = 0
    for text in texts:
        made = len(calls)
        intent = runtime.parser.parse(text, EVAL_TODAY).intent
        new = calls[made:]
        if not new:  # the model failed and the offline parser answered: no call to count
            fallbacks += 1
            continue
        tokens = (sum(c.prompt_tokens for c in new), sum(c.completion_tokens for c in new))
        per_intent.append(tokens)
        per_kind[intent.kind].append(tokens)
    fresh = [c for c in calls if not c.cached]
    split = model.prompt_split[: len(fresh)]
    cached = 0
    for text in texts:  # the same prompts again: the output cache answers, no tokens spent
        made = len(calls)
        runtime.parser.parse(text, EVAL_TODAY)
        cached += bool(calls[made:]) and all(c.cached for c in calls[made:])

    drive_lines(runtime, list(DRAFTING_LINES))
    in_runs = _ledger_calls(runtime)
    return {
        "tier": runtime.tiers.specs["small"],
        "intents": len(texts),
        "model_failures": fallbacks,
        "prompt_tokens_per_intent": round(mean(p for p, _ in per_intent), 1),
        "completion_tokens_per_intent": round(mean(c for _, c in per_intent), 1),
        "calls_per_intent": round(len(fresh) / max(len(per_intent), 1), 2),
        "prompt_message_tokens": round(mean(m for m, _ in split), 1),
        "prompt_schema_tokens": round(mean(s for _, s in split), 1),
        "prompt_schema_chars": len(json.dumps(convert_to_openai_tool(IntentKindChoice))),
        "by_kind": {
            kind: {
                "n": len(ts),
                "prompt": round(mean(p for p, _ in ts), 1),
                "completion": round(mean(c for _, c in ts), 1),
            }
            for kind, ts in sorted(per_kind.items())
        },
        "repeat_cache_hits": f"{cached}/{len(texts)}",
        "in_run_calls": {
            purpose: {
                "n": len(cs),
                "prompt": round(mean(c["prompt_tokens"] for c in cs), 1),
                "completion": round(mean(c["completion_tokens"] for c in cs), 1),
            }
            for purpose, cs in sorted(in_runs.items())
        },
        "source": "per intent: the runner's ModelCall for each parse (messages that start no run have no "
        "ledger event); calls for runs: the ledger's model_call events",
    }


def _ledger_calls(runtime: Runtime) -> dict[str, list[dict[str, Any]]]:
    """The ``model_call`` events the runs recorded, by tier:purpose."""
    store = runtime.store
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    run_ids = {r["run_id"] for r in store.db.fetchall("SELECT run_id FROM ledger WHERE kind = 'model_call'")}
    for run_id in sorted(run_ids):
        for event in store.ledger.events(run_id):
            if event.kind == "model_call" and not event.payload.get("cached"):
                out[f"{event.payload['tier']}:{event.payload['purpose']}"].append(event.payload)
    return out
