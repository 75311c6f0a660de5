"""Errors raised by agents, with messages written for the operator."""


class AgentError(Exception):
    """An agent could not do its job; the message says why in the operator's terms."""


class ModelConfigError(AgentError):
    """A model tier is configured with something coo cannot build."""


class DeliveryUncertain(AgentError):
    """An earlier attempt at a side effect died mid-way; repeating it could duplicate it."""


class SendFailed(AgentError):
    """The mail server did not take the e-mail; nothing left the machine.

    ``transient``: the server was unreachable or answered "try later" (4xx), so the same e-mail
    may go through on a later attempt; otherwise (5xx: no such mailbox, relaying denied, bad
    login) repeating it cannot help until something is fixed."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class SendUncertain(DeliveryUncertain):
    """The mail server was handed the whole message, then the connection dropped (or its reply
    was lost) before it confirmed: it may or may not have gone out. Never retried blindly."""
