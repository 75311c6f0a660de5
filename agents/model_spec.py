"""What a model tier may be set to: ``offline`` or ``provider:model``.

Kept apart from agents.llm (which imports LangChain) so that reading the settings, which
checks COO_MODEL_*, stays cheap: `coo --help` and `coo parse` never load LangChain.
"""

from __future__ import annotations

OFFLINE = "offline"


def validate_spec(spec: str) -> str:
    """``offline`` or ``provider:model``; raises ValueError with the reason otherwise."""
    spec = spec.strip()
    if spec == OFFLINE:
        return spec
    provider, sep, model = spec.partition(":")
    if not sep or not provider or not model:
        raise ValueError(f"expected 'offline' or 'provider:model', got {spec!r}")
    return spec
