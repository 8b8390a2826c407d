"""Process entry point shared by every service: logging, tracing, then the async main."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable

from mivaa_platform.logs import configure_logging
from mivaa_platform.telemetry import configure_tracing


def run_service(label: str, main: Callable[[], Awaitable[int | None]]) -> None:
    """Runs the service's async main; a non-zero status it returns becomes the process's."""
    configure_logging(label, os.environ.get("MIVAA_LOG_LEVEL", "INFO"))
    configure_tracing(label)
    status = asyncio.run(main())
    if status:
        sys.exit(status)
