"""Errors raised by the store, with messages written for the operator."""


class StoreError(Exception):
    """Base class: the database or queue could not do what was asked."""


class StoreUnavailable(StoreError):
    """The database or Redis cannot be reached; nothing was written."""


class NotFound(StoreError):
    """A row the caller named does not exist."""
