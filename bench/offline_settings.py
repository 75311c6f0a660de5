"""The settings every benchmark runs coo with: offline models, no mail, UTC, every value explicit so
that the operator's own COO_* environment never leaks into a figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.settings import Settings, load_settings


def offline_settings(
    data_dir: str | Path, database_url: str | None = None, redis_url: str | None = None, **more: Any
) -> Settings:
    """``database_url`` defaults to a SQLite file in ``data_dir``; ``more`` adds settings (an embedder)."""
    return load_settings(
        database_url=database_url or f"sqlite:///{Path(data_dir) / 'coo.sqlite3'}",
        redis_url=redis_url,
        data_dir=str(data_dir),
        model_small="offline",
        model_mid="offline",
        model_large="offline",
        smtp_url=None,
        from_email=None,
        timezone="UTC",
        **more,
    )
