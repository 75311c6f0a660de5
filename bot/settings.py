"""Configuration: environment variables, read once, into one validated settings object."""

from __future__ import annotations

import os
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agents.model_spec import validate_spec
from bot.config_error import ConfigError, check_timezone


def _alias(env: str) -> AliasChoices:
    """Read ``env`` from the environment; keyword overrides still use the field name."""
    return AliasChoices(env, env.lower())


def default_data_dir() -> Path:
    return Path(user_data_dir("coo", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COO_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""
    redis_url: str | None = None
    model_small: str = "offline"
    model_mid: str = "offline"
    model_large: str = "offline"
    smtp_url: str | None = None
    from_email: str | None = None
    timezone: str = "UTC"
    digest_time: str = "08:00"  # local time of the daily digest (HH:MM in COO_TIMEZONE)
    playbooks_dir: str = ""  # the operator's own playbooks: directories separated by ':'
    tick_time: str = "07:00"  # local time of the daily recurring work: invoices, weekly reports, deadlines
    report_weekday: int = 5  # ISO weekday of the weekly client reports (COO_REPORT_WEEKDAY=friday or 5)
    # Days overdue at which the tick drafts payment reminders, each firmer ("3,10,30"; "off": none).
    reminder_days: str = "3,10,30"
    # Semantic memory: minilm-onnx, hashing, m2v or minilm (coo[minilm]). Unset: the memory's own
    # embedder, or minilm-onnx for a new memory (agents.embedders.choose).
    embedder: str = ""

    # Chat platforms. Their variables carry the platforms' own names (no COO_ prefix), as
    # their docs and app manifests spell them.
    slack_bot_token: str | None = Field(None, validation_alias=_alias("SLACK_BOT_TOKEN"))
    slack_signing_secret: str | None = Field(None, validation_alias=_alias("SLACK_SIGNING_SECRET"))
    slack_app_token: str | None = Field(None, validation_alias=_alias("SLACK_APP_TOKEN"))
    slack_api_url: str = Field("https://slack.com/api/", validation_alias=_alias("SLACK_API_URL"))
    telegram_bot_token: str | None = Field(None, validation_alias=_alias("TELEGRAM_BOT_TOKEN"))
    telegram_webhook_url: str | None = Field(None, validation_alias=_alias("TELEGRAM_WEBHOOK_URL"))
    telegram_webhook_secret: str | None = Field(None, validation_alias=_alias("TELEGRAM_WEBHOOK_SECRET"))
    telegram_api_url: str = Field("https://api.telegram.org", validation_alias=_alias("TELEGRAM_API_URL"))
    slack_operators: str = ""  # comma-separated Slack user ids (U…) allowed to command and approve
    telegram_operators: str = ""  # comma-separated Telegram user ids
    inbound_email_secret: str | None = None  # shared secret for POST /inbound/email
    approval_remind_after: float = 24.0  # hours a waiting approval waits before a reminder (0: never)
    # Bearer token for GET /metrics and /dashboard; unset, they answer requests from this machine only.
    metrics_token: str | None = None
    # Model spend caps in USD (0: none); /policy cap daily|monthly AMOUNT in chat wins over these.
    daily_cost_cap: float = 0.0
    monthly_cost_cap: float = 0.0
    # Prices over the built-in table: "model=IN/OUT,…" in USD per million tokens.
    model_prices: str = ""
    # Invoices of at least this amount (and every credit note) get a large-tier review on their card.
    large_review_over: float = 5000.0
    public_url: str = "http://127.0.0.1:8000"  # where `coo serve` is reached: `coo dashboard-link` prints it
    # Seconds `coo serve` and `coo worker` wait at start for PostgreSQL and Redis (0: don't wait).
    start_wait: float = 300.0

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if value and urlparse(value).scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("expected postgresql://… or sqlite:///path")
        return value

    @field_validator(
        "redis_url",
        "smtp_url",
        "from_email",
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "telegram_bot_token",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        "inbound_email_secret",
        "metrics_token",
    )
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value and urlparse(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("expected redis://host:port/db")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, value: str | None) -> str | None:
        if value and (urlparse(value).scheme not in ("smtp", "smtps") or not urlparse(value).hostname):
            raise ValueError("expected smtp://user:pass@host:587 or smtps://host:465")
        return value

    @field_validator("from_email")
    @classmethod
    def _from(cls, value: str | None) -> str | None:
        if value and "@" not in parseaddr(value)[1]:
            raise ValueError("expected an address like 'Ana Ruiz <ana@studio.example>'")
        return value

    @field_validator("model_small", "model_mid", "model_large")
    @classmethod
    def _model(cls, value: str) -> str:
        return validate_spec(value)

    @field_validator("embedder")
    @classmethod
    def _embedder(cls, value: str) -> str:
        value = (value or "").strip().lower()
        if not value:  # unset: nothing to check, and agents.embedders stays unimported
            return value
        from agents.embedders import EMBEDDERS

        if value not in EMBEDDERS:
            raise ValueError(f"expected one of: {', '.join(EMBEDDERS)}")
        return value

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _reminder_days(cls, value: object) -> str:
        text = str(value).strip().lower()
        if text in ("", "off", "none", "0"):
            return ""
        try:
            days = sorted({int(part) for part in text.replace(" ", "").split(",") if part})
        except ValueError:
            raise ValueError(
                f"expected days overdue separated by commas, like 3,10,30 (or off), got {value!r}"
            ) from None
        if not days or days[0] < 1:
            raise ValueError(f"expected days overdue of at least 1, like 3,10,30 (or off), got {value!r}")
        return ",".join(str(d) for d in days)

    @property
    def reminder_schedule(self) -> tuple[int, ...]:
        """The reminder days as numbers, ascending; empty when reminders are off."""
        return tuple(int(d) for d in self.reminder_days.split(",") if d)

    @field_validator("report_weekday", mode="before")
    @classmethod
    def _weekday(cls, value: object) -> int:
        names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        text = str(value).strip().lower()
        for number, name in enumerate(names, start=1):
            if text in (str(number), name, name[:3]):
                return number
        raise ValueError(f"expected a weekday like friday (or 1–7, Monday = 1), got {value!r}")

    @field_validator("digest_time", "tick_time")
    @classmethod
    def _digest_time(cls, value: str) -> str:
        hours, sep, minutes = value.partition(":")
        if not (
            sep
            and hours.isdigit()
            and minutes.isdigit()
            and int(hours) < 24
            and int(minutes) < 60
            and len(minutes) == 2
        ):
            raise ValueError(f"expected a local time like 08:00, got {value!r}")
        return f"{int(hours):02d}:{minutes}"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("slack_api_url", "telegram_api_url", "telegram_webhook_url", "public_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value and urlparse(value).scheme not in ("http", "https"):
            raise ValueError("expected an http(s):// URL")
        return value

    @field_validator("model_prices")
    @classmethod
    def _prices(cls, value: str) -> str:
        from agents.budget import parse_prices

        parse_prices(value)  # raises ValueError naming the part it cannot read
        return value.strip()

    @field_validator("daily_cost_cap", "monthly_cost_cap", "large_review_over")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError("expected an amount in USD, 0 or more")
        return value

    @field_validator("approval_remind_after")
    @classmethod
    def _hours(cls, value: float) -> float:
        if value < 0:
            raise ValueError("expected a number of hours, 0 or more")
        return value

    @property
    def slack_operator_ids(self) -> frozenset[str]:
        return _ids(self.slack_operators)

    @property
    def telegram_operator_ids(self) -> frozenset[str]:
        return _ids(self.telegram_operators)

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'coo.sqlite3'}"

    @property
    def playbook_dirs(self) -> list[Path]:
        """COO_PLAYBOOKS_DIR, then <data dir>/playbooks (where `coo import` restores them)."""
        dirs = [Path(d).expanduser() for d in self.playbooks_dir.split(os.pathsep) if d]
        restored = self.data_dir / "playbooks"
        if restored.is_dir() and any(restored.glob("*.yaml")) and restored not in dirs:
            dirs.append(restored)
        return dirs

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def sender_address(self) -> str:
        return self.from_email or "coo@localhost"

    @property
    def sender_name(self) -> str:
        name, address = parseaddr(self.sender_address)
        return name or address.split("@")[0]


def _ids(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; raises ConfigError with one line naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        message = error["msg"].removeprefix("Value error, ")
        # Aliased fields (SLACK_*, TELEGRAM_*) report the variable's own name.
        name = field if field.isupper() else f"COO_{field.upper()}"
        raise ConfigError(f"{name}: {message}") from None
