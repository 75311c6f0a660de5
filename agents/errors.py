"""Errors raised by agents, with messages written for the operator."""


class AgentError(Exception):
    """An agent could not do its job; the message says why in the operator's terms."""


class ModelConfigError(AgentError):
    """A model tier is configured with something coo cannot build."""


class DeliveryUncertain(AgentError):
    """An earlier attempt at a side effect died mid-way; repeating it could duplicate it."""
