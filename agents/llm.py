"""Model tiers and the one door every model call goes through.

Tiers: ``small`` (routing, classification), ``mid`` (drafting), ``large`` (planning, risky
decisions). Each is ``offline`` (deterministic code, no network, no key) or
``provider:model``. Providers register a factory by name (tests register a scripted chat
model); anything else is built by langchain's ``init_chat_model`` when it is installed.
Every call is cached by prompt and recorded in the ledger with tokens, cost and latency.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from agents.errors import AgentError, ModelConfigError
from agents.model_spec import OFFLINE, validate_spec
from store.ledger import Ledger
from store.model_cache import ModelCache

Tier = Literal["small", "mid", "large"]
TIERS: tuple[Tier, ...] = ("small", "mid", "large")

ModelFactory = Callable[[str], BaseChatModel]
_PROVIDERS: dict[str, ModelFactory] = {}

# USD per million tokens (prompt, completion). Unknown models are recorded with cost 0 and
# ``priced: false`` so the operator can see the figure is missing rather than free.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "claude-3-5-haiku-latest": (0.80, 4.00),
    "claude-sonnet-4-5": (3.00, 15.00),
}

T = TypeVar("T", bound=BaseModel)

# Calls made before a run exists (parsing the message that starts it) are booked to the run
# the message will start, so the ledger shows what every intent cost.
_attributed_run: ContextVar[str | None] = ContextVar("attributed_run", default=None)


@contextmanager
def attribute_to(run_id: str) -> Iterator[None]:
    """Book model calls made inside this block to ``run_id`` unless they name a run."""
    token = _attributed_run.set(run_id)
    try:
        yield
    finally:
        _attributed_run.reset(token)


def register_provider(name: str, factory: ModelFactory) -> None:
    """Make ``name:model`` buildable; a provider registered later replaces an earlier one."""
    _PROVIDERS[name] = factory


def unregister_provider(name: str) -> None:
    _PROVIDERS.pop(name, None)


def build_model(spec: str) -> BaseChatModel:
    provider, _, model = spec.partition(":")
    if provider in _PROVIDERS:
        return _PROVIDERS[provider](model)
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:
        raise ModelConfigError(
            f"The model {spec!r} needs langchain and the {provider} integration installed "
            f"(pip install langchain langchain-{provider}); or use 'offline'."
        ) from exc
    try:
        return init_chat_model(model, model_provider=provider)
    except Exception as exc:
        raise ModelConfigError(f"Cannot build the model {spec!r}: {exc}") from exc


class ModelCall(BaseModel):
    """What one model call cost; recorded in the ledger as a ``model_call`` event."""

    tier: Tier
    model: str
    purpose: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    priced: bool
    latency_ms: float
    cached: bool


class ModelTiers:
    """The configured tiers; builds each chat model once, on first use."""

    def __init__(self, specs: dict[Tier, str]) -> None:
        self.specs = {tier: validate_spec(specs.get(tier, OFFLINE)) for tier in TIERS}
        self._models: dict[Tier, BaseChatModel] = {}

    def is_offline(self, tier: Tier) -> bool:
        return self.specs[tier] == OFFLINE

    def model(self, tier: Tier) -> BaseChatModel:
        if self.is_offline(tier):
            raise AgentError(f"the {tier} tier is offline; callers use their deterministic path")
        if tier not in self._models:
            self._models[tier] = build_model(self.specs[tier])
        return self._models[tier]


class ModelRunner:
    """Calls a tier's model with caching, and writes what each call cost into the ledger."""

    def __init__(self, tiers: ModelTiers, cache: ModelCache, ledger: Ledger) -> None:
        self.tiers = tiers
        self.cache = cache
        self.ledger = ledger

    def _record(self, run_id: str | None, step: str, call: ModelCall, call_id: str) -> None:
        run_id = run_id or _attributed_run.get()
        if run_id:
            self.ledger.append(
                run_id, step, "model_call", call.model_dump(), actor=f"model:{call.tier}", dedupe=call_id
            )

    def text(
        self, tier: Tier, purpose: str, system: str, user: str, *, run_id: str | None = None, step: str = "model"
    ) -> str:
        """Free text from the tier's model (for drafts)."""
        messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(user)]
        raw, call = self._invoke(tier, purpose, messages, None)
        self._record(run_id, step, call, uuid.uuid4().hex)
        return raw

    def structured(
        self,
        tier: Tier,
        purpose: str,
        schema: type[T],
        system: str,
        user: str,
        *,
        run_id: str | None = None,
        step: str = "model",
    ) -> T:
        """A validated ``schema`` instance from the tier's model (tool calling)."""
        messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(user)]
        raw, call = self._invoke(tier, purpose, messages, schema)
        self._record(run_id, step, call, uuid.uuid4().hex)
        try:
            return schema.model_validate_json(raw)
        except ValueError as exc:
            raise AgentError(f"The {tier} model returned something that is not a valid {schema.__name__}.") from exc

    def _invoke(
        self, tier: Tier, purpose: str, messages: list[BaseMessage], schema: type[BaseModel] | None
    ) -> tuple[str, ModelCall]:
        spec = self.tiers.specs[tier]
        prompt = json.dumps([[m.type, m.content] for m in messages] + [schema.__name__ if schema else "text"])
        started = time.perf_counter()
        cached = self.cache.get(spec, prompt)
        if cached is not None:
            return cached, ModelCall(
                tier=tier,
                model=spec,
                purpose=purpose,
                prompt_tokens=0,
                completion_tokens=0,
                cost_usd=0.0,
                priced=True,
                latency_ms=(time.perf_counter() - started) * 1000,
                cached=True,
            )
        model = self.tiers.model(tier)
        try:
            if schema is None:
                message = model.invoke(messages)
                output = str(message.content)
            else:
                result = model.with_structured_output(schema, include_raw=True).invoke(messages)
                if not isinstance(result, dict):  # include_raw=True promises a dict; the signature does not
                    raise AgentError(f"The {tier} model did not return a usable {schema.__name__}.")
                message = result["raw"]
                if result.get("parsing_error") or result.get("parsed") is None:
                    raise AgentError(f"The {tier} model did not return a usable {schema.__name__}.")
                output = result["parsed"].model_dump_json()
        except AgentError:
            raise
        except Exception as exc:  # provider errors vary; the operator needs one clear line
            raise AgentError(f"The {tier} model ({spec}) failed: {exc}") from exc
        usage = getattr(message, "usage_metadata", None) or {}
        prompt_tokens = int(usage.get("input_tokens", 0))
        completion_tokens = int(usage.get("output_tokens", 0))
        model_name = spec.partition(":")[2]
        price = PRICES.get(model_name)
        cost = (prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6 if price else 0.0
        self.cache.put(spec, prompt, output)
        return output, ModelCall(
            tier=tier,
            model=spec,
            purpose=purpose,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=round(cost, 6),
            priced=price is not None,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            cached=False,
        )
