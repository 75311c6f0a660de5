"""The configuration error and the checks that commands reading only a few variables share
with the settings object (bot.settings), kept apart so those commands start without
pydantic-settings."""

from __future__ import annotations

import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(Exception):
    """A setting is wrong; the message is one line naming the variable."""


def check_timezone(value: str) -> str:
    """An IANA time zone name; ValueError with the reason otherwise."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)") from None
    return value


def env(name: str, default: str) -> str:
    """``COO_…`` from the environment, matched without regard to case as the settings do."""
    wanted = name.upper()
    return next((v for k, v in os.environ.items() if k.upper() == wanted), default)


def parse_settings() -> tuple[str, str]:
    """What `coo parse` reads: (COO_MODEL_SMALL, COO_TIMEZONE), checked with the settings' own
    rules and messages; ConfigError names the variable."""
    from agents.model_spec import validate_spec

    values = []
    for name, default, check in (
        ("COO_MODEL_SMALL", "offline", validate_spec),
        ("COO_TIMEZONE", "UTC", check_timezone),
    ):
        try:
            values.append(check(env(name, default)))
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    return values[0], values[1]
