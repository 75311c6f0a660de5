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
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from agents.budget import PRICES, Budget, SpendCapReached
from agents.errors import AgentError, ModelConfigError
from agents.model_spec import OFFLINE, validate_spec
from store.collecting import collecting
from store.ledger import Ledger
from store.model_cache import ModelCache

Tier = Literal["small", "mid", "large"]
TIERS: tuple[Tier, ...] = ("small", "mid", "large")

ModelFactory = Callable[[str], BaseChatModel]
_PROVIDERS: dict[str, ModelFactory] = {}

T = TypeVar("T", bound=BaseModel)

# Calls made before a run exists (parsing the message that starts it) are booked to the run
# the message will start, so the ledger shows what every intent cost.
_attributed_run: ContextVar[str | None] = ContextVar("attributed_run", default=None)
# What the spend caps changed in the calls of one step (a cheaper tier used): the supervisor
# collects them and says them in the run's thread.
_budget_notes: ContextVar[list[str] | None] = ContextVar("budget_notes", default=None)
# Inside ``ModelRunner.offline()`` every tier is treated as offline (the caps are reached).
_forced_offline: ContextVar[bool] = ContextVar("forced_offline", default=False)

__all__ = ["PRICES", "SpendCapReached"]


def collect_budget_notes() -> AbstractContextManager[list[str]]:
    return collecting(_budget_notes)


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
    fallback_from: Tier | None = None  # the tier asked for, when a spend cap made coo use this one


class ModelTiers:
    """The configured tiers; builds each chat model once, on first use."""

    def __init__(self, specs: dict[Tier, str]) -> None:
        self.specs = {tier: validate_spec(specs.get(tier, OFFLINE)) for tier in TIERS}
        self._models: dict[Tier, BaseChatModel] = {}

    def is_offline(self, tier: Tier) -> bool:
        """Offline by configuration, or for now (the spend caps are reached: ``ModelRunner.offline``)."""
        return self.specs[tier] == OFFLINE or _forced_offline.get()

    def model(self, tier: Tier) -> BaseChatModel:
        if self.specs[tier] == OFFLINE:
            raise AgentError(f"the {tier} tier is offline; callers use their deterministic path")
        if tier not in self._models:
            self._models[tier] = build_model(self.specs[tier])
        return self._models[tier]


class ModelRunner:
    """Calls a tier's model with caching, and writes what each call cost into the ledger."""

    def __init__(self, tiers: ModelTiers, cache: ModelCache, ledger: Ledger, budget: Budget | None = None) -> None:
        self.tiers = tiers
        self.cache = cache
        self.ledger = ledger
        self.budget = budget

    @contextmanager
    def offline(self) -> Iterator[None]:
        """Every tier offline inside this block: callers take their deterministic path."""
        token = _forced_offline.set(True)
        try:
            yield
        finally:
            _forced_offline.reset(token)

    def _within_budget(self, tier: Tier, prompt: str) -> tuple[Tier, Tier | None]:
        """The tier to use under the spend caps, and the tier asked for when it is a cheaper one."""
        budget = self.budget
        if budget is None:
            return tier, None
        over = budget.over(budget.estimate(self.tiers.specs[tier].partition(":")[2], prompt))
        if over is None:
            return tier, None
        period, cap, spent = over
        reached = f"the {period} model budget (${cap:.2f}) is reached: ${spent:.4f} spent"
        if not budget.fallback_allowed():
            raise SpendCapReached(f"{reached}, and the policy does not allow a cheaper tier", period, cap, spent)
        for cheaper in reversed(TIERS[: TIERS.index(tier)]):
            spec = self.tiers.specs[cheaper]
            if spec == OFFLINE:
                continue
            if budget.over(budget.estimate(spec.partition(":")[2], prompt)) is None:
                notes = _budget_notes.get()
                if notes is not None:
                    notes.append(
                        f"💸 {reached[0].upper()}{reached[1:]}; I used the {cheaper} tier ({spec}) instead of {tier}."
                    )
                return cheaper, tier
        raise SpendCapReached(f"{reached}; no cheaper model tier fits", period, cap, spent)

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
        prompt = json.dumps([[m.type, m.content] for m in messages] + [schema.__name__ if schema else "text"])
        started = time.perf_counter()
        cached = self.cache.get(self.tiers.specs[tier], prompt)
        if cached is not None:
            return cached, ModelCall(
                tier=tier,
                model=self.tiers.specs[tier],
                purpose=purpose,
                prompt_tokens=0,
                completion_tokens=0,
                cost_usd=0.0,
                priced=True,
                latency_ms=(time.perf_counter() - started) * 1000,
                cached=True,
            )
        tier, fallback_from = self._within_budget(tier, prompt)
        spec = self.tiers.specs[tier]
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
        price = self.budget.price(model_name) if self.budget is not None else PRICES.get(model_name)
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
            fallback_from=fallback_from,
        )
