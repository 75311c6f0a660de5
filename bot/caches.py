"""Where coo keeps what it can rebuild (the semantic router's example vectors)."""

from __future__ import annotations

import os
from pathlib import Path


def router_cache_dir() -> Path:
    """``COO_CACHE_DIR``/router, else the user's cache directory: embedding the router's
    examples costs about a second, once per phrasing file and embedder."""
    from platformdirs import user_cache_dir

    return Path(os.environ.get("COO_CACHE_DIR") or user_cache_dir("coo", appauthor=False)) / "router"
