"""Reading a request stream ahead of the responses, in a task of its own.

A streaming RPC that works on several requests at once reads them in one task and
writes responses in the handler. The reader's end (END) or the exception that
stopped it goes on the queue the writer drains, so the writer raises it in the RPC
after the responses before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

Request = TypeVar("Request")

END = object()  # put on the writer's queue when the request stream ended cleanly


async def read_ahead(
    requests: AsyncIterator[Request], admit: Callable[[Request], Awaitable[None]], out: asyncio.Queue
) -> None:
    """Calls `admit` on each request in turn, then puts END, or the exception that stopped the reading, on `out`.

    A cancelled reader is not reported: only the writer cancels it, once it no longer reads `out`.
    """
    try:
        async for request in requests:
            await admit(request)
    except asyncio.CancelledError:
        raise
    except BaseException as exc:  # noqa: BLE001 - handed to the writer, which raises it
        out.put_nowait(exc)
        return
    out.put_nowait(END)
