"""Process entry point shared by every service: logging, tracing, then the async main."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

from mivaa_platform.logs import configure_logging
from mivaa_platform.telemetry import configure_tracing


def run_service(label: str, main: Callable[[], Awaitable[None]]) -> None:
    configure_logging(label, os.environ.get("MIVAA_LOG_LEVEL", "INFO"))
    configure_tracing(label)
    asyncio.run(main())
