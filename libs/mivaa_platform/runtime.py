"""Process entry point shared by every service: logging, tracing, then the async main."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from mivaa_platform.config import ConfigError, ServerSettings, load_config
from mivaa_platform.logs import configure_logging
from mivaa_platform.telemetry import configure_tracing

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def log_level(prefix: str) -> str:
    """<PREFIX>_LOG_LEVEL (ServerSettings.log_level), checked: a typo stops start-up with its name."""
    level = load_config(ServerSettings, prefix).log_level.strip().upper()
    if level not in LOG_LEVELS:
        raise ConfigError(
            f"{prefix.lower()} configuration is invalid:\n  {prefix}_LOG_LEVEL: expected one of {', '.join(LOG_LEVELS)}"
        )
    return level


def run_service(label: str, main: Callable[[], Coroutine[Any, Any, int | None]], prefix: str | None = None) -> None:
    """Runs the service's async main; a non-zero status it returns becomes the process's.

    Settings are read with `prefix` (default: the label upper-cased, e.g. SEARCH)."""
    configure_logging(label, log_level(prefix or label.upper()))
    configure_tracing(label)
    status: int | None = asyncio.run(main())
    if status:
        sys.exit(status)
